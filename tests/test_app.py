"""The dashboard, driven by Pilot against the embedded server."""

from __future__ import annotations

import time
from collections.abc import Callable

from conftest import config_for
from fetchviz.app import FetchvizApp
from fetchviz.model import TaskState
from fetchviz.strategies import BY_ID
from fetchviz.widgets import Summary, TaskTable


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 20) -> None:
    """Let the app process events until the condition holds (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the dashboard"
        await pilot.pause(0.02)


def run_done(app: FetchvizApp, strategy: str) -> Callable[[], bool]:
    return lambda: app.current is not None and app.current.strategy == strategy and app.current.done


async def test_launch_runs_the_selected_strategy_to_finished_rows(server):
    app = FetchvizApp(config_for(server, tasks=5), [BY_ID["sync"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        assert [row.state for row in app.current.tasks] == [TaskState.FINISHED] * 5
        table = app.query_one(TaskTable)
        first_row = "".join(s.text for s in table.render_line(0))
        assert "Finished" in first_row and "200" in first_row and "█" in first_row


async def test_a_number_key_switches_strategy_and_runs_it(server):
    app = FetchvizApp(config_for(server, tasks=4))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await pilot.press("6")
        assert app.selected.id == "aiohttp"
        await wait_until(pilot, run_done(app, "aiohttp"))
        assert app.current.ok == 4
        summary = str(app.query_one(Summary).render())
        assert "aiohttp" in summary and "faster" in summary


async def test_baseline_is_an_estimate_until_b_measures_it(server):
    app = FetchvizApp(config_for(server, tasks=4), [BY_ID["aiohttp"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        assert "estimate" in str(app.query_one(Summary).render())
        await pilot.press("b")
        await wait_until(pilot, run_done(app, "sync"))
        assert app.selected.id == "aiohttp"  # b measures; it does not change the selection
        await pilot.press("r")
        await wait_until(pilot, run_done(app, "aiohttp"))
        summary = str(app.query_one(Summary).render())
        assert "measured" in summary and "estimate" not in summary


async def test_escape_cancels_at_once_and_keeps_the_rows(server):
    config = config_for(server, tasks=4, url=server.url(400))
    app = FetchvizApp(config, [BY_ID["sync"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.current is not None and app.current.started_count)
        await pilot.press("escape")
        assert app.current.cancelled and app.current.done
        assert "cancelled" in str(app.query_one(Summary).render())
        await pilot.press("6")  # the next run does not wait for the old one's thread
        await wait_until(pilot, run_done(app, "aiohttp"), timeout=5)


async def test_plus_and_minus_change_n_for_the_next_run(server):
    app = FetchvizApp(config_for(server, tasks=10), [BY_ID["aiohttp"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        await pilot.press("plus")
        assert app.config.tasks == 20
        await pilot.press("minus", "minus")
        assert app.config.tasks == 5
        await pilot.press("r")
        await wait_until(pilot, lambda: run_done(app, "aiohttp")() and len(app.current.tasks) == 5)


async def test_reads_at_80x24_and_at_160x50(server):
    for size in ((80, 24), (160, 50)):
        app = FetchvizApp(config_for(server, tasks=10), [BY_ID["executor"]])
        async with app.run_test(size=size) as pilot:
            await wait_until(pilot, run_done(app, "executor"))
            table = app.query_one(TaskTable)
            assert table.size.height >= 10  # all ten rows visible at once
            last = "".join(s.text for s in table.render_line(9))
            assert "Finished" in last and len(last) == table.scrollable_content_region.width
