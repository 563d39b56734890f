"""Pictures of fetchviz's exports opened in Chromium's own DevTools, for docs/record-replay.md:
the HAR in the Network panel (docs/images/har-devtools.png), the Chrome trace in the
Performance panel (docs/images/trace-devtools.png).

    python scripts/viewer_pictures.py

Both are drawn from one recording, tests/recordings/httpx.jsonl.gz (ten requests by sync, then
ten by httpx; made by scripts/record_scenes.py), exported by `fetchviz export RECORDING --har
--trace` as a user would: the same file and the same export that tests/test_docs.py checks
(the HAR's entries and the trace's event that the pictures wait for). No live run: the
pictures change only when the recording, the export or Chromium's DevTools does.

Needs the playwright pip package (in .[test]; it drives the Chromium installed, and downloads
no browser) and Chromium at /usr/bin/chromium (or $CHROMIUM; `apt-get install chromium`). No
network: the DevTools front end is the one inside Chromium, served on its debugging port, and
it inspects a blank tab while it shows the files imported. Not run by CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"
RECORDING = ROOT / "tests" / "recordings" / "httpx.jsonl.gz"  # 10 requests by sync, then httpx
PICTURES = ("har-devtools.png", "trace-devtools.png")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SEARCHED = "task 4"  # the trace's event found and shown in the Performance panel's summary
# DevTools' settings (its localStorage, as it is served over http): the Network panel's columns
# and the width of its waterfall.
SETTINGS = {
    "network-log-columns": {
        "type": {"visible": False},
        "initiator": {"visible": False},
        "size": {"visible": False},
        "url": {"visible": True},
        "waterfall": {"visible": True},
    },
    "network-panel-split-view-waterfall": {"vertical": {"size": 760}},
}


def devtools(context: BrowserContext, port: int, panel: str, width: int, height: int) -> Page:
    """DevTools as Chromium serves it on its debugging port, inspecting the context's blank tab."""
    tab = context.pages[0]
    target = context.new_cdp_session(tab).send("Target.getTargetInfo")["targetInfo"]["targetId"]
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    for key, value in SETTINGS.items():
        page.add_init_script(
            f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(value))})"
        )
    ws = f"127.0.0.1:{port}/devtools/page/{target}"
    page.goto(f"http://127.0.0.1:{port}/devtools/devtools_app.html?ws={ws}&panel={panel}")
    return page


def har_picture(context: BrowserContext, port: int, har: Path) -> None:
    page = devtools(context, port, "network", 1400, 660)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Import HAR file").click()
    chooser.value.set_files(har)
    entries = len(json.loads(har.read_text())["log"]["entries"])
    page.get_by_text(f"{entries} requests", exact=True).wait_for()
    # The grid gives what a column loses to its last one: Name narrower, then URL wider.
    for resizer, x in ((0, 140), (1, 420)):
        box = page.locator(".data-grid-resizer").nth(resizer).bounding_box()
        assert box is not None
        page.mouse.move(box["x"] + 2, box["y"] + 20)
        page.mouse.down()
        page.mouse.move(x, box["y"] + 20, steps=5)
        page.mouse.up()
    page.mouse.move(700, 645)  # off the header, over the status bar
    page.wait_for_timeout(500)  # the waterfall is a canvas, drawn after
    page.screenshot(path=OUT / PICTURES[0])
    page.close()


def trace_picture(context: BrowserContext, port: int, trace: Path) -> None:
    page = devtools(context, port, "timeline", 1400, 1200)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Load trace…").click()
    chooser.value.set_files(trace)
    page.get_by_role("button", name="Close").click()  # the keyboard shortcuts, shown once
    page.get_by_role("button", name="Hide sidebar").click()
    page.locator("#timeline-overview-pane").dblclick()  # the whole trace, not a part of it
    # Every process and thread opened, from the keyboard: right opens a track (or enters it).
    page.locator("canvas.flame-chart-canvas").first.click(position={"x": 50, "y": 25})
    tracks = sum(e["ph"] == "M" for e in json.loads(trace.read_text())["traceEvents"])
    for _ in range(tracks):
        for key in ("ArrowRight", "ArrowRight", "ArrowDown"):
            page.keyboard.press(key)
    page.keyboard.press("Control+F")
    page.keyboard.type(SEARCHED)
    page.get_by_text("Trace event", exact=True).wait_for()
    page.wait_for_timeout(500)  # the flame chart is a canvas, drawn after
    page.screenshot(path=OUT / PICTURES[1])
    page.close()


def export(har: Path, trace: Path) -> None:
    """The recording's HAR and Chrome trace, by fetchviz's own command line."""
    args = ["export", str(RECORDING), "--har", str(har), "--trace", str(trace)]
    subprocess.run([sys.executable, "-m", "fetchviz", *args], check=True)


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        har, trace, profile = Path(tmp, "run.har"), Path(tmp, "run.json"), Path(tmp, "profile")
        export(har, trace)
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, args=["--remote-debugging-port=0"]
            )
            port = int((profile / "DevToolsActivePort").read_text().split()[0])
            try:
                har_picture(context, port, har)
                trace_picture(context, port, trace)
            finally:
                context.close()
    print(", ".join(f"wrote {(OUT / name).relative_to(ROOT)}" for name in PICTURES))


if __name__ == "__main__":
    main()
