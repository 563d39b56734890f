"""Regenerate screenshots/*.svg, drawn from the recorded scenes in tests/recordings.

    python scripts/screenshots.py

Each picture is a recording replayed to its end in the real dashboard, so it is the same
every time it is drawn; `python scripts/record_scenes.py` records the scenes anew. The tour's
picture alone is a live run (the tour runs its steps as it goes), against the embedded server.
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
SHOTS = [  # (picture, recorded scene, keys pressed once it has played[, theme, size])
    ("sync", "sync", []),
    ("executor", "executor", []),
    ("httpx", "httpx", []),
    ("gather-blocking", "gather-blocking", []),
    ("compare-all", "compare-all", []),
    ("code", "compare-all", ["c"]),
    ("failures", "failures", []),
    ("projector", "compare-all", [], "high-contrast", (160, 40)),  # and the ratio, large
]


async def shoot(
    name: str,
    recording: str,
    keys: list[str],
    theme: str | None = None,
    size: tuple[int, int] = SIZE,
) -> None:
    app = scene(recording, theme)
    async with app.run_test(size=size) as pilot:
        await play_to_end(pilot)
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.2)
        app.save_screenshot(f"{name}.svg", path=str(OUT))
    print(f"wrote screenshots/{name}.svg")


async def shoot_tour() -> None:
    """The tour's third step, gather-blocking, live: its caption's numbers are that run's."""
    from fetchviz.core.config import Config
    from fetchviz.runs.server import EmbeddedServer
    from fetchviz.ui.launch import dashboard_app

    with EmbeddedServer(delay_ms=150) as server:
        config = Config(tasks=8, url=server.url(), delay_ms=150)
        app = dashboard_app(config, server=server, tour=True)
        async with app.run_test(size=SIZE) as pilot:
            for step in ("sync", "async-sequential", "gather-blocking"):
                while not (
                    app.session.current
                    and app.session.current.strategy == step
                    and app.session.current.closed
                ):
                    await pilot.pause(0.05)
                await pilot.pause(0.3)
                if step != "gather-blocking":
                    await pilot.press("space")
            app.save_screenshot("tour.svg", path=str(OUT))
    print("wrote screenshots/tour.svg")


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    for shot in SHOTS:
        await shoot(*shot)  # type: ignore[arg-type]
    await shoot_tour()


if __name__ == "__main__":
    asyncio.run(main())
