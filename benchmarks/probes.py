"""Measurements that run in a process of their own, called by benchmarks/run.py.

    python benchmarks/probes.py bare STRATEGY URL N
    python benchmarks/probes.py recorded STRATEGY URL N
    python benchmarks/probes.py dashboard STRATEGY URL N [LIMIT] [first]
    python benchmarks/probes.py keys STRATEGY URL N
    python benchmarks/probes.py replay RECORDING

`first`: measure the run at launch (a big run need not be run twice to be measured).

Each prints one JSON object on stdout.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fetchviz.core.catalog import STRATEGIES
from fetchviz.core.config import MAX_REDIRECTS

# What fetchviz's own cost is measured against: each strategy's very code (strategies.py,
# clients.py), its client set up by the same rules (a limit on silence, --limit, 30
# redirects), run with a job that records nothing, in a plain process without phases. The
# ratio is then what fetchviz adds (events, phases, its processes), not what the rules cost:
# aiohttp's limit on silence (sock_connect and sock_read, a timer re-armed at each read) costs
# it 4.8 % more instructions a request than one `total=` deadline (1,002,553 against 956,316,
# callgrind, N = 200 and 1,000; docs/performance.md), a cost a user setting it pays too.


class _Unrecorded:
    """A `job.fetching(i)` block that records nothing."""

    __slots__ = ()

    def __enter__(self) -> _Unrecorded:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def done(self, status: int, nbytes: int) -> None:
        return None


class BareJob:
    """What a strategy reads of its Job, with nothing reported: the same target and limits."""

    def __init__(self, url: str, n: int, workers: int | None) -> None:
        self.tasks = n
        self.url = url
        self.urls = [url] * n
        self.timeout = 10.0
        self.limit = n
        self.max_redirects = MAX_REDIRECTS
        self.cacert = None
        self.verify = True
        self.ssl = True
        self.workers = workers
        self._unrecorded = _Unrecorded()

    def queue_all(self) -> range:
        return range(self.tasks)

    def fetching(self, index: int, raise_failure: bool = False) -> _Unrecorded:
        return self._unrecorded


def bare(strategy: str, url: str, n: int) -> dict[str, float]:
    """Timed like fetchviz times a run: from before the loop exists to after it is done."""
    import importlib

    from fetchviz.runs.procs import raise_open_file_limit

    known = next(s for s in STRATEGIES if s.id == strategy)
    code = getattr(importlib.import_module(f"fetchviz.runs.{known.module}"), known.function)
    raise_open_file_limit()
    workers = n if strategy == "executor" else None  # as `fetchviz --workers N`
    job = BareJob(url, n, workers)
    started = time.perf_counter()
    loop = asyncio.new_event_loop()
    if workers is not None:
        loop.set_default_executor(ThreadPoolExecutor(workers, thread_name_prefix="asyncio"))
    loop.run_until_complete(code(job))
    elapsed = time.perf_counter() - started
    loop.close()
    return {"elapsed": elapsed}


def recorded(strategy: str, url: str, n: int) -> dict[str, float]:
    """The same code as `bare`, run as a headless run's process runs it (worker.py): phases
    installed, a real Job, its events pickled into a pipe's sink (to /dev/null), the loop's
    heartbeat. In a plain process, not forked: what the two count apart is fetchviz's
    recording alone (instructions.py)."""
    from fetchviz.core.config import Config
    from fetchviz.runs import worker
    from fetchviz.runs.job import Job

    known = next(s for s in STRATEGIES if s.id == strategy)
    worker.prepare()  # as the fork server does: phases installed, imports frozen
    workers = n if strategy == "executor" else None  # as `fetchviz --workers N`
    sink = worker.PipeSink(os.open(os.devnull, os.O_WRONLY), worker.QUIET_WINDOW)
    job = Job(1, Config(tasks=n, url=url, workers=workers), sink.emit, sink.emit_task)
    started = time.perf_counter()
    finished = worker.execute(known, job, workers, False, None)
    elapsed = time.perf_counter() - started
    sink.emit(finished)
    sink.flush()
    return {"elapsed": elapsed}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))] if ordered else 0.0


def watch_events_reach_the_screen(
    clock: Callable[[], float], on_run_end: Callable[[], None] | None = None
) -> list[float]:
    """Patch the dashboard so that each task event's lateness is measured: from its stamp to
    the end of the first frame composed after the dashboard applied it, on `clock`. An event
    applied is pending; the next redraw puts it into the widgets (every event changes the run
    panel's counts); the frame after that shows it. Returns the list it fills."""
    from textual.screen import Screen

    from fetchviz.core.events import RunFinished, TaskFailed, TaskFinished, TaskStarted
    from fetchviz.core.model import RunState
    from fetchviz.ui.screens.board import BoardScreen

    applied: list[float] = []
    drawn: list[float] = []
    late: list[float] = []
    original_apply = RunState.apply
    original_redraw = BoardScreen.redraw
    original_compose = Screen._compositor_refresh

    def apply(self: RunState, event: Any) -> None:
        original_apply(self, event)
        if isinstance(event, TaskStarted | TaskFinished | TaskFailed):
            applied.append(event.at)
        elif isinstance(event, RunFinished) and on_run_end is not None:
            on_run_end()

    def redraw(self: BoardScreen, *args: Any) -> bool:
        drawn.extend(applied)
        applied.clear()
        return original_redraw(self, *args)

    def compose_frame(self: Screen) -> None:  # type: ignore[type-arg]
        original_compose(self)
        now = clock()
        late.extend(now - at for at in drawn)
        drawn.clear()

    RunState.apply = apply  # type: ignore[method-assign]
    BoardScreen.redraw = redraw  # type: ignore[method-assign]
    Screen._compositor_refresh = compose_frame  # type: ignore[method-assign]
    return late


async def dashboard(
    strategy: str, url: str, n: int, limit: int | None = None, first: bool = False
) -> dict[str, float]:
    """A run under the real dashboard (Textual's headless driver), instrumented.

    Event → screen: from the event's stamp (taken in the run's process) to the end of the
    first frame composed after the dashboard applied it: an event applied is pending; the
    dashboard's next redraw puts it into the widgets (every event changes the run panel's
    counts); the frame after that shows it. The dashboard's own loop: a heartbeat on it, 10 ms
    apart, measures how late it wakes.
    """
    from fetchviz.runs import tuning

    with tuning.dashboard_settings():  # as the CLI does: set before Textual is imported
        return await _dashboard(strategy, url, n, limit, first)


async def _dashboard(
    strategy: str, url: str, n: int, limit: int | None, first: bool
) -> dict[str, float]:
    from fetchviz.core.catalog import BY_ID
    from fetchviz.core.config import Config
    from fetchviz.runs.procs import raise_open_file_limit
    from fetchviz.runs.runner import RunHandle
    from fetchviz.ui.launch import dashboard_app

    raise_open_file_limit()
    to_screen = watch_events_reach_the_screen(time.perf_counter)
    lags: list[float] = []

    async def heartbeat() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - before - 0.01)

    app = dashboard_app(Config(tasks=n, url=url, timeout=30, limit=limit), [BY_ID[strategy]])
    async with app.run_test(size=(120, 40)) as pilot:
        if first:
            beat = asyncio.create_task(heartbeat())
            measured = 1
        else:
            # The run at launch warms up (imports, the first full frame); measure the next
            # one, as a user sees it after pressing r.
            while not (app.session.current is not None and app.session.current.done):
                await asyncio.sleep(0.05)
            await pilot.pause(0.2)
            to_screen.clear()
            beat = asyncio.create_task(heartbeat())
            await pilot.press("r")
            measured = 2
        while not (
            app.session.current is not None
            and app.session.current.run_id == measured
            and app.session.current.done
        ):
            await asyncio.sleep(0.05)  # not pilot.pause(): that would make the app work
        await pilot.pause(0.1)
        beat.cancel()
        run = app.session.current
        handle = app.session.handle
        assert isinstance(handle, RunHandle)
        worker = handle.worker  # the run's process (a fork of the fork server)
    deadline = time.monotonic() + 10
    while worker.peak_rss_mb is None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # until the fork server has reaped it, and said its peak
    return {
        "elapsed": run.elapsed(0),
        "ok": run.ok,
        "failed": run.failed,
        "event_to_screen_p50": percentile(to_screen, 0.5),
        "event_to_screen_p99": percentile(to_screen, 0.99),
        "event_to_screen_samples": [round(s, 5) for s in to_screen],  # pooled by run.py
        "events_seen": len(to_screen),
        "ui_lag_p99": percentile(lags, 0.99),
        "ui_lag_max": max(lags, default=0.0),
        "ui_lag_median": statistics.median(lags) if lags else 0.0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "run_peak_rss_mb": worker.peak_rss_mb or float("nan"),  # ru_maxrss, as it was reaped
    }


# Presses per run, and the pause after each one's frame. With 20 a run (60 pooled over three
# runs), one slow frame was the p99: two full runs of benchmarks/run.py said 33.7 and 10.9 ms.
PRESSES = 50
BETWEEN_PRESSES = 0.04


async def keys(strategy: str, url: str, n: int, presses: int = PRESSES) -> dict[str, float]:
    """Key → screen during a big run: from a key's arrival (as the terminal's driver posts
    it) to the end of the first frame composed after its action ran. `+` and `-` in turn:
    each changes what the screen shows (N, a notification) and not the run."""
    from fetchviz.runs import tuning

    with tuning.dashboard_settings():
        from textual.screen import Screen

        from fetchviz.core.catalog import BY_ID
        from fetchviz.core.config import Config
        from fetchviz.core.session import Session
        from fetchviz.runs.procs import raise_open_file_limit
        from fetchviz.ui.launch import dashboard_app

        raise_open_file_limit()
        handled: list[float] = []
        latencies: list[float] = []
        pressed = [0.0]
        original_set = Session.set_tasks
        original_frame = Screen._on_timer_update

        def set_tasks(self: Session, tasks: int) -> None:
            original_set(self, tasks)
            handled.append(time.perf_counter())

        def frame(self: Screen) -> None:  # type: ignore[type-arg]
            original_frame(self)  # a layout (the notification) or a repaint, composed
            if handled:
                latencies.append(time.perf_counter() - pressed[0])
                handled.clear()

        Session.set_tasks = set_tasks  # type: ignore[method-assign]
        Screen._on_timer_update = frame  # type: ignore[method-assign]
        app = dashboard_app(Config(tasks=n, url=url, timeout=30), [BY_ID[strategy]])
        async with app.run_test(size=(120, 40)):
            while app.session.current is None or app.session.current.started_count < n // 10:
                await asyncio.sleep(0.01)
            running_at_first = app.session.current.run_id
            for i in range(presses):
                done = len(latencies)
                pressed[0] = time.perf_counter()
                app.simulate_key("plus" if i % 2 == 0 else "minus")
                while len(latencies) == done:
                    await asyncio.sleep(0.002)
                await asyncio.sleep(BETWEEN_PRESSES)
            still_running = (
                not app.session.current.done and app.session.current.run_id == running_at_first
            )
    return {
        "key_to_screen_p50": percentile(latencies, 0.5),
        "key_to_screen_p99": percentile(latencies, 0.99),
        "key_to_screen_samples": [round(s, 5) for s in latencies],
        "key_to_screen_max": max(latencies),
        "presses": len(latencies),
        "all_during_the_run": still_running,
    }


async def replay(path: str) -> dict[str, float]:
    """A recording played at 1× in the dashboard: how late each event reaches the screen (on
    the replay's clock, which is the wall's at 1×), and how long the run takes to play."""
    from fetchviz.runs import tuning

    with tuning.dashboard_settings():
        from fetchviz.records.recording import read_recording
        from fetchviz.records.replay import ReplaySource
        from fetchviz.ui.launch import replay_app

        recording = read_recording(path)
        source = ReplaySource(recording, 1.0)
        played: dict[str, float] = {}
        late = watch_events_reach_the_screen(
            source.now, lambda: played.setdefault("end", time.perf_counter())
        )
        first = recording.runs[0]
        app = replay_app(source)
        async with app.run_test(size=(120, 40)):
            while app.session.current is None:
                await asyncio.sleep(0.01)
            started = time.perf_counter()
            while not app.session.current.done:
                await asyncio.sleep(0.02)
            run = app.session.current
    recorded = first.state()
    return {
        "event_to_screen_p50": percentile(late, 0.5),
        "event_to_screen_p99": percentile(late, 0.99),
        "event_to_screen_samples": [round(s, 5) for s in late],
        "recorded_elapsed": recorded.elapsed(0),
        # From the first frame of the replay to its end being applied: the run's own time
        # plus the wait before its first event, as recorded.
        "replayed_elapsed": played.get("end", time.perf_counter()) - started,
        "wait_before_start": (recorded.start or first.perf) - first.perf,
        "ok": run.ok,
    }


def main() -> None:
    if sys.argv[1] == "replay":
        print(json.dumps(asyncio.run(replay(sys.argv[2]))))
        return
    kind, strategy, url, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    extra = sys.argv[5:]
    if kind == "bare":
        result = bare(strategy, url, n)
    elif kind == "recorded":
        result = recorded(strategy, url, n)
    elif kind == "keys":
        result = asyncio.run(keys(strategy, url, n))
    else:
        limit = int(extra[0]) if extra and extra[0] != "-" else None
        result = asyncio.run(dashboard(strategy, url, n, limit, "first" in extra))
    print(json.dumps(result), flush=True)
    # Leave as fetchviz's run process does: pyreqwest's runtime can abort the interpreter's
    # finalization (SIGABRT, 2-7 runs in 10 of a bare script), its figure printed already.
    os._exit(0)


if __name__ == "__main__":
    main()
