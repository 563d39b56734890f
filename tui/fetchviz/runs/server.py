"""The embedded latency server: answers GET /delay/{ms} after that many milliseconds.

It runs in a child process of its own (uvicorn on a socket the parent bound), so that it
never competes with the dashboard for the GIL, and demos need no network.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import http.client
import ipaddress
import json
import os
import random
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fetchviz.runs.certs import SessionCerts
from fetchviz.runs.procs import Child, die_with_parent, raise_open_file_limit

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_DELAY_MS = 600_000
# How long an idle keep-alive connection stays open. It must outlast every client's own idle
# expiry, or a client reuses a connection the server is closing at that very moment and the
# request fails ("server closed the connection"). uvicorn's default (5 s) equals httpx's
# keepalive_expiry (5 s): the two raced. aiohttp expires at 15 s; urllib3's pools never do.
# An hour outlasts any run (--timeout is at most an hour); a client that dies takes its
# connections with it (the kernel closes them), so none pile up.
KEEP_ALIVE_S = 3600
# /delay/{ms}, and any path under it (a program that adds its own to $FETCHVIZ_URL: /page/3)
_DELAY_PATH = re.compile(r"/delay/(\d{1,7})(?:/.*)?")


def is_loopback(host: str) -> bool:
    """Only this machine can reach it: 127.0.0.0/8, ::1 or localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def reach_warning(prog: str, host: str) -> str | None:
    """The line to print when `host` lets other machines in (as `fetchviz serve` says it)."""
    if is_loopback(host):
        return None
    return f"{prog}: warning: listening on {host}, reachable beyond this machine"


def listen_error(prog: str, host: str, port: int, exc: OSError) -> str:
    """Why it cannot listen, and which of the two to change: the address or the port."""
    if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(exc, socket.gaierror):
        advice = "it is not an address of this machine; try --host 127.0.0.1"
    else:
        advice = "try another --port (0 picks a free one)"
    return f"{prog}: cannot listen on {host}:{port}: {exc.strerror or exc}; {advice}"


def make_app(delay_ms: int = 500, jitter_ms: int = 0, fail_rate: float = 0.0) -> ASGIApp:
    """The latency endpoints and nothing else: GET / waits delay_ms, GET /delay/{ms} (and any
    path under it) waits ms."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, b"only GET\n")
            return
        path = scope["path"]
        match = _DELAY_PATH.fullmatch(path)
        if path == "/":
            ms = delay_ms
        elif match and int(match.group(1)) <= MAX_DELAY_MS:
            ms = int(match.group(1))
        elif match:  # a delay past the most: said, with the most (it was "try GET /delay/{ms}")
            await _answer(send, 404, f"the most is GET /delay/{MAX_DELAY_MS}\n".encode())
            return
        else:
            await _answer(send, 404, b"try GET /delay/{ms}\n")
            return
        slept = ms + (random.uniform(0, jitter_ms) if jitter_ms else 0.0)
        await asyncio.sleep(slept / 1000)
        if fail_rate and random.random() < fail_rate:
            await _answer(send, 500, b"injected failure\n")
            return
        await _answer(send, 200, json.dumps({"ms": round(slept)}).encode())

    return app


async def _answer(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    return sock


def serve(sock: socket.socket, app: ASGIApp, tls: tuple[str, str] | None = None) -> None:
    """Serve on an already bound socket until SIGINT/SIGTERM; HTTPS with `tls` (the
    certificate chain and key files)."""
    import uvicorn

    raise_open_file_limit()
    # http and loop "auto": httptools and uvloop, installed with fetchviz. The server shares
    # the cores with the run it serves; with them, 1,000 requests cost it 0.26 s of CPU
    # instead of 0.58 s (pure-Python h11 on asyncio's loop), and a run measures its client,
    # not the server. Without them (uvloop has no Windows build), uvicorn falls back.
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        backlog=4096,
        timeout_keep_alive=KEEP_ALIVE_S,
        http="auto",
        loop="auto",
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )
    uvicorn.Server(config).run(sockets=[sock])


class EmbeddedServer:
    """The latency server as a child process, bound to 127.0.0.1 on a free port.

    The parent binds the socket (so the port is known at once and cannot be taken) and hands
    it to the child. The child dies with the parent however the parent ends, even by SIGKILL
    (procs.die_with_parent): start it from the main thread.
    """

    def __init__(
        self, delay_ms: int = 500, jitter_ms: int = 0, fail_rate: float = 0.0, tls: bool = False
    ) -> None:
        self.delay_ms = delay_ms
        self.jitter_ms = jitter_ms
        self.fail_rate = fail_rate
        self.port = 0
        self._child: Child | None = None
        # HTTPS (--tls): a certificate made for this session, from a CA made for it too.
        self.certs = SessionCerts.make() if tls else None

    @property
    def cacert(self) -> str | None:
        """The CA file a client must trust to reach it over HTTPS; None over HTTP."""
        return self.certs.ca if self.certs else None

    @property
    def base_url(self) -> str:
        return f"{'https' if self.certs else 'http'}://127.0.0.1:{self.port}"

    def url(self, delay_ms: int | None = None) -> str:
        return f"{self.base_url}/delay/{self.delay_ms if delay_ms is None else delay_ms}"

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.running()

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child else None

    def start(self) -> None:
        """Spawn the child; returns at once. `wait_ready()` waits until it answers."""
        sock = bind("127.0.0.1", self.port)  # a restart takes the same port again
        self.port = sock.getsockname()[1]
        settings = json.dumps(
            {
                "fd": sock.fileno(),
                "delay": self.delay_ms,
                "jitter": self.jitter_ms,
                "fail_rate": self.fail_rate,
                "tls": [self.certs.cert, self.certs.key] if self.certs else None,
            }
        )
        try:
            self._child = Child(
                "fetchviz.runs.server",
                settings,
                stdout=subprocess.DEVNULL,
                pass_fds=(sock.fileno(),),
            )
        finally:
            sock.close()

    def restart(self) -> None:
        """Start it again on the same port, after it died; returns at once."""
        self.stop()
        self.start()

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Block until GET /delay/0 answers (any status: --fail-rate 1 is a server too)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            child = self._child
            if child is None or not child.running():
                reason = child.why_it_stopped() if child else "it was stopped"
                raise RuntimeError(f"the embedded server did not start: {reason}")
            conn = (
                http.client.HTTPSConnection(
                    "127.0.0.1",
                    self.port,
                    timeout=1,
                    context=ssl.create_default_context(cafile=self.certs.ca),
                )
                if self.certs
                else http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            )
            try:
                conn.request("GET", "/delay/0")
                conn.getresponse()
                return
            except OSError:
                time.sleep(0.02)
            finally:
                conn.close()
        self.stop()
        raise RuntimeError(f"the embedded server did not answer within {timeout:g} s")

    def kill(self) -> None:
        """Send the kill now, wait for nothing: its sockets close while we shut down too."""
        if self._child is not None:
            self._child.kill()

    def stop(self) -> None:
        """Kill it: it is stateless, so there is nothing to drain."""
        child, self._child = self._child, None
        if child is not None:
            child.kill()
            # Killed, but the kernel may still be closing its 10,000 sockets. Quitting does not
            # wait for that: once we exit, init reaps it.
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=1)
            if child.proc.returncode is not None:
                child.close()

    def close(self) -> None:
        """Stop it for good: its session certificate goes too."""
        self.stop()
        if self.certs is not None:
            self.certs.remove()

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _child_main(settings_json: str) -> None:
    die_with_parent(os.getppid())
    settings = json.loads(settings_json)
    sock = socket.socket(fileno=settings["fd"])
    tls = tuple(settings["tls"]) if settings["tls"] else None
    serve(sock, make_app(settings["delay"], settings["jitter"], settings["fail_rate"]), tls)


if __name__ == "__main__":
    _child_main(sys.argv[1])
