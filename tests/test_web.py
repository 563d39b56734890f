"""`fetchviz web` end to end: a real headless Chromium loads the page, a tab drives its own
dashboard through textual-serve's websocket, and no process outlives its tab or the command;
the page is titled, and everything it asks for comes from the machine that serves it.

What the page shows is read from what it received: the terminal output in the websocket's
frames, as the browser reports them (Playwright's `framereceived`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TASKS = 10
ESCAPE = re.compile(r"\x1b(?:\[[0-9;?<>=]*[ -/]*[@-~]|[@-_])")  # CSI sequences, then the rest
WAIT_MS = 90_000  # generous: two dashboards and a browser share 2 cores with other tests
ROBOTO_MONO_LOADED = """[...document.fonts].some(
  (face) => face.family.replace(/["']/g, "") === "Roboto Mono" && face.status === "loaded"
)"""


def stat(pid: int) -> tuple[int, str, int] | None:
    """Its parent, state and start time (the start time tells a reused pid apart)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[0], int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """Every process below root, with its start time."""
    parents: dict[int, int] = {}
    started: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := stat(int(entry))) is not None:
            parents[int(entry)], _, started[int(entry)] = info
    below: dict[int, int] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in below:
                below[pid] = started[pid]
                frontier.append(pid)
    return below


def alive(processes: dict[int, int]) -> set[int]:
    """Those still running (a zombie has ended: only its parent's reaping is left)."""
    return {
        pid
        for pid, started in processes.items()
        if (info := stat(pid)) is not None and info[2] == started and info[1] != "Z"
    }


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    """For processes to go: the kernel sends no event we could wait on."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def dashboards(web: int) -> set[int]:
    """The web command's children that run fetchviz: a dashboard per tab."""
    return {
        pid
        for pid in descendants(web)
        if (info := stat(pid)) is not None and info[0] == web and "fetchviz" in cmdline(pid)
    }


def tree(pid: int) -> dict[int, int]:
    """A dashboard and what it started (its latency server, its run's process)."""
    info = stat(pid)
    assert info is not None, f"process {pid} is gone"
    return {pid: info[2], **descendants(pid)}


def run_finished(strategy: str, text: str) -> bool:
    """The run panel says the run is done, and every row was seen queued or started, then
    Finished."""
    if not re.search(rf"{strategy}\s+done\s+{TASKS}/{TASKS}\s+ok\s+{TASKS}", text):
        return False
    return all(
        re.search(rf"(?<![\d.]){i}\s+(?:Queued|Started)\b.*(?<![\d.]){i}\s+Finished\b", text, re.S)
        for i in range(TASKS)
    )


class Tab:
    """A browser tab on the dashboard, and the terminal output it received, as text."""

    def __init__(self, browser: Any, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.sockets: list[Any] = []
        self.requested: list[str] = []  # every URL the page asked for, from its first
        self.output = ""
        self.page.on("websocket", self._on_websocket)
        self.page.on("request", lambda request: self.requested.append(request.url))
        self.page.goto(url)  # returns once the page's load event has fired

    def hosts(self) -> set[str]:
        """Every host the page asked something of, its websocket's too."""
        asked = [*self.requested, *(socket.url for socket in self.sockets)]
        return {urlsplit(url).netloc for url in asked if urlsplit(url).scheme != "data"}

    def font_loaded(self) -> bool:
        """The terminal's typeface, Roboto Mono, is in (from the machine: hosts() says so)."""
        return bool(self.page.evaluate(ROBOTO_MONO_LOADED))

    def _on_websocket(self, socket: Any) -> None:
        self.sockets.append(socket)
        socket.on("framereceived", self._on_frame)

    def _on_frame(self, payload: str | bytes) -> None:
        text = payload.decode(errors="replace") if isinstance(payload, bytes) else payload
        self.output += ESCAPE.sub(" ", text)

    def wait_for(self, done: Callable[[str], bool], what: str) -> None:
        """Until the output received says so; each frame is looked at as it comes."""
        if not self.sockets:
            self.page.wait_for_event("websocket", timeout=WAIT_MS)
        if done(self.output):
            return
        try:
            # Listeners run in the order they were added: _on_frame has taken the frame in.
            self.sockets[0].wait_for_event(
                "framereceived", predicate=lambda _: done(self.output), timeout=WAIT_MS
            )
        except Exception as exc:
            tail = " ".join(self.output.split())[-1500:]
            raise AssertionError(f"the page never showed {what}; it last received: {tail}") from exc

    def press(self, key: str) -> None:
        """As a user's key, with no click first: the page focuses the terminal on load (the
        first key on stage must work)."""
        self.page.keyboard.press(key)


def test_the_dashboard_command_hands_every_option_to_fetchviz_verbatim():
    from fetchviz.ui.web import dashboard_command

    weird = "1; echo injected $(echo twice) 'quoted'"
    command = dashboard_command(["--tasks", weird], os.getpid())
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr  # fetchviz's own bad-command-line exit
    assert weird in done.stderr, done.stderr  # the option arrived whole, as typed
    assert "injected" not in done.stdout


@pytest.fixture
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is missing: pip install -e '.[test]' (.ci/run does)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def serving(*dashboard_args: str) -> Iterator[subprocess.Popen[str]]:
    """`fetchviz web` as the CLI runs it, in a process of its own; killed with what it started
    if the test fails before it stops."""
    code = (
        "import sys; from fetchviz.ui import web; "
        "sys.exit(web.run_web('127.0.0.1', 0, sys.argv[1:]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *dashboard_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    left: dict[int, int] = {}
    try:
        yield proc
    finally:
        if proc.poll() is None:
            left = descendants(proc.pid)
            proc.kill()
            proc.communicate()
        for pid in alive(left):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def web() -> Iterator[subprocess.Popen[str]]:
    with serving("--delay", "200", "-n", str(TASKS)) as proc:
        yield proc


def url_of(web: subprocess.Popen[str]) -> str:
    """The address the first line gives."""
    assert web.stdout is not None and web.stderr is not None
    line = web.stdout.readline()
    found = re.fullmatch(
        r"fetchviz web: open (http://127\.0\.0\.1:\d+) in a browser \(Ctrl\+C to stop\)\n", line
    )
    assert found, f"the first line gives the URL: {line!r} {web.stderr.read() if not line else ''}"
    return found.group(1)


def stopped_by_ctrl_c(web: subprocess.Popen[str]) -> None:
    web.send_signal(signal.SIGINT)
    try:
        out, err = web.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("fetchviz web did not stop on Ctrl+C (SIGINT)")
    assert web.returncode == 0, err
    assert "Traceback" not in out + err


@pytest.mark.timeout(400)
def test_each_tab_drives_its_own_dashboard_and_no_process_outlives_it(browser, web):
    url = url_of(web)

    first = Tab(browser, url)
    # The page is whole from this machine: a stage with no network waits for nothing.
    assert first.page.title() == "fetchviz"
    assert first.font_loaded(), "the terminal was drawn before its typeface was in"
    first.wait_for(lambda out: run_finished("sync", out), "the launch's sync run finished")
    assert first.hosts() == {urlsplit(url).netloc}, first.requested
    [first_dashboard] = dashboards(web.pid)
    second = Tab(browser, url)
    second.wait_for(lambda out: run_finished("sync", out), "the second tab's sync run")
    [second_dashboard] = dashboards(web.pid) - {first_dashboard}

    seen = len(first.output)
    first.press("4")
    first.wait_for(lambda out: run_finished("executor", out[seen:]), "executor's rows Finished")
    assert not re.search(r"executor\s+done", second.output), (
        "a key in one tab reached another tab's dashboard"
    )

    first_tree, second_tree = tree(first_dashboard), tree(second_dashboard)
    assert len(first_tree) >= 2, "a dashboard starts its own latency server"
    first.page.close()
    assert wait_until(lambda: not alive(first_tree), 60), (
        f"closing the tab left {[cmdline(p) for p in alive(first_tree)]}"
    )
    assert second_dashboard in alive(second_tree), "closing one tab stopped another tab's"

    stopped_by_ctrl_c(web)
    assert wait_until(lambda: not alive(second_tree), 30), (
        f"Ctrl+C left {[cmdline(p) for p in alive(second_tree)]}"
    )


@pytest.mark.timeout(200)
def test_the_tour_s_page_is_titled_so_and_asks_no_other_host(browser):
    """?delay=1 is textual-serve's page before its Start button: no websocket, no dashboard;
    the page, its statics and its typeface all the same."""
    with serving("tour", "--delay", "200") as web:
        url = url_of(web)
        tab = Tab(browser, f"{url}/?delay=1")
        assert tab.page.title() == "fetchviz tour"
        assert tab.font_loaded()
        assert tab.hosts() == {urlsplit(url).netloc}, tab.requested
        assert any(asked.endswith(".ttf") for asked in tab.requested), tab.requested
        assert not dashboards(web.pid)
        stopped_by_ctrl_c(web)
