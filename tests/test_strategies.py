"""Each strategy, run for real against the embedded server, shows the shape it teaches."""

from __future__ import annotations

import io
import itertools
import os
import socket

import pytest

from conftest import DELAY_MS, config_for, run_one
from fetchviz.core.config import Config
from fetchviz.core.model import RunState, TaskState
from fetchviz.runs.headless import print_table

DELAY = DELAY_MS / 1000
N = 6
SEQUENTIAL = ["sync", "async-sequential", "gather-blocking"]
CONCURRENT = ["httpx", "aiohttp"]


def assert_all_ok(run: RunState) -> None:
    assert run.done and not run.cancelled and run.error is None
    assert (run.ok, run.failed) == (N, 0)
    assert all(row.status == 200 and row.nbytes for row in run.tasks)


def starts(run: RunState) -> list[float]:
    return [run.offset(row.started) for row in run.tasks]  # type: ignore[misc]


@pytest.mark.parametrize("strategy", SEQUENTIAL)
def test_sequential_strategies_make_a_staircase(server, strategy):
    run = run_one(config_for(server, tasks=N), strategy)
    assert_all_ok(run)
    assert run.elapsed(0) >= 0.9 * N * DELAY
    ordered = sorted(run.tasks, key=lambda row: row.started)
    for before, after in itertools.pairwise(ordered):
        assert after.started >= before.finished  # never two requests in flight at once


@pytest.mark.parametrize("strategy", CONCURRENT)
def test_async_clients_run_every_request_at_once(server, strategy):
    # 100 ms answers: a wide margin for every request to be on its way before the first answer
    run = run_one(config_for(server, tasks=N, url=server.url(100)), strategy)
    assert_all_ok(run)
    first_finish = min(row.finished for row in run.tasks)
    assert all(row.started < first_finish for row in run.tasks)  # a column, not a staircase
    assert {row.thread for row in run.tasks} == {f"runner-{run.run_id}"}  # one thread


def test_async_limit_bounds_what_is_in_flight(server):
    run = run_one(config_for(server, tasks=N, limit=2), "aiohttp")
    assert_all_ok(run)
    for row in run.tasks:
        in_flight = sum(1 for o in run.tasks if o.started <= row.started < o.finished)
        assert in_flight <= 2
    # the ones that waited for a slot show the wait: created at once, started later
    assert max(starts(run)) >= 2 * DELAY * 0.9
    assert max(run.offset(row.queued) for row in run.tasks) < DELAY


def test_executor_runs_in_waves_of_its_pool_size(server):
    run = run_one(config_for(server, tasks=N, workers=2), "executor")
    assert_all_ok(run)
    assert len({row.thread for row in run.tasks}) <= 2
    assert all(row.thread.startswith("asyncio") for row in run.tasks)
    ordered = sorted(starts(run))
    # three waves of two: the third start waits for a first answer
    assert ordered[2] >= 0.9 * DELAY and ordered[4] >= 1.8 * DELAY
    assert run.elapsed(0) < N * DELAY  # and still faster than one at a time


def test_executor_uses_the_default_pool_unless_told(server):
    run = run_one(config_for(server, tasks=12), "executor")
    assert (run.ok, run.failed) == (12, 0)
    default_size = min(32, (os.cpu_count() or 1) + 4)
    assert len({row.thread for row in run.tasks}) <= default_size


def test_queued_is_when_the_task_was_created(server):
    sync = run_one(config_for(server, tasks=3), "sync")
    assert all(row.queued == row.started for row in sync.tasks)
    gathered = run_one(config_for(server, tasks=3), "gather-blocking")
    queued = [gathered.offset(row.queued) for row in gathered.tasks]
    assert max(queued) < DELAY  # all created at the gather
    assert max(starts(gathered)) >= 1.8 * DELAY  # but run one after another


def test_loop_lag_exposes_fake_async(server):
    slow = config_for(server, url=server.url(100))  # N × 100 ms: a long block to tell apart
    assert run_one(slow, "sync").loop_lag_max is None
    for strategy in ("gather-blocking", "async-sequential"):
        run = run_one(slow, strategy)
        assert run.loop_lag_max >= 0.8 * N * 0.1  # blocked for about the whole run
    aio = run_one(slow, "aiohttp")
    # Far below a blocked loop; its client set-up (an SSL context) may cost tens of ms.
    assert aio.loop_lag_max < 0.5 * N * 0.1


def test_failures_are_rows_with_a_reason(server):
    run = run_one(config_for(server, url=f"{server.base_url}/missing", tasks=3), "aiohttp")
    assert (run.ok, run.failed) == (0, 3)
    assert {row.error for row in run.tasks} == {"HTTP 404"}
    assert {row.status for row in run.tasks} == {404}


@pytest.mark.parametrize("strategy", ["sync", "executor", "httpx", "aiohttp"])
def test_connection_refused_is_said_plainly(strategy):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = run_one(Config(tasks=2, url=f"http://127.0.0.1:{port}/", timeout=2), strategy)
    assert run.failed == 2
    assert {row.error for row in run.tasks} == {"connection refused"}


def test_latency_summary_orders_percentiles(server):
    run = run_one(config_for(server, tasks=8), "aiohttp")
    latency = run.latency()
    assert latency is not None
    assert DELAY * 0.9 <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]


def test_taskgroup_cancels_the_rest_at_the_first_failure():
    """The lesson of structured concurrency: one failure (HTTP 500 from the server) and every
    request still in flight is cancelled; those rows say Cancelled, a state of their own."""
    from fetchviz.runs.server import EmbeddedServer

    with EmbeddedServer(delay_ms=100, jitter_ms=300, fail_rate=0.3) as flaky:
        flaky.wait_ready()
        config = Config(tasks=20, url=flaky.url(), timeout=5)
        run = run_one(config, "taskgroup")
    states = [row.state for row in run.tasks]
    assert run.done and run.error is None
    assert TaskState.FAILED in states and TaskState.CANCELLED in states
    first_failure = min(row.finished for row in run.tasks if row.state is TaskState.FAILED)
    for row in run.tasks:
        if row.state is TaskState.CANCELLED:
            assert row.finished >= first_failure  # cancelled because of it, after it
    assert run.ok + run.failed + run.cancelled_tasks == 20
    task = run.to_json()["tasks"][states.index(TaskState.CANCELLED)]
    assert task["state"] == "cancelled" and task["error"] is None
    table = io.StringIO()
    print_table(config, [run], table)  # the headless table says so, not just "k of 20 ok"
    said = f"taskgroup: {run.cancelled_tasks} cancelled, cut short: the first failure cancelled"
    assert said in table.getvalue()


def test_threads_runs_in_waves_like_executor_without_asyncio(server):
    config = config_for(server, tasks=8, workers=4)
    run = run_one(config, "threads")
    assert run.ok == 8 and run.loop is None  # no event loop at all
    rows = sorted(run.tasks, key=lambda row: row.started)
    first, second = rows[:4], rows[4:]  # two waves of four: a thread is free only when its
    # request is done, so no later request starts before one of the first four has ended
    # (a shape, not a time: starting four threads took 37 ms on a busy machine)
    assert min(row.finished for row in first) <= min(row.started for row in second)
    assert max(row.started for row in first) < min(row.finished for row in first)
    assert all(row.thread.startswith("ThreadPoolExecutor") for row in run.tasks)


def test_the_event_loop_is_a_choice(server):
    """--loop uvloop: the asyncio strategies run on uvloop's loop, in the run's process."""
    import uvloop

    from fetchviz.runs.worker import new_loop

    loop = new_loop("uvloop")
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
    run = run_one(config_for(server, tasks=6, loop="uvloop"), "aiohttp")
    assert run.ok == 6 and run.loop_lag_max is not None


def test_an_error_after_the_answer_does_not_count_the_task_twice():
    """aiohttp's response context may raise on its way out, after done(): the answer stands."""
    from fetchviz.core.events import TaskFinished
    from fetchviz.runs.job import Job

    events: list[object] = []
    for raise_failure in (False, True):
        events.clear()
        job = Job(1, Config(tasks=1, url="http://127.0.0.1:9/"), events.append)
        with job.fetching(0, raise_failure=raise_failure) as fetch:
            fetch.done(200, 11)
            raise ConnectionResetError("closed while releasing the connection")
        assert [type(event) for event in events[1:]] == [TaskFinished]
