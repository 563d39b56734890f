"""An HTTP proxy on 127.0.0.1 that tunnels CONNECT only, as a client's HTTPS_PROXY would be:
raw sockets, two threads a tunnel."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from faulty import listening


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def _tunnel(client: socket.socket) -> None:
    try:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        host, _, port = head.split(b" ", 2)[1].decode().rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=10)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        _pipe(client, upstream)
    except OSError:
        client.close()


@contextmanager
def connect_proxy() -> Iterator[str]:
    """Yield the proxy's URL (http://127.0.0.1:PORT); stop it afterwards."""
    with listening(_tunnel) as port:
        yield f"http://127.0.0.1:{port}"
