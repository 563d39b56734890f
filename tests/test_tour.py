"""The tour tells the tutorial's story from the runs it makes: every figure in a caption is the
run's own (change the run, the caption changes), a run that failed or was cut short says so
instead of a lesson, the code marks what changed since the step before, and ← shows a step's
recorded run. Runs are built from events, as the run's process would send them: no network."""

from __future__ import annotations

import re

from fetchviz.core.baseline import MEASURED, Baseline
from fetchviz.core.catalog import BY_ID
from fetchviz.core.events import (
    LoopBeat,
    RunFinished,
    RunStarted,
    TaskCancelled,
    TaskFailed,
    TaskFinished,
    TasksQueued,
    TaskStarted,
)
from fetchviz.core.model import RunState
from fetchviz.core.tour import STEPS, WIDTH, Tour, caption, changed_lines, ranking
from fetchviz.ui.widgets.code import marked_code

STEP = {step.strategy: step for step in STEPS}


def run_of(
    strategy: str,
    times: list[tuple[float, float]],
    threads: list[str] | None = None,
    lag: float | None = None,
    failed: dict[int, str] | None = None,
    end: float | None = None,
    cancelled: bool = False,
    error: str | None = None,
) -> RunState:
    """A run whose task i ran from times[i][0] to times[i][1] on threads[i]; `end` None:
    still running."""
    failed = failed or {}
    run = RunState.new(1, strategy, len(times), has_loop=lag is not None)
    run.apply(RunStarted(1, strategy, len(times), 0.0))
    run.apply(TasksQueued(1, len(times), 0.0))
    for i, (start, finish) in enumerate(times):
        run.apply(TaskStarted(1, i, start, threads[i] if threads else "runner-1"))
        if i in failed:  # "HTTP 500": the server's answer, with its status
            status = int(failed[i][5:]) if failed[i].startswith("HTTP ") else None
            run.apply(TaskFailed(1, i, finish, failed[i], status))
        elif finish >= 0:  # a negative finish: still in flight
            run.apply(TaskFinished(1, i, finish, 200, 11))
    if lag is not None:
        run.apply(LoopBeat(1, 0.01, lag, 0.0))
    if end is not None:
        run.apply(RunFinished(1, end, cancelled=cancelled, error=error, loop_lag_max=lag))
    return run


def staircase(strategy: str, tasks: int, each: float, lag: float | None = None) -> RunState:
    times = [(i * each, (i + 1) * each) for i in range(tasks)]
    return run_of(strategy, times, lag=lag, end=tasks * each)


def pool(strategy: str, tasks: int, size: int, each: float, lag: float | None = None) -> RunState:
    """A pool of `size` threads: tasks in waves of `size`, one request long each."""
    times = [((i // size) * each, (i // size + 1) * each) for i in range(tasks)]
    threads = [f"asyncio_{i % size}" for i in range(tasks)]
    return run_of(strategy, times, threads, lag=lag, end=times[-1][1])


def measured(elapsed: float) -> Baseline:
    return Baseline(elapsed, True, MEASURED)


def text(lines: list[str]) -> str:
    return "\n".join(lines)


def test_the_steps_follow_the_tutorial_then_compare_all():
    ids = [step.strategy for step in STEPS]
    assert ids[:6] == [
        "sync",
        "async-sequential",
        "gather-blocking",
        "executor",
        "httpx",
        "aiohttp",
    ]
    assert set(ids[6:8]) == {"taskgroup", "threads"} and ids[-1] is None
    assert all(step.strategy in BY_ID for step in STEPS[:-1])
    assert all(step.after is None or step.after in BY_ID for step in STEPS)


def test_the_header_says_the_step_its_place_and_its_title():
    tour = Tour()
    tour.next()
    tour.next()
    assert tour.header() == "step 3/9 · gather-blocking — gathered, but blocking"


def test_the_staircase_caption_quotes_the_runs_own_time():
    slow = text(caption(STEP["sync"], staircase("sync", 4, 0.5), None, None))
    fast = text(caption(STEP["sync"], staircase("sync", 4, 0.25), None, None))
    assert "2.00 s in all, 0.50 s a request" in slow and "4 requests" in slow
    assert "1.00 s in all, 0.25 s a request" in fast and "2.00" not in fast


def test_gather_blocking_says_how_long_the_heartbeat_stopped_and_against_which_sync():
    run = staircase("gather-blocking", 10, 0.5, lag=4.98)
    said = text(caption(STEP["gather-blocking"], run, measured(5.0), None))
    assert "queued all 10 at once, yet 1 ran at a time" in said
    assert "heartbeat stopped for 4.98 s" in said and "the same as sync's 5.00 s" in said
    other = staircase("gather-blocking", 4, 0.5, lag=1.99)
    said = text(caption(STEP["gather-blocking"], other, measured(0.5), None))
    assert "stopped for 1.99 s" in said and "4.0× slower than sync's 0.50 s" in said


def test_async_sequential_is_no_faster_than_sync_as_measured():
    run = staircase("async-sequential", 10, 0.5, lag=5.0)
    said = text(caption(STEP["async-sequential"], run, measured(5.02), None))
    assert "still 1 request at a time" in said
    assert "the same as sync's 5.02 s: async alone buys nothing" in said
    estimate = text(caption(STEP["async-sequential"], run, Baseline(5.0, False, "est."), None))
    assert "sync's ~5.00 s" in estimate  # an estimate says it is one
    near = text(caption(STEP["async-sequential"], run, measured(5.4), None))
    assert "within 10% of sync's 5.40 s: async alone buys nothing" in near
    far = text(caption(STEP["async-sequential"], run, measured(10.0), None))
    assert "2.0× faster than sync's 10.0 s." in far and "buys nothing" not in far


def test_executor_counts_its_threads_and_its_waves():
    three = text(caption(STEP["executor"], pool("executor", 10, 4, 0.5, lag=0.004), None, None))
    assert "4 threads here" in three and "10 requests in 3 waves of up to 4" in three
    assert "worst lag: 4 ms" in three and "1.50 s" in three
    two = text(caption(STEP["executor"], pool("executor", 10, 5, 0.5, lag=0.004), None, None))
    assert "5 threads here" in two and "in 2 waves of up to 5" in two and "1.00 s" in two


def test_an_async_client_counts_what_was_in_flight_at_once_on_one_thread():
    run = run_of("httpx", [(0.0, 0.5)] * 10, lag=0.046, end=0.5)
    said = text(caption(STEP["httpx"], run, measured(5.0), None))
    assert "10 of 10 in flight at once, on 1 thread" in said
    assert "10.0× faster than sync's 5.00 s" in said and "worst lag 46 ms" in said
    limited = run_of("httpx", [(0.0, 0.5)] * 5 + [(0.5, 1.0)] * 5, lag=0.01, end=1.0)
    assert "5 of 10 in flight" in text(caption(STEP["httpx"], limited, None, None))


def test_aiohttp_weighs_itself_against_the_httpx_run_just_made():
    httpx = run_of("httpx", [(0.0, 0.2)] * 4, lag=0.01, end=0.2)
    aiohttp = run_of("aiohttp", [(0.0, 0.1)] * 4, lag=0.001, end=0.1)
    said = text(caption(STEP["aiohttp"], aiohttp, None, httpx))
    assert "httpx did the same in 0.20 s: 2.0× faster with aiohttp" in said


def test_threads_are_the_same_waves_as_executor_when_they_are():
    executor = pool("executor", 10, 5, 0.5, lag=0.003)
    threads = pool("threads", 10, 5, 0.5)
    said = text(caption(STEP["threads"], threads, None, executor))
    assert "5 threads, 2 waves of up to 5" in said and "the same waves" in said
    other = text(caption(STEP["threads"], pool("threads", 10, 2, 0.5), None, executor))
    assert "2 threads, 5 waves" in other and "the same waves" not in other


def test_while_it_runs_the_caption_says_what_to_watch_and_no_figure():
    run = run_of("executor", [(0.0, 0.5), (0.0, -1.0)], threads=["a", "b"], lag=0.0)
    said = caption(STEP["executor"], run, measured(5.0), None)
    assert said[0] == STEP["executor"].watch
    assert not re.search(r"\d", text(said))


def test_a_cancelled_run_says_so_instead_of_a_lesson():
    run = run_of("sync", [(0.0, 0.5), (0.5, -1.0)], end=0.7, cancelled=True)
    said = text(caption(STEP["sync"], run, measured(5.0), None))
    assert "cut short, 1 of 2 done" in said and "r runs it again" in said
    assert "baseline" not in said and "faster" not in said


def test_a_run_that_failed_or_fetched_nothing_says_why():
    broken = run_of("httpx", [(0.0, -1.0)], end=0.1, error="killed by signal 9")
    assert caption(STEP["httpx"], broken, None, None)[0] == "The run failed: killed by signal 9"
    refused = dict.fromkeys(range(4), "connection refused")
    nothing = run_of("aiohttp", [(0.0, 0.01)] * 4, lag=0.0, end=0.01, failed=refused)
    said = text(caption(STEP["aiohttp"], nothing, measured(5.0), None))
    assert "None of the 4 requests was answered: connection refused" in said
    assert "faster" not in said


def test_a_partly_failed_run_says_its_figures_count_the_failures():
    run = pool("executor", 10, 5, 0.5, lag=0.003)
    run.tasks[3].error, run.ok, run.failed = "HTTP 500", 9, 1
    said = text(caption(STEP["executor"], run, None, None))
    assert "1 of 10 failed (HTTP 500): its figures count them" in said


def test_a_taskgroup_whose_first_failure_cancelled_the_rest_teaches_just_that():
    run = RunState.new(1, "taskgroup", 3, has_loop=True)
    for event in (
        RunStarted(1, "taskgroup", 3, 0.0),
        *(TaskStarted(1, i, 0.0, "runner-1") for i in range(3)),
        TaskFailed(1, 0, 0.1, "HTTP 500"),
        TaskCancelled(1, 1, 0.1),
        TaskCancelled(1, 2, 0.1),
        RunFinished(1, 0.1, loop_lag_max=0.001),
    ):
        run.apply(event)
    said = text(caption(STEP["taskgroup"], run, measured(1.0), None))
    assert "first failure (HTTP 500) cancelled the rest" in said
    assert "0 ok, 1 failed, 2 cancelled" in said


def test_captions_fit_80_columns_whole_even_with_big_figures():
    baseline = Baseline(12345.67, False, "est.")
    big = {
        "sync": staircase("sync", 10_000, 1.2345),
        "async-sequential": staircase("async-sequential", 10_000, 1.2345, lag=12345.0),
        "gather-blocking": staircase("gather-blocking", 10_000, 1.2345, lag=12345.0),
        "executor": pool("executor", 10_000, 32, 1.2345, lag=0.123),
        "httpx": run_of("httpx", [(0.0, 99.5)] * 10_000, lag=0.5, end=99.5),
        "aiohttp": run_of("aiohttp", [(0.0, 99.5)] * 10_000, lag=0.5, end=99.5),
        "taskgroup": run_of("taskgroup", [(0.0, 99.5)] * 10_000, lag=0.5, end=99.5),
        "threads": pool("threads", 10_000, 32, 1.2345),
    }
    for step in STEPS[:-1]:
        assert step.strategy is not None
        previous = big.get(step.after) if step.after else None
        lines = caption(step, big[step.strategy], baseline, previous)
        assert 2 <= len(lines) <= 3
        assert all(len(line) <= WIDTH and "…" not in line for line in lines), lines
    assert all(len(step.watch) <= WIDTH for step in STEPS)


def test_compare_all_names_the_best_and_the_worst_and_how_far_apart():
    runs = [
        staircase("sync", 10, 0.5),
        staircase("gather-blocking", 10, 0.51),
        pool("executor", 10, 5, 0.5),
        run_of("aiohttp", [(0.0, 0.25)] * 10, lag=0.001, end=0.25),
    ]
    said = text(ranking(runs, measured(5.0), total=4))
    assert "Fastest: aiohttp, 0.25 s; slowest: gather-blocking, 5.10 s, 20.4× longer" in said
    assert "2 overlapped their waiting, 5.0× to 20.0× faster than sync; 2 did not" in said
    assert "1 of 4 done" in text(ranking(runs[:1], measured(5.0), total=4))  # still going


def test_compare_all_with_failures_everywhere_ranks_the_runs_that_ran_in_full():
    """The tour's own tip for taskgroup's step, --fail-rate 0.2, leaves nearly every run with
    a failure: "No run had every request answered: nothing to compare"."""
    one_failed = {3: "HTTP 500"}
    runs = [
        run_of("sync", [(i * 0.5, (i + 1) * 0.5) for i in range(10)], failed=one_failed, end=5.0),
        run_of("aiohttp", [(0.0, 0.25)] * 10, lag=0.001, failed=one_failed, end=0.25),
        pool("executor", 10, 5, 0.5),
    ]
    said = text(ranking(runs, measured(5.0), total=3))
    assert "Fastest: aiohttp, 0.25 s; slowest: sync, 5.00 s, 20.0× longer" in said, said
    assert "Ranked with HTTP errors, answered in time: aiohttp (9 of 10 ok)" in said
    refused = run_of(
        "httpx", [(0.0, 0.1)] * 10, lag=0.001, failed={0: "connection refused"}, end=0.1
    )
    said = text(ranking([*runs, refused], measured(5.0), total=4))
    assert "Fastest: aiohttp" in said
    assert "2 ranked with HTTP errors; not ranked: httpx (9 of 10 ok)." in said


def test_compare_all_cut_short_ranks_nothing():
    cut = run_of("executor", [(0.0, -1.0)], end=0.1, cancelled=True)
    said = text(ranking([staircase("sync", 2, 0.5), cut], None, total=8))
    assert "cut short after 1 of 8" in said and "Fastest" not in said


def test_changed_lines_mark_async_def_and_await_and_nothing_on_the_first_step():
    sync, sequential = BY_ID["sync"].source(), BY_ID["async-sequential"].source()
    lines = sequential.splitlines()
    marked = {lines[i].strip() for i in changed_lines(sync, sequential)}
    assert "async def async_sequential(job: Job) -> None:" in marked
    assert "async def get(i: int) -> None:" in marked and "await get(i)" in marked
    assert "for i in range(job.tasks):" not in marked  # the same line in both: not the lesson
    assert not any("requests.get" in line for line in marked)  # the helper did not change
    assert changed_lines(None, sync) == set() and STEPS[0].changed() == set()
    assert STEPS[1].changed() == changed_lines(sync, sequential)


def test_marked_code_marks_the_changed_lines_and_keeps_the_code():
    source = BY_ID["async-sequential"].source()
    shown = marked_code(source, {0, 5}).plain.splitlines()
    assert [i for i, line in enumerate(shown) if line.startswith("▌ ")] == [0, 5]
    assert [line[2:].rstrip() for line in shown] == [line.rstrip() for line in source.splitlines()]


def test_the_tour_keeps_each_steps_run_and_goes_back_to_it():
    tour = Tour()
    assert tour.needs_run and not tour.previous()  # nothing before the first step
    sync = staircase("sync", 4, 0.5)
    assert tour.record(sync) and not tour.needs_run
    assert not tour.record(staircase("httpx", 4, 0.1))  # not this step's strategy
    assert tour.next() and tour.needs_run and tour.run is None
    second = staircase("async-sequential", 4, 0.5, lag=2.0)
    tour.record(second)
    assert tour.previous() and tour.run is sync  # as recorded: no new run
    assert tour.next() and tour.run is second and not tour.needs_run
    while tour.next():
        pass
    assert tour.step.strategy is None and not tour.next()  # compare all is the last


def test_a_step_cut_short_by_moving_on_runs_again_when_come_back_to():
    tour = Tour()
    tour.record(run_of("sync", [(0.0, -1.0)], end=0.1, cancelled=True))
    assert tour.needs_run


def test_the_tour_captions_a_step_against_the_step_it_builds_on():
    tour = Tour()
    for step in STEPS[:5]:  # up to httpx
        assert step.strategy is not None
        tour.record(staircase(step.strategy, 2, 0.1, lag=0.001))
        tour.next()
    tour.record(run_of("aiohttp", [(0.0, 0.05)] * 2, lag=0.001, end=0.05))
    assert tour.step.strategy == "aiohttp"
    assert "httpx did the same in 0.20 s: 4.0× faster" in text(tour.caption(None))


def test_the_compare_step_keeps_the_runs_of_its_latest_round():
    tour = Tour(compared=2)
    while tour.next():
        pass
    first = staircase("sync", 2, 0.5)
    tour.record(first)
    tour.record(run_of("aiohttp", [(0.0, 0.1)] * 2, lag=0.0, end=0.1))
    assert len(tour.runs) == 2 and "Fastest: aiohttp" in text(tour.caption(measured(1.0)))
    again = staircase("sync", 2, 0.5)
    tour.record(again)  # r: a new round begins with sync
    assert tour.runs == (again,)


def test_the_caption_follows_a_run_that_ends_after_it_was_first_read():
    tour = Tour()
    run = run_of("sync", [(0.0, 0.5), (0.5, -1.0)])  # still going: the events come later
    tour.record(run)
    assert tour.caption(None)[0] == STEPS[0].watch
    run.apply(TaskFinished(1, 1, 1.0, 200, 11))
    run.apply(RunFinished(1, 1.0))
    assert "1.00 s in all" in text(tour.caption(None))


def test_a_step_come_back_to_says_what_it_said_when_it_ran():
    """`←` is the step "as it ran": a later sync run (compare-all's) moved its 4.8× to 4.7×."""
    tour = Tour()
    tour.next()  # async-sequential
    tour.record(staircase("async-sequential", 2, 0.1, lag=0.001))
    said = text(tour.caption(measured(1.0)))
    assert "5.0× faster than sync's 1.00 s" in said
    assert text(tour.caption(measured(0.9))) == said  # the baseline moved on since


def test_a_step_come_back_to_is_weighed_against_the_baseline_of_its_run_in_its_panel_too():
    """The run panel said step 1's 2.03 s sync run was "sync 2.05 s measured · this is the
    sync baseline" after compare-all's sync run, while its caption kept its own."""
    tour = Tour()
    tour.next()
    run = staircase("async-sequential", 2, 0.1, lag=0.001)
    tour.record(run)
    then, later = measured(1.0), measured(0.9)
    assert tour.baseline_for(run, then) == then
    assert tour.baseline_for(run, later) == then  # as it was when the run ended
    assert text(tour.caption(later)) == text(tour.caption(then))
    tour.next()
    assert tour.baseline_for(None, later) == later  # a step not run yet: the session's
