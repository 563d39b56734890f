"""The sync baseline is honest: measured by a sync run that fetched everything, else estimated
from requests timed one by one, never from durations the concurrency itself slowed down; and
a run that failed is never ranked or compared as if it had succeeded."""

from __future__ import annotations

import asyncio
import io
import statistics

from conftest import config_for
from faulty import faulty_server
from fetchviz.core.baseline import Baselines, compare, rank, verdict
from fetchviz.core.catalog import BY_ID
from fetchviz.core.config import Config
from fetchviz.core.events import (
    RunFinished,
    RunStarted,
    TaskCancelled,
    TaskFailed,
    TaskFinished,
    TaskStarted,
)
from fetchviz.core.model import RunState
from fetchviz.runs.headless import baseline_of, print_table, run_all
from fetchviz.runs.server import EmbeddedServer


def runs_of(config: Config, *strategies: str) -> list[RunState]:
    return asyncio.run(run_all(config, [BY_ID[s] for s in strategies]))


def test_the_estimate_comes_from_sequential_requests_not_from_a_concurrent_run(server):
    """200 httpx requests at once each take far longer than 100 ms (httpx's CPU, the loop
    shared by all): N × their median overstated sync many times. A sequential request takes
    the delay and a few ms: so does the estimate, per task."""
    config = config_for(server, tasks=200, url=server.url(100), delay_ms=100)
    [run] = runs_of(config, "httpx")
    assert run.all_ok and len(run.sample) == 3
    assert statistics.median(run.durations) > 0.15  # the concurrency slowed each request
    baseline = baseline_of(config, [run])
    assert baseline is not None and not baseline.measured
    per_task = baseline.elapsed / config.tasks
    assert 0.100 <= per_task <= 0.125, per_task  # within 25 % of a sequential request


def test_the_estimate_lands_near_the_sync_run_it_stands_for(server):
    config = config_for(server, tasks=6, url=server.url(60))
    [concurrent] = runs_of(config, "executor")
    estimate = baseline_of(config, [concurrent])
    [sync] = runs_of(config, "sync")
    measured = baseline_of(config, [sync])
    assert estimate is not None and not estimate.measured
    assert measured is not None and measured.measured and measured.how == "measured by a sync run"
    assert abs(estimate.elapsed - measured.elapsed) / measured.elapsed < 0.25


def test_the_sample_is_timed_after_the_run_outside_its_time(server):
    config = config_for(server, tasks=4, url=server.url(80))
    [run] = runs_of(config, "aiohttp")
    assert run.end is not None and run.elapsed(0) < 0.08 * 3  # the sample is not in it
    assert all(duration >= 0.08 for duration in run.sample)


def test_no_sample_is_taken_when_a_sync_run_is_still_to_come(server):
    config = config_for(server, tasks=3)
    runs = runs_of(config, "aiohttp", "sync")
    assert [run.sample for run in runs] == [(), ()]
    baseline = baseline_of(config, runs)
    assert baseline is not None and baseline.measured


def test_a_failed_sample_is_no_estimate_and_says_why():
    with EmbeddedServer(delay_ms=0, fail_rate=1.0) as failing:
        failing.wait_ready()
        config = Config(tasks=2, url=failing.url(), timeout=5)
        [run] = runs_of(config, "aiohttp")
    assert run.sample == () and run.sample_error == "HTTP 500"
    assert baseline_of(config, [run]) is None


def test_a_server_that_fails_some_requests_still_gives_an_estimate():
    # docs' --fail-rate 0.3 example had "no sync baseline: the sample failed (HTTP 500)": the
    # first 500 ended the sample (7 in 10 did). A 5xx is asked again, up to 3 × the count.
    with faulty_server("every-other-fails") as url:
        config = Config(tasks=4, url=url, timeout=5)
        [run] = runs_of(config, "aiohttp")
    assert (run.ok, run.failed) == (2, 2)  # the run's own four: every other one failed
    assert run.sample_error is None and len(run.sample) == 3
    baseline = baseline_of(config, [run])
    assert baseline is not None and not baseline.measured


def scripted_run(strategy: str, answered: int, failed: int, elapsed: float) -> RunState:
    run = RunState.new(1, strategy, answered + failed)
    run.apply(RunStarted(1, strategy, answered + failed, 0.0))
    for i in range(answered + failed):
        run.apply(TaskStarted(1, i, 0.0, "runner-1"))
        if i < answered:
            run.apply(TaskFinished(1, i, elapsed, 200, 11))
        else:
            run.apply(TaskFailed(1, i, elapsed, "connection refused"))
    run.apply(RunFinished(1, elapsed))
    return run


def test_a_sync_run_with_a_request_unanswered_is_no_baseline_and_says_why():
    config = Config(tasks=4, url="http://127.0.0.1:9/")
    baselines = Baselines()
    refused = scripted_run("sync", 3, 1, 0.5)
    baselines.record(config, refused)
    assert baselines.get(config) is None
    assert baselines.why_unmeasured(config) == (
        "sync's run is not a baseline: 1 of its 4 requests ended early "
        "(no answer, or an error sent at once)"
    )
    assert verdict(refused, None) == "not a baseline: 1 ended early · 3 of 4 ok"
    out = io.StringIO()
    print_table(config, [refused], out)
    assert "no sync baseline: sync's run is not a baseline: 1 of its 4" in out.getvalue()
    baselines.record(config, scripted_run("sync", 4, 0, 2.0))
    assert baselines.get(config) is not None and baselines.why_unmeasured(config) is None


def test_a_sync_run_answered_with_http_errors_is_the_baseline_and_says_so():
    """--fail-rate's 500 comes after the same delay as a 200: the run still made its requests
    one after another. It was dropped, and the table then said "add -s sync to measure it"
    with -s sync given (and the tour's own --fail-rate tip weighed each step on an estimate)."""
    with faulty_server("every-other-fails") as url:
        config = Config(tasks=4, url=url, timeout=5)
        sync, aiohttp = runs_of(config, "sync", "aiohttp")
    assert (sync.ok, sync.failed, sync.unanswered) == (2, 2, 0)
    baseline = baseline_of(config, [sync, aiohttp])
    assert baseline is not None and baseline.measured
    assert baseline.elapsed == sync.elapsed(0.0)
    assert baseline.how == "measured by a sync run, 2 of its answers HTTP errors"
    assert verdict(sync, baseline) == "baseline · 2 of 4 ok" and baseline.errors == 2
    out = io.StringIO()
    print_table(config, [sync, aiohttp], out)
    assert "estimated" not in out.getvalue() and "add -s sync" not in out.getvalue()


def test_a_run_that_fetched_nothing_is_not_comparable_and_ranks_last():
    config = Config(tasks=4, url="http://127.0.0.1:9/")
    baselines = Baselines()
    baselines.record(config, scripted_run("sync", 4, 0, 4.0))
    baseline = baselines.get(config)
    nothing = scripted_run("aiohttp", 0, 4, 0.006)
    partly = scripted_run("httpx", 3, 1, 0.5)
    whole = scripted_run("executor", 4, 0, 1.0)
    assert verdict(nothing, baseline) == "0 of 4 ok: not comparable"
    assert verdict(partly, baseline) == "8.0× faster · 88% less time · 3 of 4 ok"
    assert verdict(whole, baseline) == "4.0× faster · 75% less time"
    assert sorted([nothing, partly, whole], key=rank) == [whole, partly, nothing]


def test_a_run_whose_first_failure_cut_the_rest_short_gets_no_ratio():
    """A TaskGroup's: "59.9× faster · 98% less time · 1 of 20 ok" was the time to its first
    failure, beside sync's for all twenty; it ranked above a run that did the work."""
    config = Config(tasks=20, url="http://127.0.0.1:9/")
    baselines = Baselines()
    baselines.record(config, scripted_run("sync", 20, 0, 4.0))
    cut = RunState.new(1, "taskgroup", 20)
    cut.apply(RunStarted(1, "taskgroup", 20, 0.0))
    for i in range(20):
        cut.apply(TaskStarted(1, i, 0.0, "runner-1"))
    cut.apply(TaskFinished(1, 0, 0.05, 200, 11))
    cut.apply(TaskFailed(1, 1, 0.06, "HTTP 500", 500))
    for i in range(2, 20):
        cut.apply(TaskCancelled(1, i, 0.066))
    cut.apply(RunFinished(1, 0.067))
    assert not cut.comparable
    assert verdict(cut, baselines.get(config)) == "1 of 20 ok, 18 cut short: not comparable"
    partly = scripted_run("aiohttp", 16, 4, 0.2)
    assert sorted([cut, partly], key=rank) == [partly, cut]
    # Cancelled with no failure before (a strategy's own timeout, a hedged request's loser):
    # a task without an answer, as a failed one, and the run's time stands.
    timed_out = RunState.new(2, "mine", 2)
    timed_out.apply(RunStarted(2, "mine", 2, 0.0))
    for i in range(2):
        timed_out.apply(TaskStarted(2, i, 0.0, "runner-1"))
    timed_out.apply(TaskFinished(2, 0, 0.05, 200, 11))
    timed_out.apply(TaskCancelled(2, 1, 0.1))
    timed_out.apply(RunFinished(2, 0.1))
    assert timed_out.comparable
    assert verdict(timed_out, baselines.get(config)).endswith("· 1 of 2 ok")


def test_a_run_near_the_whole_of_its_baseline_saved_is_not_said_to_save_all_of_it():
    assert compare(0.1, 32.3) == "323.0× faster · 99.7% less time"
    assert compare(0.001, 100.0) == "100000.0× faster · 99.9% less time"
    assert compare(1.0, 100.0) == "100.0× faster · 99% less time"


def test_at_80_columns_the_table_puts_each_verdict_under_its_row():
    """At 80 columns (a terminal talk) every row wrapped, its bar and verdict on the next
    line from column 0; a pipe's lines stay whole."""
    config = Config(tasks=4, url="http://127.0.0.1:9/")
    runs = [scripted_run("sync", 4, 0, 4.0), scripted_run("executor", 4, 0, 1.0)]
    narrow = io.StringIO()
    print_table(config, runs, narrow, width=80)
    lines = narrow.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    executor = lines.index(next(line for line in lines if line.startswith("executor")))
    assert lines[executor + 1] == "    vs sync: 4.0× faster · 75% less time"
    whole = io.StringIO()
    print_table(config, runs, whole)  # not a terminal: as wide as it takes
    assert any(
        line.startswith("executor") and line.endswith("4.0× faster · 75% less time")
        for line in whole.getvalue().splitlines()
    )


def test_an_http_error_sent_at_once_is_not_an_answer_that_took_the_work():
    """A real server's 429 or 503 at once (or an interim 1xx) is over sooner than the work:
    a sync run with one is no baseline, and it ranks after the runs in full."""
    config = Config(tasks=3, url="http://127.0.0.1:9/")
    run = RunState.new(1, "sync", 3)
    run.apply(RunStarted(1, "sync", 3, 0.0))
    for i, (start, end, status) in enumerate([(0.0, 0.5, 200), (0.5, 1.0, 200), (1.0, 1.001, 429)]):
        run.apply(TaskStarted(1, i, start, "runner-1"))
        if status == 200:
            run.apply(TaskFinished(1, i, end, 200, 11))
        else:
            run.apply(TaskFailed(1, i, end, "HTTP 429", 429))
    run.apply(RunFinished(1, 1.001))
    assert run.unanswered == 1 and not run.in_full
    baselines = Baselines()
    baselines.record(config, run)
    assert baselines.get(config) is None
    assert baselines.why_unmeasured(config) == (
        "sync's run is not a baseline: 1 of its 3 requests ended early "
        "(no answer, or an error sent at once)"
    )
