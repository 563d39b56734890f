"""Where a blocked loop is stuck, said on the dashboard: the alarm that flushes a live run's
events looks at the frame it interrupted (worker.LoopMonitor.check)."""

from __future__ import annotations

import asyncio
import runpy
import sys
from pathlib import Path
from typing import Any

from fetchviz.core.catalog import BY_ID, Strategy
from fetchviz.core.config import Config
from fetchviz.core.events import Event, LoopBlocked, RunFinished
from fetchviz.core.model import RunState
from fetchviz.core.source import RunRequest
from fetchviz.runs import phases
from fetchviz.runs.runner import Runner
from fetchviz.runs.server import EmbeddedServer
from fetchviz.runs.user import strategy_from
from fetchviz.runs.worker import blocked_where


async def live_run(strategy: Strategy, config: Config) -> list[Event]:
    queue: asyncio.Queue[list[Event]] = asyncio.Queue()
    runner = Runner(live=True)
    runner.open(queue.put_nowait)
    try:
        runner.start(RunRequest(strategy, config))
        got: list[Event] = []
        while not any(isinstance(event, RunFinished) for event in got):
            got += await asyncio.wait_for(queue.get(), 60)
        return got
    finally:
        runner.close()


def test_gather_blocking_is_blocked_in_requests_get(server: EmbeddedServer) -> None:
    config = Config(tasks=3, url=server.url(200), delay_ms=200)
    events = asyncio.run(live_run(BY_ID["gather-blocking"], config))
    blocked = [event for event in events if isinstance(event, LoopBlocked)]
    assert blocked and blocked[0].where is not None
    assert blocked[0].where.startswith("strategies.py:")
    assert blocked[0].where.endswith("in fetch_blocking (requests.get)")
    run = RunState.new(1, "gather-blocking", 3, True)
    for event in events:
        run.apply(event)
    assert run.to_json()["loop_blocked_at"] == blocked[0].where


def test_a_users_strategy_says_its_own_line(server: EmbeddedServer, tmp_path: Path) -> None:
    code = tmp_path / "slow.py"
    code.write_text(
        "import time\n"
        "async def slow(job):\n"
        "    with job.fetching(0) as fetch:\n"
        "        time.sleep(0.4)  # on the loop: nothing else can run\n"
        "        fetch.done(200, 0)\n"
    )
    strategy = strategy_from(f"{code}:slow", set())
    events = asyncio.run(live_run(strategy, Config(tasks=1, url=server.url())))
    wheres = [event.where for event in events if isinstance(event, LoopBlocked)]
    assert wheres == ["slow.py:4 in slow"]


class Client:
    """A client whose constructor fetchviz wraps, as phases.py wraps httpx2's."""

    def __init__(self) -> None:
        self.event_hooks: dict[str, list[Any]] = {"request": []}
        self.frame = sys._getframe()  # where a loop blocked in it would be stuck


def test_a_block_is_said_in_what_the_strategy_called_not_in_fetchviz(tmp_path: Path) -> None:
    """httpx2's first client, made on the loop, read "in fetchviz.init": fetchviz's wrapper
    around its __init__, as if fetchviz blocked the loop."""
    phases._with_hook(Client, lambda request: None)
    code = tmp_path / "mine.py"
    code.write_text("def make(cls):\n    return cls()\n")
    client = runpy.run_path(str(code))["make"](Client)
    assert (
        blocked_where(client.frame, (str(code),)) == "mine.py:2 in make (test_blocked_where.Client)"
    )
