"""Record the scenes that the snapshot tests, and so the docs' pictures, are drawn from.

    python scripts/record_scenes.py [SCENE ...]

Each is a real headless run against the embedded latency server, recorded with --record into
tests/recordings/. Run it again only to change a scene: the snapshots (`pytest
tests/test_snapshots.py --snapshot-update`; the docs' SVGs are copies of some of them) and the
DevTools pictures (`python scripts/viewer_pictures.py`, from httpx) are drawn from these files,
so that they no longer change from run to run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "recordings"
SCENES = {  # name: the command line of the run recorded
    "sync": ["-s", "sync", "-n", "10", "--delay", "150"],
    "executor": ["-s", "executor", "-n", "16", "--workers", "6", "--delay", "150"],
    "httpx": ["-s", "sync", "-s", "httpx", "-n", "10", "--delay", "150"],
    "gather-blocking": ["-s", "sync", "-s", "gather-blocking", "-n", "10", "--delay", "150"],
    "compare-all": ["--all", "-n", "10", "--delay", "150"],
    "failures": ["-s", "executor", "-n", "12", "--fail-rate", "0.4", "--delay", "150"],
    # Ten strategies on the board: the built-ins and two of the user's (examples/).
    "your-own": [
        "--all",
        *("-s", "examples/bounded.py:bounded", "-s", "examples/session_loop.py:session_loop"),
        *("-n", "10", "--delay", "150"),
    ],
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    wanted = sys.argv[1:] or list(SCENES)  # the scenes named, or all
    for name, args in ((name, SCENES[name]) for name in wanted):
        path = OUT / f"{name}.jsonl.gz"
        command = [sys.executable, "-m", "fetchviz", "--headless", *args, "--record", str(path)]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        print(f"wrote {path.relative_to(OUT.parent.parent)}")


if __name__ == "__main__":
    main()
