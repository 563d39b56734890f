"""fetchviz sweep: each strategy's time as N grows, run (or estimated, and said so), written as
a table, JSON or CSV, drawn on a log-log chart; cancelled, it leaves no process behind."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.app import App

from conftest import DELAY_MS, config_for
from fetchviz.cli.sweep import parse_sizes
from fetchviz.core.catalog import BY_ID, STRATEGIES, Strategy
from fetchviz.core.config import Config
from fetchviz.core.events import RunFinished, RunStarted, TaskFailed, TaskFinished, TaskStarted
from fetchviz.core.model import RunState
from fetchviz.core.source import Batch
from fetchviz.runs.runner import Runner
from fetchviz.runs.sweep import (
    CSV_FIELDS,
    Point,
    estimate,
    fmt_point,
    plan,
    print_csv,
    print_table,
    result_json,
    sweep,
    time_per_request,
)
from fetchviz.ui.screens.sweep import SweepScreen
from fetchviz.ui.widgets.chart import ESTIMATE_MARK, FAILED_MARK, MEASURED_MARK
from scripted import ScriptedSource
from test_lifecycle import descendants, is_run
from test_server import alive

SIZES = (1, 4, 16, 64)
UP_TO = 16  # sync past this is estimated
DELAY = DELAY_MS / 1000


@pytest.fixture(scope="module")
def swept(server) -> list[Point]:
    """One real sweep, shared: sync, executor with 4 threads, aiohttp at N = 1, 4, 16, 64."""
    config = config_for(server, workers=4)
    strategies = [BY_ID[name] for name in ("sync", "executor", "aiohttp")]
    return asyncio.run(sweep(config, strategies, SIZES, run_sequential_up_to=UP_TO))


def elapsed(points: list[Point]) -> dict[tuple[str, int], float]:
    return {(p.strategy, p.tasks): p.elapsed for p in points if p.elapsed is not None}


def test_every_strategy_has_a_point_at_every_size_in_order_of_size(swept):
    assert [(p.strategy, p.tasks) for p in swept] == [
        (name, n) for n in SIZES for name in ("sync", "executor", "aiohttp")
    ]
    assert all(p.complete for p in swept), [p for p in swept if not p.complete]


def test_the_async_clients_line_is_flat(swept):
    e = elapsed(swept)
    assert e["aiohttp", 16] < 3 * e["aiohttp", 1]


def test_syncs_line_is_straight(swept):
    e = elapsed(swept)
    # One request after another: never faster than N delays, and 4 × N takes about 4 × longer.
    assert e["sync", 16] >= 16 * DELAY and e["sync", 4] >= 4 * DELAY
    assert e["sync", 16] > 2.5 * e["sync", 4]
    assert e["sync", 16] > 5 * e["sync", 1]


def test_the_executor_goes_in_waves_of_its_pool(swept):
    e = elapsed(swept)
    # 16 tasks on 4 threads: 4 waves, never fewer; 4 tasks: one wave.
    assert e["executor", 16] >= 4 * DELAY
    assert e["executor", 64] >= 16 * DELAY
    assert e["executor", 16] > 2 * e["executor", 4]
    assert e["executor", 16] < e["sync", 16] / 2  # concurrent all the same


def test_sync_past_the_threshold_is_estimated_and_says_so(swept):
    (point,) = [p for p in swept if (p.strategy, p.tasks) == ("sync", 64)]
    measured = elapsed(swept)["sync", 16]
    assert point.estimated and point.estimated_from == UP_TO
    assert point.ok is None and point.failed is None  # nothing ran: nothing is claimed
    assert point.elapsed is not None
    assert 64 * DELAY <= point.elapsed <= 1.5 * (64 / 16) * measured
    # The others are run at every size: only the sequential ones are estimated.
    assert not any(p.estimated for p in swept if p.strategy != "sync")
    out = io.StringIO()
    print_table(config_for_table(), SIZES, swept, out)
    sync_row = next(line for line in out.getvalue().splitlines() if line.startswith("sync"))
    assert sync_row.split()[-2].startswith("~"), sync_row
    assert "estimated, not run" in out.getvalue()


def config_for_table() -> Config:
    return Config(url="http://127.0.0.1:1/delay/40", delay_ms=DELAY_MS)


def test_the_json_has_the_settings_the_sizes_and_a_point_each(swept):
    result = json.loads(json.dumps(result_json(config_for_table(), SIZES, swept, UP_TO)))
    assert set(result) == {"config", "sizes", "run_sequential_up_to", "points"}
    assert "tasks" not in result["config"] and result["config"]["delay_ms"] == DELAY_MS
    assert result["sizes"] == list(SIZES) and result["run_sequential_up_to"] == UP_TO
    assert len(result["points"]) == 3 * len(SIZES)
    for point in result["points"]:
        assert {"strategy", "tasks", "elapsed", "estimated", "ok", "failed"} <= set(point)
    estimated = [p for p in result["points"] if p["estimated"]]
    assert [(p["strategy"], p["tasks"], p["ok"]) for p in estimated] == [("sync", 64, None)]


def test_the_csv_has_a_header_and_a_row_per_point(swept):
    out = io.StringIO()
    print_csv(swept, out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == CSV_FIELDS
    assert len(rows) == 1 + 3 * len(SIZES)
    by_key = {(row[0], row[1]): dict(zip(CSV_FIELDS, row, strict=True)) for row in rows[1:]}
    assert by_key["sync", "64"]["estimated"] == "true" and by_key["sync", "64"]["ok"] == ""
    assert by_key["aiohttp", "64"]["estimated"] == "false" and by_key["aiohttp", "64"]["ok"] == "64"
    assert float(by_key["aiohttp", "64"]["elapsed"]) > 0


# Without a run


def test_sizes_are_read_sorted_and_checked():
    assert parse_sizes("16, 1,4,4") == (1, 4, 16)
    for bad in ("0", "1,x", "", "100001"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_sizes(bad)


def test_the_plan_goes_size_by_size_and_estimates_only_the_sequential_ones():
    strategies = [BY_ID["sync"], BY_ID["gather-blocking"], BY_ID["aiohttp"]]
    steps = plan(strategies, (1000, 10), 100)
    assert [(s.strategy.id, s.tasks, s.estimated) for s in steps] == [
        ("sync", 10, False),
        ("gather-blocking", 10, False),
        ("aiohttp", 10, False),
        ("sync", 1000, True),
        ("gather-blocking", 1000, True),
        ("aiohttp", 1000, False),
    ]
    assert not any(s.estimated for s in plan(strategies, (1000, 10), None))


def run_of(strategy: str, outcomes: list[tuple[float, float, str | None]]) -> RunState:
    """A finished run from (started, finished, error) per task, the run starting at 0."""
    run = RunState.new(1, strategy, len(outcomes))
    run.apply(RunStarted(1, strategy, len(outcomes), 0.0))
    for i, (start, end, error) in enumerate(outcomes):
        run.apply(TaskStarted(1, i, start, "runner"))
        if error:
            run.apply(TaskFailed(1, i, end, error, 500))
        else:
            run.apply(TaskFinished(1, i, end, 200, 11))
    run.apply(RunFinished(1, max(end for _, end, _ in outcomes) + 0.001, False, None, None))
    return run


def test_a_partly_failed_run_is_marked_and_never_a_point_of_the_line():
    point = Point.measured(run_of("executor", [(0, 0.1, None), (0, 0.1, "HTTP 500")]))
    assert not point.complete and point.ok == 1 and point.error == "HTTP 500"
    assert fmt_point(point).startswith("!")
    assert point.to_json()["estimated"] is False


def test_the_estimate_is_n_times_the_median_time_from_one_answer_to_the_next():
    # One slow first request (a new connection) does not set the time per request.
    run = run_of("sync", [(0.0, 0.3, None), (0.3, 0.4, None), (0.4, 0.5, None), (0.5, 0.6, None)])
    assert time_per_request(run) == pytest.approx(0.1)
    step = plan([BY_ID["sync"]], (1000,), 100)[0]
    point = estimate(step, (4, time_per_request(run)))
    assert point.estimated and point.elapsed == pytest.approx(100.0) and point.estimated_from == 4
    nothing = estimate(step, None)  # no run in full below the threshold: no figure
    assert nothing.elapsed is None and not nothing.complete and nothing.error


# Cancelled


def worker_pids() -> set[int]:
    """This process's run processes still alive (a reaped or zombie one is gone)."""
    return {pid for pid in descendants(os.getpid()) if is_run(pid) and alive(pid)}


async def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_cancelling_a_sweep_kills_its_run_and_keeps_what_was_measured(server):
    before = worker_pids()
    config = config_for(server, url=server.url(300))  # N = 30 would take 9 s
    big_one: asyncio.Event = asyncio.Event()

    def before_each(strategy: Strategy, n: int) -> None:
        if n == 30:
            big_one.set()

    points: list[Point] = []
    going = asyncio.create_task(
        sweep(config, [BY_ID["sync"]], (1, 30), Runner(live=False), None, before_each, None, points)
    )
    await asyncio.wait_for(big_one.wait(), 20)
    await wait_for(lambda: bool(worker_pids() - before))  # its process is up
    going.cancel()
    with pytest.raises(asyncio.CancelledError):
        await going
    assert [(p.strategy, p.tasks) for p in points] == [("sync", 1)]
    await wait_for(lambda: not worker_pids() - before, timeout=5)


# On screen


async def wait_until(pilot: Any, condition: Callable[[], bool], timeout: float = 20) -> None:
    """Let the app go on until the condition holds (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the screen"
        await pilot.pause(0.02)


class Host(App[None]):
    """A bare app to push the screen on, as the dashboard does."""

    def __init__(self, screen: SweepScreen) -> None:
        super().__init__()
        self.sweep_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.sweep_screen)


async def test_the_screen_draws_the_points_as_they_come_and_escape_leaves_it(server):
    screen = SweepScreen(
        config_for(server), [BY_ID["sync"], BY_ID["aiohttp"]], (1, 4), 1, server=server
    )
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: screen.done)
        assert len(screen.chart.points) == 4
        drawn = screen.chart.render().plain
        assert MEASURED_MARK in drawn and ESTIMATE_MARK in drawn
        assert str(screen.table.get_cell("sync", "4")).startswith("~")  # estimated, said so
        assert not str(screen.table.get_cell("aiohttp", "4")).startswith("~")
        assert "done" in str(screen.chart.border_title)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not screen)


async def test_escape_cancels_a_sweep_under_way_and_leaves_no_process(server):
    before = worker_pids()
    config = config_for(server, url=server.url(300))
    screen = SweepScreen(config, [BY_ID["sync"]], (1, 30), None, server=server)
    app = Host(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: len(screen.points) == 1 and bool(worker_pids() - before))
        await pilot.press("escape")  # cancelled: what was measured stays on screen
        await wait_until(pilot, lambda: not worker_pids() - before, timeout=5)
        assert screen.cancelled and not screen.done and app.screen is screen
        assert "cancelled after 1 run · escape: back" in str(screen.chart.border_title)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is not screen)


def modelled_run(start: RunStarted) -> list[tuple[float, Batch]]:
    """A run that takes what the model says, reported at once: the screen with every
    strategy at every size, without running any."""
    run_id, t0, n = start.run_id, start.at, start.tasks
    took = modelled(start.strategy, n)
    batch: Batch = []
    for i in range(n):
        batch += [
            TaskStarted(run_id, i, t0 + took * i / n, "t"),
            TaskFinished(run_id, i, t0 + took * (i + 1) / n, 200, 1),
        ]
    return [(0.0, [*batch, RunFinished(run_id, t0 + took, False, None, None)])]


def modelled(strategy: str, n: int) -> float:
    if strategy in ("sync", "async-sequential", "gather-blocking"):
        return 0.5 * n
    if strategy in ("executor", "threads"):
        return 0.5 * -(-n // 6)
    return 0.5 + 0.001 * n


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_every_strategy_reads_at_80x24_and_160x50(size):
    screen = SweepScreen(
        config_for_table(), list(STRATEGIES), source=lambda: ScriptedSource(modelled_run)
    )
    titles: list[tuple[int, str]] = []
    show = screen._show_status

    def shown() -> None:
        show()
        titles.append((screen.chart.size.width, str(screen.chart.border_title)))

    screen._show_status = shown  # type: ignore[method-assign]
    app = Host(screen)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: screen.done)
        await pilot.pause()
        width, height = size
        # Each status whole in the frame's top edge ("async-sequential at N = 100 · run 24 of
        # 41 · 3 estimated" was cut at 80 columns): the key it offers is the footer's too.
        laid_out = [(room, title) for room, title in titles if room]
        assert laid_out and all(len(title) <= room - 6 for room, title in laid_out), laid_out
        assert any("async-sequential at N = " in title for _, title in laid_out)
        # The table whole, under a chart tall enough to tell the lines apart.
        assert screen.table.region.bottom <= height - 1
        assert screen.table.size.height == 1 + len(STRATEGIES)
        assert screen.chart.size.height >= 7
        assert screen.table.region.right <= width
        for strategy in STRATEGIES:
            assert str(screen.table.get_cell(strategy.id, "1000"))
        assert str(screen.table.get_cell("sync", "1000")).startswith("~")
        drawn = screen.chart.render().plain
        assert ESTIMATE_MARK in drawn and FAILED_MARK not in drawn
        assert "1,000" in drawn and "s" in drawn


# Wired into the command line and the dashboard (these run once cli.py and app.py have it)


def test_fetchviz_sweep_writes_csv_or_json_and_refuses_both(capsys):
    from fetchviz.cli import main

    sweep_args = ["sweep", "-s", "sync", "-s", "aiohttp", "--tasks", "1,3", "--delay", "20"]
    assert main([*sweep_args, "--csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert tuple(rows[0]) == CSV_FIELDS and len(rows) == 1 + 4
    assert main([*sweep_args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sizes"] == [1, 3] and len(result["points"]) == 4
    assert main(["sweep", "--json", "--csv"]) == 2
    assert "one of the two" in capsys.readouterr().err
    # Nothing below N = 100 to estimate sync from: it ran nothing, said "—" and exit 0.
    assert main(["sweep", "-s", "sync", "-s", "async-sequential", "--tasks", "500"]) == 2
    said = capsys.readouterr().err
    assert "sync, async-sequential: past N = 100 the sweep estimates them" in said
    assert "--run-all-sizes" in said
    # Beside a strategy that runs there: it runs; the line says why sync is "—".
    assert main(["sweep", "-s", "sync", "-s", "aiohttp", "-n", "120", "--delay", "0", "--csv"]) == 0
    out = capsys.readouterr()
    assert "sync: past N = 100 the sweep estimates it" in out.err
    assert len(list(csv.reader(io.StringIO(out.out)))) == 1 + 2


async def test_s_in_the_dashboard_sweeps_and_escape_comes_back(server):
    from fetchviz.ui.launch import dashboard_app

    app = dashboard_app(config_for(server, tasks=2), [BY_ID["aiohttp"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: app.session.current is not None and app.session.current.done
        )
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepScreen))
        screen = app.screen
        assert isinstance(screen, SweepScreen)
        await wait_until(pilot, lambda: len(screen.points) >= 2)
        await pilot.press("6")  # the dashboard's keys start nothing behind the sweep
        assert len(app.session.history) == 1
        await pilot.press("escape")  # cancels; the chart stays
        await wait_until(pilot, lambda: screen.cancelled)
        assert app.screen is screen
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SweepScreen))


async def test_the_standalone_sweep_once_over_offers_only_what_works():
    """`fetchviz sweep` at a terminal: done, escape has nothing left to do, so the footer no
    longer offers it; q quits (the shared App's)."""
    from fetchviz.ui.launch import sweep_app

    screen = SweepScreen(
        config_for_table(), [BY_ID["aiohttp"]], (1, 2), source=lambda: ScriptedSource(modelled_run)
    )
    app = sweep_app(screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: screen.done)
        footer = app.screen.query_one("Footer")

        def shown() -> str:
            return " ".join(str(item.render()) for item in footer.query("FooterKey"))

        await wait_until(pilot, lambda: "Cancel" not in shown())  # the footer redraws later
        assert "Quit" in shown()
        await pilot.press("escape")  # still nothing: the chart stays
        assert app.screen is screen
        await pilot.press("q")
    assert app.return_code == 0


@pytest.fixture(scope="module")
def recorded_sweep_file(tmp_path_factory) -> tuple[str, dict[str, Any]]:
    """`fetchviz sweep --json --record`: the recording, and what the sweep said of it."""
    from fetchviz.cli import main

    path = str(tmp_path_factory.mktemp("sweep") / "sweep.jsonl.gz")
    out = io.StringIO()
    # Past N = 100 sync is estimated, from its run at 3: the recording holds no run of it there.
    args = ["sweep", "-s", "sync", "-s", "aiohttp", "--tasks", "1,3,120", "--delay", "20"]
    with contextlib.redirect_stdout(out):
        assert main([*args, "--json", "--record", path]) == 0
    return path, json.loads(out.getvalue())


def test_a_recorded_sweep_reads_back_as_the_points_the_sweep_said(recorded_sweep_file):
    """The replay's chart is the sweep's own: its runs' times, and its estimates made again
    from them as the sweep made them (a recording holds runs, not estimates)."""
    from fetchviz.records.playback import recorded_sweep
    from fetchviz.records.recording import read_recording

    path, said = recorded_sweep_file
    recording = read_recording(path)
    assert len(recording.runs) == 5  # sync at 120 was not run
    swept = recorded_sweep(recording)
    assert swept is not None
    assert swept.strategies == ("sync", "aiohttp") and swept.sizes == (1, 3, 120)
    assert [p.to_json() for p in swept.points] == said["points"]
    [estimate] = [p for p in swept.points if p.estimated]
    assert (estimate.strategy, estimate.tasks, estimate.estimated_from) == ("sync", 120, 3)


async def test_s_in_a_replay_of_a_sweep_shows_its_chart_and_escape_comes_back(recorded_sweep_file):
    from fetchviz.records.recording import read_recording
    from fetchviz.records.replay import ReplaySource
    from fetchviz.ui.launch import replay_app

    path, said = recorded_sweep_file
    app = replay_app(ReplaySource(read_recording(path), 10.0))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.session.current is not None)
        assert any("s shows them against N" in str(n.message) for n in app._notifications)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepScreen))
        screen = app.screen
        assert screen.done and "as recorded: 5 runs, 1 estimated" in str(screen.chart.border_title)
        shown = {(p["strategy"], p["tasks"]) for p in said["points"]}
        assert {(p.strategy, p.tasks) for p in screen.points} == shown
        for point in screen.points:  # as the sweep said them (its JSON rounds to 0.1 ms)
            cell = str(screen.table.get_cell(point.strategy, str(point.tasks)))
            assert cell == fmt_point(point) and cell.startswith("~") == point.estimated
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SweepScreen))
        assert app.session.current is not None  # the replay goes on where it was


def test_a_recorded_sweep_estimates_only_where_the_sweep_does(recorded_sweep_file):
    """Past N = 100, a sequential strategy with no run there; with no run in full before it,
    "—" (as the sweep says it), and never at an N the sweep runs it at (a dashboard's
    recording after + ran sync at 1 only: no estimate at 3)."""
    import dataclasses

    from fetchviz.records.playback import recorded_sweep
    from fetchviz.records.recording import read_recording

    recording = read_recording(recorded_sweep_file[0])

    def swept(runs: list[Any]) -> dict[tuple[str, int], Point]:
        made = recorded_sweep(dataclasses.replace(recording, runs=runs))
        assert made is not None
        return {(p.strategy, p.tasks): p for p in made.points}

    points = swept([r for r in recording.runs if (r.strategy, r.config.tasks) != ("sync", 3)])
    assert ("sync", 3) not in points
    assert points["sync", 120].estimated and points["sync", 120].estimated_from == 1
    # sync's only run, at 1, never answered: nothing to estimate from.
    unanswered = [
        dataclasses.replace(r, events=[e for e in r.events if not isinstance(e, TaskFinished)])
        if r.strategy == "sync"
        else r
        for r in recording.runs
        if (r.strategy, r.config.tasks) != ("sync", 3)
    ]
    points = swept(unanswered)
    assert not points["sync", 1].complete
    assert points["sync", 120].estimated and points["sync", 120].elapsed is None
    assert points["sync", 120].error == "no run in full at a smaller N to estimate from"
