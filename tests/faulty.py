"""Misbehaving servers on 127.0.0.1, for the failure and fairness tests: raw sockets, one
thread a connection, so that every client meets exactly the same bytes."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

BIG_BODY = 8 * 1024 * 1024
DRIP = b"abcdefgh"  # sent a byte at a time, DRIP_GAP apart: slow, but never silent for long
DRIP_GAP = 0.3
OK_BODY = b"ok"
CHUNKED_BODY = b"c" * 250_000


ANSWER_WAIT = 0.05  # every-other-fails: each answer after this long
_SERVED: dict[int, int] = {}  # requests answered, by server (every-other-fails)


def _answer(conn: socket.socket, mode: str, request: bytes, held: list[socket.socket]) -> None:
    path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b"/"
    if mode == "silent":  # accept, read, and never answer
        held.append(conn)
        return
    if mode == "close-mid-response":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
    elif mode == "big-body":
        # It closes after the answer, and says so: kept alive, a client's second request
        # could go out on this connection as it closes (pyreqwest's did, beside a busy core).
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {BIG_BODY}\r\nConnection: close\r\n\r\n"
        head = head.encode()
        conn.sendall(head + b"x" * BIG_BODY)
    elif mode == "drip":
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(DRIP)}\r\n\r\n".encode())
        for byte in DRIP:
            time.sleep(DRIP_GAP)
            conn.sendall(bytes([byte]))
    elif mode == "redirect" and path != b"/final":
        conn.sendall(b"HTTP/1.1 301 Moved Permanently\r\nLocation: /final\r\n")
        conn.sendall(b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    elif mode == "chunked":  # a body of CHUNKED_BODY bytes in chunks, no length said before
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for start in range(0, len(CHUNKED_BODY), 100_000):
            chunk = CHUNKED_BODY[start : start + 100_000]
            conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        conn.sendall(b"0\r\n\r\n")
    elif mode == "redirect-kept":  # its next hop on the same connection, kept alive
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n")
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    elif mode == "redirect-loop":
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /again\r\n")
        conn.sendall(b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    elif mode == "huge-header":  # more than any client reads as one header line
        head = b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n"
        conn.sendall(head + b"Content-Length: 2\r\nConnection: close\r\n\r\nok")
    elif mode == "tls":  # a plain answer, over TLS (see faulty_server's `tls`)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    elif mode == "early-hints":
        conn.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    elif mode == "every-other-fails":  # 200, 500, 200, 500 …: a server failing some
        # Each after the same wait, as the embedded server's --fail-rate: answered at once, a
        # 500 could come in under half the quickest 200's time on a busy machine, and count
        # as "sent at once" (RunState.unanswered): the test then failed by luck.
        time.sleep(ANSWER_WAIT)
        served = _SERVED[id(held)] = _SERVED.get(id(held), 0) + 1
        if served % 2:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        else:
            conn.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    elif mode in ("redirect",):  # the redirect's target
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    # close-before-answer: nothing at all
    conn.close()


def _handle(
    conn: socket.socket, mode: str, held: list[socket.socket], tls: ssl.SSLContext | None
) -> None:
    try:
        conn.settimeout(5)
        if tls is not None:  # a client that does not trust it hangs up in the handshake
            conn = tls.wrap_socket(conn, server_side=True)
        request = conn.recv(65536)  # the request; only its path matters here
        _answer(conn, mode, request, held)
    except OSError:  # ssl.SSLError too
        conn.close()


@contextmanager
def listening(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A listener on 127.0.0.1 whose every connection `handle` takes, in a thread of its
    own; yields its port, and stops accepting afterwards (tests/proxy.py's too)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@contextmanager
def faulty_server(mode: str, tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Yield the URL of a server that misbehaves in the given way; stop it afterwards.
    `tls`: serve HTTPS with this server context."""
    held: list[socket.socket] = []
    try:
        with listening(lambda conn: _handle(conn, mode, held, tls)) as port:
            yield f"{'https' if tls is not None else 'http'}://127.0.0.1:{port}/"
    finally:
        for conn in held:
            conn.close()
