"""Every command with no screen runs without loading Textual or Rich: each is started in a
fresh interpreter, and what it imported is read at its end (for `serve`, once it answers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

UI = ("textual", "rich")
RECORDING = Path(__file__).resolve().parent / "recordings" / "sync.jsonl.gz"

# main(argv) to its end, stdout kept aside; then, on the real stdout, what of UI it imported.
RUN = """
import contextlib, io, json, os, sys
from fetchviz.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exit_:  # --help
        code = exit_.code
loaded = sorted({name.split(".")[0] for name in sys.modules} & {"textual", "rich"})
print(json.dumps({"code": code, "loaded": loaded}), flush=True)
os._exit(0)  # what threads are left only wait to reap processes already killed
"""

# serve runs until stopped: a thread waits until it answers, reads sys.modules, and leaves.
SERVE = """
import contextlib, io, json, os, re, sys, threading, time, urllib.request
from fetchviz.cli import main
said = io.StringIO()

def when_it_answers():
    deadline = time.monotonic() + 30
    while not (found := re.search(r"http://[^/ ]+/", said.getvalue())):
        if time.monotonic() > deadline:
            os._exit(3)
        time.sleep(0.02)
    with urllib.request.urlopen(found.group(0) + "delay/0", timeout=10) as answer:
        status = answer.status
    loaded = sorted({name.split(".")[0] for name in sys.modules} & {"textual", "rich"})
    print(json.dumps({"code": status, "loaded": loaded}), file=sys.__stdout__, flush=True)
    os._exit(0)

threading.Thread(target=when_it_answers, daemon=True).start()
with contextlib.redirect_stdout(said):
    main(sys.argv[1:])
os._exit(4)  # it stopped before it answered
"""

QUICK = ["-s", "aiohttp", "--delay", "20"]


def imported(code: str, argv: list[str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "argv",
    [
        ["--headless", "-n", "3", *QUICK],
        ["--json", "-n", "3", *QUICK],
        ["--json", "-n", "2", *QUICK, "--record", "{tmp}/x.jsonl"],
        ["replay", str(RECORDING), "--json"],
        ["replay", str(RECORDING), "--headless"],
        ["export", str(RECORDING), "--csv", "{tmp}/x.csv", "--har", "{tmp}/x.har"],
        ["sweep", "--csv", "-n", "1,2", *QUICK],
        ["keys"],
        ["--help"],
        ["tour", "--help"],
        ["replay", "--help"],
    ],
    ids=" ".join,
)
def test_a_command_with_no_screen_loads_no_textual_and_no_rich(argv, tmp_path):
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    assert imported(RUN, argv) == {"code": 0, "loaded": []}


def test_the_latency_server_alone_loads_no_textual_and_no_rich():
    assert imported(SERVE, ["serve", "--port", "0", "--delay", "0"]) == {
        "code": 200,
        "loaded": [],
    }
