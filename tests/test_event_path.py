"""One path for every event: the real dashboard, driven by a scripted event source, shows
task events, heartbeats, a run's end and a cancelled run's end exactly as they were sent."""

from __future__ import annotations

from fetchviz.core.catalog import BY_ID
from fetchviz.core.config import Config
from fetchviz.core.events import (
    LoopBeat,
    RunFinished,
    RunStarted,
    TaskFailed,
    TaskFinished,
    TasksQueued,
    TaskStarted,
)
from fetchviz.core.model import TaskState
from fetchviz.ui.launch import dashboard_app
from fetchviz.ui.widgets.board import StrategyBoard
from fetchviz.ui.widgets.summary import Summary
from fetchviz.ui.widgets.table import TaskTable
from scripted import ScriptedSource
from test_app import row_text, wait_until

CONFIG = Config(tasks=3, url="http://scripted.invalid/", delay_ms=None)


def three_tasks(start: RunStarted) -> list:
    run_id, t0 = start.run_id, start.at
    return [
        (
            0.01,
            [
                TasksQueued(run_id, 3, t0),
                TaskStarted(run_id, 0, t0 + 0.001, "asyncio_0"),
                TaskStarted(run_id, 1, t0 + 0.002, "asyncio_1"),
                TaskStarted(run_id, 2, t0 + 0.003, "asyncio_10"),
            ],
        ),
        (0.02, [LoopBeat(run_id, t0 + 0.02, 0.004, 0.01)]),
        (
            0.05,
            [
                TaskFinished(run_id, 0, t0 + 0.05, 200, 11),
                TaskFailed(run_id, 1, t0 + 0.06, "HTTP 500", 500),
            ],
        ),
        (
            0.05,
            [TaskFinished(run_id, 2, t0 + 0.1, 200, 11), RunFinished(run_id, t0 + 0.1, False)],
        ),
    ]


async def test_the_dashboard_shows_what_its_event_source_sent():
    source = ScriptedSource(three_tasks)
    app = dashboard_app(CONFIG, [BY_ID["executor"]], source=source)
    async with app.run_test(size=(110, 30)) as pilot:
        await wait_until(
            pilot, lambda: app.session.current is not None and app.session.current.closed
        )
        await pilot.pause(0.05)
        run = app.session.current
        assert [row.state for row in run.tasks] == [
            TaskState.FINISHED,
            TaskState.FAILED,
            TaskState.FINISHED,
        ]
        assert abs(run.elapsed(0) - 0.1) < 0.01  # the stamps sent, not when they arrived
        table = app.screen.query_one(TaskTable)
        assert "HTTP 500" in row_text(table, 1) and " asyncio_10 " in row_text(table, 2)
        summary = app.screen.query_one(Summary).plain
        assert "done  3/3 ok 2 failed 1" in summary
        assert "0.30 s estimate" in summary  # N × the scripted sample's median, 0.1 s
        assert "· 2 of 3 ok" in summary  # a partly failed run says so beside its ratio
        assert "worst 4 ms" in summary  # the heartbeat went the same way as the tasks


def stalled(start: RunStarted) -> list:
    """Tasks start, the loop beats a few times, then nothing comes for a minute."""
    run_id, t0 = start.run_id, start.at
    beats = [(0.01, [LoopBeat(run_id, t0 + 0.01 * i, 0.001, 0.0)]) for i in range(1, 4)]
    return [
        (0.01, [TaskStarted(run_id, 0, t0 + 0.001, "runner-1")]),
        *beats,
        (60, []),
    ]


async def test_a_loop_that_stops_beating_reads_blocked_and_a_cancel_ends_the_run_as_an_event():
    source = ScriptedSource(stalled)
    app = dashboard_app(CONFIG, [BY_ID["gather-blocking"]], source=source)
    async with app.run_test(size=(110, 30)) as pilot:
        summary = app.screen.query_one(Summary)
        await wait_until(pilot, lambda: "LOOP BLOCKED" in summary.plain)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.session.current.done)
        run = app.session.current
        assert run.cancelled and source.runs[0].ended
        # Not the worst the beats said (1 ms): the block it was cancelled in, shown live.
        assert run.loop_lag_max is not None and run.loop_lag_max > 0.05
        assert run.tasks[0].state is TaskState.CANCELLED  # in flight, cut short by escape
        await wait_until(pilot, lambda: "cancelled" in summary.plain)
    assert source.closed  # quitting closes the source: nothing of it outlives the app


def half_reported(start: RunStarted) -> list:
    """A strategy that answers for 2 of its 4 tasks and returns."""
    run_id, t0 = start.run_id, start.at
    answered = [TaskStarted(run_id, i, t0 + 0.001, "asyncio_0") for i in range(2)]
    answered += [TaskFinished(run_id, i, t0 + 0.01, 200, 11) for i in range(2)]
    return [(0.01, answered), (0.01, [RunFinished(run_id, t0 + 0.02, False)])]


async def test_a_half_reported_run_reads_as_partial_on_the_board():
    source = ScriptedSource(half_reported)
    app = dashboard_app(
        Config(tasks=4, url="http://scripted.invalid/", delay_ms=None),
        [BY_ID["aiohttp"]],
        source=source,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: app.session.current is not None and app.session.current.closed
        )
        await pilot.pause(0.05)
        board = str(app.screen.query_one(StrategyBoard).render())
        line = next(line for line in board.splitlines() if "aiohttp" in line)
        assert "2/4" in line  # as a partly failed run's is: not a full bar
        assert "2 never reported" in app.screen.query_one(Summary).plain
