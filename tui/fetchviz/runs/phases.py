"""Inside each request: when it connected, finished its TLS handshake, was sent, got its
first byte; and whether it reused a connection. Installed in the run's process only.

Each client reports what it can: httpx (httpcore) through the `trace` request extension it
offers for the purpose; aiohttp and requests (urllib3) through a few of their methods,
wrapped (aiohttp's TraceConfig costs every request a dozen awaited signals; urllib3 has no
hook); curl_cffi through libcurl's own timings. They are added to every session and client
made in the run's process, so a user's own strategy is timed like a built-in. The request
they belong to is the one `job.fetching(i)` opened in the same task or thread (a ContextVar).

What a client cannot say stays None, never guessed (pyreqwest says nothing of the inside).
"""

from __future__ import annotations

import functools
import time
from contextvars import ContextVar
from typing import Any


class Marks:
    """The moments of one request, stamped with perf_counter() as they happen."""

    __slots__ = ("answers", "connect_start", "connected", "headers", "secured", "sent", "tls_known")

    def __init__(self) -> None:
        self.connect_start: float | None = None  # began opening a connection of its own
        self.connected: float | None = None  # TCP up (and TLS too, where tls_known is False)
        self.tls_known = True  # the client tells TCP and TLS apart (a traced aiohttp does not)
        self.secured: float | None = None  # TLS handshake done
        self.sent: float | None = None  # a connection in hand: the request goes out
        self.headers: float | None = None  # the answer's headers are in
        self.answers = 0  # responses seen: more than one is a redirect followed

    @property
    def reused(self) -> bool | None:
        """True: an open connection served it; False: it opened one; None: nothing known."""
        if self.connect_start is not None:
            return False
        return True if self.sent is not None else None

    def phases(self, start: float, end: float, https: bool) -> tuple[float | None, ...] | None:
        """Seconds per phase (PHASES), from the fetch's start to its end, each None where not
        known; None: the client said nothing at all (not one of the three)."""
        if self.sent is None and self.connect_start is None:
            return None
        opened = self.connect_start is not None
        ready = self.secured or self.connected if opened else self.sent
        wait = (self.connect_start if opened else self.sent) or start
        connect = tls = 0.0 if not opened else None
        if opened and self.connected is not None and self.connect_start is not None:
            connect = self.connected - self.connect_start
            if not https:
                tls = 0.0
            elif self.tls_known and self.secured is not None:
                tls = self.secured - self.connected
        first_byte = None
        if self.headers is not None and ready is not None:
            first_byte = self.headers - ready
        receive = end - self.headers if self.headers is not None else None
        if self.answers > 1:  # redirected: which connection, which handshake, is not told apart
            connect = tls = first_byte = None
        return (wait - start, connect, tls, first_byte, receive)


CURRENT: ContextVar[Marks | None] = ContextVar("fetchviz_request", default=None)
_connections = 0  # opened in this process
_observed = False  # some client of the three reported something


def connections() -> int | None:
    """How many connections the run's process has opened so far; None where no client that
    fetchviz times was used (a user's strategy with another client): not known, not 0."""
    return _connections if _observed else None


def _opened() -> None:
    global _connections
    _connections += 1


def _stamp(name: str, first: bool = True) -> None:
    global _observed
    _observed = True
    marks = CURRENT.get()
    if marks is not None and (not first or getattr(marks, name) is None):
        setattr(marks, name, time.perf_counter())
        if name == "headers":
            marks.answers += 1


# aiohttp: plain functions wrapped, not a TraceConfig and not its coroutines. With any trace
# config, aiohttp builds a Trace per request and awaits a signal at each of a dozen steps of
# every request, hooked or not. A coroutine wrapper is resumed each time the request's task
# is: four of them (connect, socket, connection, answer) cost a 1,000-request run 3–5 % of
# its CPU (docs/performance.md); these cost a line or two a request. Like requests' and
# httpx's, a redirected request's phases are not told apart: each hop's answer counts. A
# request through a proxy counts the proxy's answer to CONNECT as one more (its phases: None).


def _install_aiohttp() -> None:
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.connector import TCPConnector

    create = TCPConnector._create_connection  # private: tests/test_phases.py holds it
    tcp_init = TCPConnector.__init__
    expect = ResponseHandler.set_response_params
    feed = ResponseHandler.feed_data
    made = ResponseHandler.connection_made

    @functools.wraps(create)
    def create_connection(self: Any, *args: Any, **kwargs: Any) -> Any:
        # A plain function: the coroutine it returns is awaited at once. _stamp("connect_start")
        # inlined, as _opened() is in _opened_over_tcp: a fetchviz aiohttp run went from
        # 1,090,985 to 1,085,963 instructions a request (callgrind, N = 200 against 1,000).
        global _observed
        _observed = True
        marks = CURRENT.get()
        if marks is not None and marks.connect_start is None:
            marks.connect_start = time.perf_counter()
        return create(self, *args, **kwargs)

    @functools.wraps(tcp_init)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        tcp_init(self, *args, **kwargs)
        self._factory = functools.partial(_opened_over_tcp, self._factory)

    @functools.wraps(expect)
    def set_response_params(self: Any, *args: Any, **kwargs: Any) -> None:
        # A connection in hand, new or reused: the request goes out now. Only on a TCP
        # connector's: another's new connection would read as reused (its opening untimed).
        expect(self, *args, **kwargs)
        if self._fvz_tcp:
            marks = CURRENT.get()
            if marks is not None:
                if marks.sent is None:
                    marks.sent = time.perf_counter()
                self._fvz_answer = marks  # the answer it reads next is this request's

    @functools.wraps(feed)
    def feed_data(self: Any, data: Any, *args: Any) -> None:
        feed(self, data, *args)  # an answer's headers, parsed: (message, payload)
        marks = self._fvz_answer
        if marks is not None and (data[0].code >= 200 or data[0].code == 101):  # not a 1xx
            marks.headers = time.perf_counter()  # the last answer's: a redirect's, say
            marks.answers += 1
            self._fvz_answer = None

    @functools.wraps(made)
    def connection_made(self: Any, transport: Any) -> None:
        made(self, transport)  # over TLS, once the handshake is done (asyncio's sslproto)
        marks = self._fvz_opener
        if marks is not None:
            self._fvz_opener = None
            if marks.secured is None:
                marks.secured = time.perf_counter()

    # Read as attributes, never through __dict__: asking a protocol for its __dict__ turns its
    # attributes' inline values into a dict for the rest of its life, and every attribute
    # aiohttp reads on it got slower: 1,000 requests with phases went from 1,034,307 to
    # 1,008,036 instructions a request (957,247 without phases; callgrind, counted as
    # benchmarks/trace_instructions.py counts).
    ResponseHandler._fvz_tcp = False  # type: ignore[attr-defined]
    ResponseHandler._fvz_answer = None  # type: ignore[attr-defined]
    ResponseHandler._fvz_opener = None  # type: ignore[attr-defined]
    TCPConnector._create_connection = create_connection  # type: ignore[method-assign]
    TCPConnector.__init__ = init  # type: ignore[method-assign]
    ResponseHandler.set_response_params = set_response_params  # type: ignore[method-assign]
    ResponseHandler.feed_data = feed_data  # type: ignore[method-assign,assignment]
    ResponseHandler.connection_made = connection_made  # type: ignore[method-assign]


def _opened_over_tcp(factory: Any) -> Any:
    """A TCP connector's new connection's protocol: asyncio makes it the moment the socket is
    connected, before any TLS handshake, so TCP and TLS are timed apart."""
    global _observed, _connections
    _observed = True
    protocol = factory()
    protocol._fvz_tcp = True
    marks = CURRENT.get()
    if marks is None:
        _connections += 1
    elif marks.connected is None:  # not a proxy's tunnel, made on the connection it opened
        _connections += 1
        marks.connected = time.perf_counter()
        protocol._fvz_opener = marks  # its connection_made: secured
    return protocol


# httpx: httpcore's `trace` extension, set on every request by an event hook.

_HTTPCORE = {
    "connection.connect_tcp.started": ("connect_start", True),
    "connection.connect_tcp.complete": ("connected", True),
    "connection.start_tls.complete": ("secured", True),
    "http11.send_request_headers.started": ("sent", True),
    "http2.send_request_headers.started": ("sent", True),
    "http11.receive_response_headers.complete": ("headers", False),
    "http2.receive_response_headers.complete": ("headers", False),
}


def _on_httpcore(name: str) -> None:
    what = _HTTPCORE.get(name)
    if what is not None:
        if name == "connection.connect_tcp.complete":
            _opened()
        _stamp(*what)


async def _atrace(name: str, info: dict[str, Any]) -> None:
    _on_httpcore(name)


def _trace(name: str, info: dict[str, Any]) -> None:
    _on_httpcore(name)


async def _ahook(request: Any) -> None:
    request.extensions["trace"] = _atrace


def _hook(request: Any) -> None:
    request.extensions["trace"] = _trace


def _with_hook(cls: Any, hook: Any) -> None:
    """Every client of `cls` made from now on sets the trace extension on its requests."""
    original = cls.__init__

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.event_hooks["request"].append(hook)

    cls.__init__ = init


def _install_httpx() -> None:
    import httpx

    _with_hook(httpx.AsyncClient, _ahook)
    _with_hook(httpx.Client, _hook)


# requests: urllib3's connection class, wrapped (it offers no hook for this).


def _install_urllib3() -> None:
    from urllib3.connection import HTTPConnection, HTTPSConnection

    def wrap(
        name: str, before: str | None, after: str | None, first: bool = True, cls: Any = None
    ) -> None:
        cls = cls or HTTPConnection
        original = getattr(cls, name)

        @functools.wraps(original)
        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            if before:
                _stamp(before, first)
            result = original(self, *args, **kwargs)
            if after:
                _stamp(after, first)
            return result

        setattr(cls, name, timed)

    original_new_conn = HTTPConnection._new_conn

    @functools.wraps(original_new_conn)
    def new_conn(self: Any) -> Any:  # the TCP connection itself (connect() adds TLS)
        _stamp("connect_start")
        sock = original_new_conn(self)
        _opened()
        _stamp("connected")
        return sock

    HTTPConnection._new_conn = new_conn  # type: ignore[method-assign]
    wrap("connect", None, "secured")  # done: TCP, and TLS where it is HTTPS
    wrap("connect", None, "secured", cls=HTTPSConnection)  # its own, with the handshake
    wrap("request", "sent", None)  # a new HTTP connection opens inside: `sent` comes first
    wrap("getresponse", None, "headers", first=False)


# httpx2 (pydantic's): httpcore2 offers the same `trace` extension, with async callbacks only
# on its AsyncClient (a plain function there raises TypeError).


def _install_httpx2() -> None:
    import httpx2

    _with_hook(httpx2.AsyncClient, _ahook)
    _with_hook(httpx2.Client, _hook)


# curl_cffi: libcurl times every transfer itself (CURLINFO_*_TIME_T, microseconds from the
# transfer's start, cumulative): read as each response is parsed, and stamped on its request,
# placed back from that moment. Read straight from libcurl, not through `Curl.getinfo` nor the
# session's `curl_infos`: getinfo builds two dicts and a buffer each call (1.6 µs, timeit), and
# six more a request made a 1,000-request curl-cffi run cost 1.066× its own code unrecorded in
# instructions (benchmarks/instructions.py). Private API (the session's _parse_response, the
# handle's _curl, curl_cffi._wrapper): curl-cffi is pinned below 0.18, and tests/test_clients.py
# holds it (every client's TLS phase).

_CURL_TIMES: tuple[int, ...] = ()  # the CURLINFO_*_TIME_T read, in the order _stamp_curl takes
_CURL_CONNECTS = 0  # CURLINFO_NUM_CONNECTS: 1 it opened a connection, 0 it reused one


def _install_curl_cffi() -> None:
    global _CURL_TIMES, _CURL_CONNECTS
    from curl_cffi import CurlInfo
    from curl_cffi._wrapper import ffi, lib
    from curl_cffi.requests.session import BaseSession

    _CURL_TIMES = (
        CurlInfo.CONNECT_TIME_T,  # TCP up (after the name lookup)
        CurlInfo.APPCONNECT_TIME_T,  # TLS done (0 over HTTP)
        CurlInfo.PRETRANSFER_TIME_T,  # about to send
        CurlInfo.STARTTRANSFER_TIME_T,  # the first byte of the answer
        CurlInfo.TOTAL_TIME_T,
    )
    _CURL_CONNECTS = CurlInfo.NUM_CONNECTS
    getinfo = lib.curl_easy_getinfo
    parse = BaseSession._parse_response

    @functools.wraps(parse)
    def _parse_response(self: Any, curl: Any, *args: Any, **kwargs: Any) -> Any:
        response = parse(self, curl, *args, **kwargs)
        marks = CURRENT.get()
        # Only an answer's: a failed transfer's times are not to be trusted (a refused
        # connection reports a first byte at 168 µs).
        if marks is not None and response.status_code and curl._curl is not None:
            now = time.perf_counter()
            handle, value, count = curl._curl, ffi.new("int64_t *"), ffi.new("long *")
            times = []
            for info in _CURL_TIMES:
                getinfo(handle, info, value)
                times.append(value[0])
            getinfo(handle, _CURL_CONNECTS, count)
            _stamp_curl(marks, now, times, count[0], response.redirect_count)
        return response

    BaseSession._parse_response = _parse_response  # type: ignore[method-assign]


def _stamp_curl(marks: Marks, now: float, times: list[int], opened: int, redirects: int) -> None:
    """Stamp libcurl's times (µs from the transfer's start, 0 for TLS over HTTP) on the
    request, the transfer's end being `now`."""
    global _observed
    _observed = True
    connect, secured, pretransfer, first_byte, total = times
    begin = now - total / 1e6  # the transfer's start, on our clock
    if opened:
        _opened()
        marks.connect_start = begin
        marks.connected = begin + connect / 1e6
        if secured:
            marks.secured = begin + secured / 1e6
    marks.sent = begin + pretransfer / 1e6
    marks.headers = begin + first_byte / 1e6
    marks.answers = 1 + int(redirects or 0)


def install() -> None:
    """Time every request this process makes, through each client's own means."""
    _install_aiohttp()
    _install_httpx()
    _install_urllib3()


_OPTIONAL = {"httpx2": _install_httpx2, "curl_cffi": _install_curl_cffi}
_installed: set[str] = set()


def install_loaded() -> None:
    """The clients of 'fetchviz[clients]' that the run's code imported (theirs, or a user's
    file): timed too, without importing one that nothing asked for. (pyreqwest tells nothing
    of what happens inside a request: its phases stay None.)"""
    import sys

    for name, install_one in _OPTIONAL.items():
        if name in sys.modules and name not in _installed:
            _installed.add(name)
            install_one()
