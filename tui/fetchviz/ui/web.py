"""`fetchviz web`: the dashboard in a browser, through textual-serve. Each browser tab's
websocket gets a dashboard process of its own; closing the tab quits it, and so does stopping
the command (Ctrl+C, SIGTERM, SIGHUP), which leaves no process behind.

textual-serve runs a shell command per tab, speaks to it over its stdin and stdout, and on a
closed tab asks it to quit. What it does not do, this module adds: a socket bound before
serving (port 0 picks a free one, and the URL printed is the one listened on), tabs quit when
the command stops (aiohttp would wait for them to close), dashboards that die with this
process even if it is killed, no dashboard for another site's page, and a page served whole
from this machine, titled, that asks no other host for anything (a stage may have no network).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import ipaddress
import os
import re
import shlex
import signal
import socket
import sys
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server

from fetchviz.runs import tuning
from fetchviz.runs.server import bind, listen_error, reach_warning

# How long stopping waits for each tab's dashboard to quit (it stops its latency server and
# kills its run: well under a second) before leaving the rest to the kernel (die_with_parent).
QUIT_GRACE_S = 5.0

_STOP_SIGNALS = [  # a closed terminal (SIGHUP) stops it too
    signum
    for name in ("SIGINT", "SIGTERM", "SIGHUP")
    if (signum := getattr(signal, name, None)) is not None
]


# The page leaves the terminal unfocused: keys pressed before a click would go nowhere. On
# stage, the first key must work.
FOCUS_ON_LOAD = """<script>
window.addEventListener("load", () => {
  const focus = () => document.querySelector(".xterm-helper-textarea")?.focus();
  focus();
  setTimeout(focus, 300);
});
</script>"""

# textual-serve's page asks Google Fonts for its typeface, Roboto Mono: on a stage with no
# network the browser waits for it before falling back. textual-serve ships the font in its
# statics; the page takes it from there, and nothing it asks for leaves this machine. The
# preload holds the page's load event, on which the terminal measures its cells, until the
# font is in: cells are measured with it, not with a fallback.
GOOGLE_FONTS = re.compile(r'<link[^>]*\bhref="https://fonts\.googleapis\.com/[^>]*>')
FONT = "fonts/RobotoMono-VariableFont_wght.ttf"
LOCAL_FONT = """<link rel="preload" href="{url}" as="font" type="font/ttf" crossorigin>
    <style>
      @font-face {{
        font-family: "Roboto Mono";
        src: local("Roboto Mono"), url("{url}") format("truetype");
        font-weight: 100 700;
      }}
    </style>"""
NO_ICON = '<link rel="icon" href="data:,">'  # the browser would ask for /favicon.ico: a 404


def whole_page(page: str, title: str, font_url: str) -> str:
    """textual-serve's page with a title, its typeface from this machine and the terminal
    focused on load."""
    page = page.replace("<head>", f"<head>\n    <title>{html.escape(title)}</title>{NO_ICON}", 1)
    local = LOCAL_FONT.format(url=html.escape(font_url))
    page = GOOGLE_FONTS.sub(lambda _: local, page, count=1)
    return page.replace("</body>", FOCUS_ON_LOAD + "</body>", 1)


def dashboard_command(dashboard_args: list[str], parent: int) -> str:
    """The shell command textual-serve runs for a tab: `fetchviz` with the dashboard's options.

    On Linux it first asks the kernel to kill it when `parent` goes, however it goes; `exec`
    makes `parent` its parent (no shell between). Elsewhere die_with_parent would read stdin,
    which here carries the browser's keys, so the dashboard only quits when asked.
    """
    if sys.platform == "linux":
        code = (
            f"from fetchviz.runs.procs import die_with_parent; die_with_parent({parent}); "
            "from fetchviz.cli import entry; entry()"
        )
        python = [sys.executable, "-P", "-c", code]
    else:
        python = [sys.executable, "-P", "-m", "fetchviz"]
    return "exec " + shlex.join([*python, *dashboard_args])


def url_of(sock: socket.socket) -> str:
    """The address to open: the one listened on, or this machine's name for a wildcard."""
    host, port = sock.getsockname()[:2]
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_unspecified:
            host = socket.gethostname()
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(Server):
    """textual-serve's server, with its tabs kept track of so that stopping can quit them."""

    def __init__(self, command: str, title: str) -> None:
        super().__init__(command, title=title)
        self.tabs: set[asyncio.Task[Any]] = set()

    async def on_startup(self, app: web.Application) -> None:
        """run_web prints the one line that matters, the URL, instead of a banner."""

    async def handle_index(self, request: web.Request) -> Any:
        """Point the page's websocket at the address the browser used, whatever it was."""
        # textual-serve reads it before its first await: no other request comes between.
        self.public_url = f"{request.scheme}://{request.host}"
        page = await super().handle_index(request)
        if isinstance(page, web.Response) and page.text:
            font = request.app.router["static"].url_for(filename=FONT)
            page.text = whole_page(page.text, self.title, str(font))
        return page

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """A tab: refused to other sites' pages (a websocket is not bound by the same-origin
        policy, and each one starts a process), else its own dashboard."""
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            raise web.HTTPForbidden(text="fetchviz web: a page of another site")
        task = asyncio.current_task()
        assert task is not None
        self.tabs.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self.tabs.discard(task)


async def _serve(server: _Server, sock: socket.socket, url: str) -> None:
    # _make_app is textual-serve's own (a leading underscore): pinned below its next major,
    # and tests/test_web.py fails if it goes. Its serve() cannot take a bound socket.
    runner = web.AppRunner(
        await server._make_app(), handle_signals=False, access_log=None, shutdown_timeout=1.0
    )
    await runner.setup()
    stop = asyncio.Event()
    undo = [tuning.on_signal(signum, stop.set) for signum in _STOP_SIGNALS]
    try:
        await web.SockSite(runner, sock).start()
        print(f"fetchviz web: open {url} in a browser (Ctrl+C to stop)", flush=True)
        await stop.wait()
        # Each tab, cancelled, asks its dashboard to quit and waits for it to go.
        for task in server.tabs:
            task.cancel()
        if server.tabs:
            await asyncio.wait(server.tabs, timeout=QUIT_GRACE_S)
    finally:
        for one in undo:
            one()
        await runner.cleanup()


def run_web(host: str, port: int, dashboard_args: list[str]) -> int:
    """Serve a dashboard per browser tab on host:port until Ctrl+C or SIGTERM; 0 then, 2 with
    a one-line reason if it cannot listen."""
    try:
        sock = bind(host, port)
    except OSError as exc:
        print(listen_error("fetchviz web", host, port, exc), file=sys.stderr)
        return 2  # the address or port given: a bad command line
    if warning := reach_warning("fetchviz web", host):
        print(f"{warning}: anyone who reaches it can start dashboards here", file=sys.stderr)
    title = "fetchviz tour" if dashboard_args[:1] == ["tour"] else "fetchviz"
    server = _Server(dashboard_command(dashboard_args, os.getpid()), title)
    with sock:
        asyncio.run(_serve(server, sock, url_of(sock)))
    return 0
