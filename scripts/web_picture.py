"""A picture of `fetchviz web` in Chromium, for docs/talk.md: a tab's dashboard after pressing
4, executor's run ended (docs/images/web.png).

    python scripts/web_picture.py

A live run, not a recording: `fetchviz web` serves live dashboards only (each tab runs
`fetchviz` with the options given, against a latency server of its own, on this machine), so
the picture's figures are that run's and move a little each time it is drawn. The run is the
one tests/test_web.py drives: `fetchviz web -n 10 --delay 200`, the launch's sync run, then 4.
The page's text is read as that test reads it, from the terminal output in its websocket's
frames.

Needs the playwright pip package (in .[test]; it drives the Chromium installed, and downloads
no browser) and Chromium at /usr/bin/chromium (or $CHROMIUM; `apt-get install chromium`). No
network: the page and its typeface come from `fetchviz web` itself. Not run by CI.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"
PICTURE = "web.png"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
TASKS = 10
COMMAND = ["web", "-n", str(TASKS), "--delay", "200"]
VIEWPORT = {"width": 1280, "height": 560}
ESCAPE = re.compile(r"\x1b(?:\[[0-9;?<>=]*[ -/]*[@-~]|[@-_])")  # as tests/test_web.py
WAIT_S = 90


class Output:
    """The terminal output a tab received, as text."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.text = ""
        page.on("websocket", lambda socket: socket.on("framereceived", self._frame))

    def _frame(self, payload: str | bytes) -> None:
        text = payload.decode(errors="replace") if isinstance(payload, bytes) else payload
        self.text += ESCAPE.sub(" ", text)

    def wait_for(self, strategy: str, since: int = 0) -> None:
        """Until the run panel says the strategy's run is done, every task of it."""
        done = re.compile(rf"{strategy}\s+done\s+{TASKS}/{TASKS}")
        deadline = time.monotonic() + WAIT_S
        while not done.search(self.text[since:]):
            if time.monotonic() > deadline:
                raise SystemExit(f"the page never showed {strategy}'s run done")
            self.page.wait_for_timeout(100)  # Playwright delivers the frames meanwhile


def main() -> None:
    from playwright.sync_api import sync_playwright

    web = subprocess.Popen(
        [sys.executable, "-m", "fetchviz", *COMMAND],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert web.stdout is not None
        line = web.stdout.readline()  # fetchviz web: open http://127.0.0.1:PORT in a browser …
        found = re.search(r"http://\S+", line)
        if found is None:
            raise SystemExit(f"fetchviz web said no URL: {line!r}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                page = browser.new_page(viewport=VIEWPORT)
                output = Output(page)
                page.goto(found.group(0))
                output.wait_for("sync")  # the launch's run
                since = len(output.text)
                page.keyboard.press("4")
                output.wait_for("executor", since)
                page.wait_for_timeout(500)  # the last frame drawn
                page.screenshot(path=OUT / PICTURE)
            finally:
                browser.close()
    finally:
        web.send_signal(signal.SIGINT)  # as Ctrl+C: every tab's dashboard with it
        try:
            web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait()
    print(f"wrote {(OUT / PICTURE).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
