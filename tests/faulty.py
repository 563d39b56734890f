"""Misbehaving servers on 127.0.0.1, for the failure tests: each a thread with a raw socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BIG_BODY = 8 * 1024 * 1024


def _serve(listener: socket.socket, mode: str, stop: threading.Event) -> None:
    held: list[socket.socket] = []
    listener.settimeout(0.1)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            break
        try:
            conn.settimeout(2)
            conn.recv(65536)  # the request; its content does not matter here
            if mode == "silent":  # accept, read, and never answer
                held.append(conn)
                continue
            if mode == "close-before-answer":
                pass
            elif mode == "close-mid-response":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
            elif mode == "big-body":
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {BIG_BODY}\r\n\r\n".encode()
                conn.sendall(head + b"x" * BIG_BODY)
            conn.close()
        except OSError:
            conn.close()
    for conn in held:
        conn.close()


@contextmanager
def faulty_server(mode: str) -> Iterator[str]:
    """Yield the URL of a server that misbehaves in the given way; stop it afterwards."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    stop = threading.Event()
    thread = threading.Thread(target=_serve, args=(listener, mode, stop), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(5)
        listener.close()
