"""Regenerate screenshots/*.svg with Textual's own screenshot support.

    python scripts/screenshots.py

Each shot is a real run against the embedded latency server, taken once it has finished.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from fetchviz.app import FetchvizApp
from fetchviz.catalog import BY_ID
from fetchviz.config import Config
from fetchviz.server import EmbeddedServer

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SIZE = (100, 30)
SHOTS = [  # (file, keys pressed after the launch run, strategy launched, N)
    ("sync", [], "sync", 10),
    ("executor", [], "executor", 16),
    ("httpx", ["b", "5"], "httpx", 10),
    ("gather-blocking", ["b", "3"], "gather-blocking", 10),
    ("compare-all", ["a"], "sync", 10),
    ("code", ["c"], "aiohttp", 10),
    ("failures", [], "aiohttp", 10),
]


async def shoot(server: EmbeddedServer, name: str, keys: list[str], strategy: str, n: int) -> None:
    url = server.url(300) if name != "failures" else f"{server.base_url}/missing"
    app = FetchvizApp(Config(tasks=n, url=url, delay_ms=300), [BY_ID[strategy]])
    async with app.run_test(size=SIZE) as pilot:
        for key in [None, *keys]:
            if key:
                await pilot.press(key)
            deadline = time.monotonic() + 60
            await pilot.pause(0.1)
            while time.monotonic() < deadline and not (
                app.current and app.current.done and not app.pending
            ):
                await pilot.pause(0.05)
        await pilot.pause(0.2)
        app.save_screenshot(f"{name}.svg", path=str(OUT))
        print(f"wrote screenshots/{name}.svg")


async def main() -> None:
    OUT.mkdir(exist_ok=True)
    with EmbeddedServer(delay_ms=300) as server:
        server.wait_ready()
        for shot in SHOTS:
            await shoot(server, *shot)


if __name__ == "__main__":
    asyncio.run(main())
