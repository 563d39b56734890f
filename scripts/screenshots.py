"""Regenerate screenshots/*.svg, drawn from the recorded scenes in tests/recordings.

    python scripts/screenshots.py

Each picture is a recording replayed to its end in the real dashboard, so it is the same
every time it is drawn; `python scripts/record_scenes.py` records the scenes anew.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from scenes import play_to_end, scene  # noqa: E402  (the tests' own way to play a scene)

OUT = ROOT / "screenshots"
SIZE = (100, 30)
SHOTS = [  # (picture, recorded scene, keys pressed once it has played)
    ("sync", "sync", []),
    ("executor", "executor", []),
    ("httpx", "httpx", []),
    ("gather-blocking", "gather-blocking", []),
    ("compare-all", "compare-all", []),
    ("code", "compare-all", ["c"]),
    ("failures", "failures", []),
]


async def shoot(name: str, recording: str, keys: list[str]) -> None:
    app = scene(recording)
    async with app.run_test(size=SIZE) as pilot:
        await play_to_end(pilot)
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.2)
        app.save_screenshot(f"{name}.svg", path=str(OUT))
    print(f"wrote screenshots/{name}.svg")


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    for shot in SHOTS:
        await shoot(*shot)


if __name__ == "__main__":
    asyncio.run(main())
