"""Short human reasons for failed fetches, whichever client raised them."""

from __future__ import annotations

import errno
import re
import socket
import ssl
from collections.abc import Iterator

# Matched against the class names in an exception's chain, so that requests (urllib3), httpx
# (httpcore) and aiohttp are read alike without importing their exception trees here.
_MID_RESPONSE = ("ChunkedEncodingError", "IncompleteRead", "ClientPayloadError", "ContentLength")
_DISCONNECTED = ("RemoteDisconnected", "ServerDisconnected", "RemoteProtocolError")
_NAME_LOOKUP = ("NameResolution", "DNSError", "ConnectorDNSError")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and every exception it wraps: causes, contexts, and urllib3's `reason`."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < 32:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for inner in (
            current.__cause__,
            current.__context__,
            getattr(current, "reason", None),
            getattr(current, "os_error", None),
            *current.args,
        ):
            if isinstance(inner, BaseException):
                todo.append(inner)


# The newer clients say what happened in words, not classes: pyreqwest (Rust's reqwest and
# hyper) in its error's `details["causes"]`, curl_cffi (libcurl) in its message. Matched on
# those words, lowercased, to the same reasons the others get.
_WORDS = (
    # libcurl's "(7) failed to open socket: Too many open files": before its "(7)"'s others.
    (("too many open files",), "too many open files: lower --limit"),
    (
        ("connection refused", "couldn't connect to server", "could not connect to server"),
        "connection refused",
    ),
    (("dns error", "could not resolve host", "failed to lookup address"), "host not found"),
    (("too many redirects", "maximum (", "redirects followed"), "too many redirects"),
    (("a value or data field grew larger",), "response header too large"),
    (
        ("transfer closed with", "end of file before message length", "unexpected eof"),
        "connection closed mid-response",
    ),
    (
        ("empty reply from server", "connection closed before message completed", "reset by"),
        "server closed the connection",
    ),
)
# libcurl: "SSL certificate problem: …", or BoringSSL's "… verify result: … (20)".
_CURL_VERIFY = re.compile(r"(?:ssl certificate problem|verify result): (?P<detail>[^.(|]+)")
# rustls names an untrusted issuer in its own words; said as OpenSSL says it, as the others do.
_UNTRUSTED = {"unknownissuer": "unable to get local issuer certificate"}


def _words(chain: list[BaseException]) -> str:
    texts = [str(e) for e in chain]
    for e in chain:
        details = getattr(e, "details", None)
        if isinstance(details, dict):
            causes = details.get("causes") or []
            texts += [str(c.get("message", "")) for c in causes if isinstance(c, dict)]
    return " | ".join(texts).lower()


def _worded(chain: list[BaseException], max_redirects: int) -> str | None:
    words = _words(chain)
    for phrases, reason in _WORDS:
        if any(phrase in words for phrase in phrases):
            return f"{reason} ({max_redirects})" if reason == "too many redirects" else reason
    if "certificate" in words and ("verify" in words or "invalid peer" in words):
        detail = next((text for key, text in _UNTRUSTED.items() if key in words), None)
        if detail is None and (said := _CURL_VERIFY.search(words)):
            detail = said["detail"].strip()
        detail = detail or "the certificate is not trusted"
        return f"certificate verify failed: {detail} (try --cacert)"
    return None


# libcurl's low-speed limit, its words: "Less than 1 bytes/sec transferred the last 2 seconds".
_CURL_TOO_SLOW = re.compile(r"transferred the last (\d+) seconds")


def describe(exc: BaseException, timeout: float, max_redirects: int) -> str:
    """A reason short enough for a table cell: 'connection refused', 'timed out: no data for
    2 s' (the timeout is a limit on silence, not a deadline: see Job)."""
    chain = list(_chain(exc))
    # Own class names only: urllib3's NewConnectionError descends from ConnectTimeoutError.
    names = [type(e).__name__ for e in chain]

    def named(*parts: str) -> bool:
        return any(part in name for name in names for part in parts)

    if any(isinstance(e, OSError) and e.errno == errno.EMFILE for e in chain):
        return "too many open files: lower --limit"
    if named("LineTooLong") or any(
        ("more than" in str(e) and "bytes" in str(e)) or "buffer too long" in str(e).lower()
        for e in chain
    ):  # http.client's LineTooLong, aiohttp's "Got more than 8190 bytes", h11's (httpx)
        return "response header too large"
    if named("TooManyRedirects"):  # requests, httpx and aiohttp all name it so
        return f"too many redirects ({max_redirects})"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection refused"
    if named(*_NAME_LOOKUP) or any(isinstance(e, socket.gaierror) for e in chain):
        return "host not found"
    slow = next((found for e in chain if (found := _CURL_TOO_SLOW.search(str(e)))), None)
    if slow is not None:  # libcurl's limit on silence is whole seconds: the one it kept
        return f"timed out: no data for {slow[1]} s (libcurl counts whole seconds)"
    if named("Timeout") or any(isinstance(e, TimeoutError) for e in chain):
        return f"timed out: no data for {timeout:g} s"
    if named(*_MID_RESPONSE) or any(
        "incomplete" in str(e).lower() or "complete message body" in str(e) for e in chain
    ):
        return "connection closed mid-response"
    # A reset and a close before any answer are the same thing to the user: the server hung up.
    if named(*_DISCONNECTED) or any(
        isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError))
        for e in chain
    ):
        return "server closed the connection"
    # The client's own words ("certificate verify failed: self-signed certificate"), from the
    # SSL error itself: aiohttp's wrapper is one too, without them.
    verify = [e for e in chain if isinstance(e, ssl.SSLCertVerificationError)]
    if verify:
        details = [getattr(e, "verify_message", None) for e in verify]
        detail = next((d for d in details if d), "the certificate is not trusted")
        return f"certificate verify failed: {detail} (try --cacert)"
    if any(isinstance(e, ssl.SSLError) for e in chain):
        return "TLS error"
    worded = _worded(chain, max_redirects)
    if worded is not None:
        return worded
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return reason if len(reason) <= 60 else reason[:59] + "…"
