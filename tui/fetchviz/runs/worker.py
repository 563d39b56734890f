"""The run's own process: runs one strategy once, and writes its events to the parent.

It is a fork of the fork server (forkserver.py), which ran `prepare()` once; each run's
process runs `serve()`, its stdin, stdout and stderr the pipes the parent gave it.

Why a process and not a thread: a strategy's Python holds the GIL, and 10,000 aiohttp requests
make a million objects whose garbage collections hold it for 100–700 ms at a time (measured).
On a thread of the dashboard's process, that froze every frame; in a process of its own, the
dashboard never waits for it, and the run never waits for a frame.

The parent writes one RunCommand to stdin (protocol.py); the worker writes batches of events to
stdout: the run's, ending with RunFinished, then, if asked, a SyncSample timed after the run,
and exits. If the parent goes first, so does the worker (procs.die_with_parent).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import inspect
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fetchviz.core.catalog import Strategy
from fetchviz.core.events import (
    BEAT_INTERVAL,
    Event,
    LoopBeat,
    LoopBlocked,
    RunFinished,
    RunStarted,
    SyncSample,
)
from fetchviz.core.model import BLOCKED
from fetchviz.core.reasons import describe
from fetchviz.runs import phases
from fetchviz.runs.job import Job
from fetchviz.runs.procs import die_with_parent, raise_open_file_limit
from fetchviz.runs.protocol import RunCommand, encode, read_message, write_all
from fetchviz.runs.user import UserStrategyError, load

# How long events gather before one write hands them over. Live (the dashboard): well under
# a frame (16 ms). Quiet (headless: nobody watches until the end): long, because each
# hand-over wakes the parent, a process that takes a core's share from the run it measures.
LIVE_WINDOW = 0.002
LIVE_FLUSH = 0.004  # at the latest, live: what the window leaves waiting goes this often
QUIET_WINDOW = 0.05
OLDEST_GENERATION = 2  # CPython's full collection
BLOCKED_LOOK = 0.05  # how often a strategy that blocks its loop is looked at, live
# The sync estimate samples each target a few times after a run: more targets than this would
# make the sampling a sync run of its own; then only a sync run gives the baseline.
MAX_SAMPLED_TARGETS = 10


class PipeSink:
    """Collects events from any thread of the run; writes them to the parent in batches.

    It has no thread of its own: an idle extra thread alone made a 1,000-request aiohttp run
    7 % slower (measured, 15 rounds each way). The thread that emits flushes: at once where it
    is about to block in a request (`eager`: the requests-based strategies), else once
    `window` has passed since the last batch went. An event that nothing follows (the last of
    a burst, before the loop spends 50 ms opening connections) is flushed by an interval
    timer's signal (`flush_every`), which Python handles between two bytecodes of the main
    thread, however long the loop's turn.

    No lock on the way in: a deque's append is one C call, which no other thread and no signal
    handler can come between, and only the writer (holding `_writing`) takes events off its
    front, so none is lost or reordered. With the Fetch's own calls trimmed (job.py), what
    recording adds to a request went from 35,700 to 26,300 instructions for pyreqwest (1.204×
    to 1.152× its bare code) and from 31,100 to 24,300 for aiohttp (1.030× to 1.024×), where a
    list behind a lock cost each event two more Python calls (benchmarks/instructions.py).
    """

    def __init__(self, fd: int, window: float = LIVE_WINDOW, eager: bool = False) -> None:
        self._fd = fd
        self._window = window
        self._eager = eager
        self._pending: deque[object] = deque()  # events, and task events' (kind, fields) pairs
        self._written = time.perf_counter()  # when the last batch went: the next is due after
        self._writing = threading.Lock()  # one batch at a time on the pipe, in order
        # Called with the frame each alarm interrupted (LoopMonitor.check: where is the loop?)
        self.on_alarm: Callable[[Any], None] | None = None

    def emit(self, event: Event) -> None:
        self._pending.append(event)
        if self._eager or event.at - self._written >= self._window:
            self.flush()

    def emit_task(self, kind: type[Event], fields: tuple[Any, ...]) -> None:
        """emit(kind(*fields)) for a task's event, without making it here: the pair goes as it
        is, and the parent makes the event (protocol.py). A task event's fields begin with
        run_id, index, at."""
        self._pending.append((kind, fields))
        if self._eager or fields[2] - self._written >= self._window:
            self.flush()

    def emit_later(self, event: Event) -> None:
        """Queue an event without writing it: from a signal handler, which may have
        interrupted a flush on this very thread. It goes with the handler's own flush, or,
        where that flush was the one interrupted, with its batch or the next alarm's."""
        self._pending.append(event)

    def flush(self) -> None:
        with self._writing:
            self._write_pending()

    def flush_every(self, interval: float) -> None:
        """Flush what waits every `interval` seconds, from a SIGALRM handler (not on Windows:
        there, the loop's heartbeat flushes)."""
        if hasattr(signal, "setitimer"):
            signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, interval, interval)

    def flush_before_full_collections(self) -> None:
        """Hand over what waits before each full garbage collection: with 1,000 connections
        open, one holds the run's process for 20–50 ms (measured), and no signal handler runs
        until it is over."""
        gc.callbacks.append(self._on_collection)

    def _on_collection(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == OLDEST_GENERATION:
            self._flush_if_free()

    def _on_alarm(self, signum: int, frame: object) -> None:
        if self.on_alarm is not None:
            self.on_alarm(frame)
        self._flush_if_free()

    def _flush_if_free(self) -> None:
        # Called from a signal handler or a collection, which may have interrupted flush() on
        # this very thread: it does not wait for the pipe, and leaves the events to flush().
        if not self._writing.acquire(blocking=False):
            return
        try:
            self._write_pending()
        finally:
            self._writing.release()

    def _write_pending(self) -> None:
        """Write what waits. The caller holds _writing."""
        pending = self._pending
        if not pending:
            return
        take = pending.popleft  # what others append meanwhile goes behind, for the next batch
        batch = [take() for _ in range(len(pending))]
        try:
            write_all(self._fd, encode(batch))
        except OSError:  # the parent is gone: nobody is left to report to
            os._exit(0)
        # Stamped once written: a write that waited for a slow parent longer than the window
        # made the next event due at once, and it went alone (18 frames of 1 in 326).
        self._written = time.perf_counter()


class LoopMonitor:
    """A heartbeat on the run's event loop: how late does the loop wake up?

    Every beat is reported (when someone watches live), so the dashboard sees a loop blocked
    by a synchronous call as it happens: the beats stop coming.
    """

    INTERVAL = BEAT_INTERVAL

    def __init__(
        self,
        run_id: int,
        report: Callable[[Event], None] | None,
        files: tuple[str, ...] = (),
        report_blocked: Callable[[Event], None] | None = None,
    ) -> None:
        self.run_id = run_id
        self.report = report
        self.last_beat = time.perf_counter()
        self.worst = 0.0
        self.files = files  # the strategy's own code: where a block is said to be
        self.report_blocked = report_blocked
        self.blocked = False  # said to be blocked since the last beat

    def observe(self, now: float) -> None:
        self.worst = max(self.worst, now - self.last_beat - self.INTERVAL)
        self.last_beat = now
        self.blocked = False

    def check(self, frame: Any) -> None:
        """From the alarm's handler, on the loop's thread: a loop late by BLOCKED is stuck
        in the frame the signal interrupted; say where, in the strategy's own code, and
        what it called there ("strategies.py:58 in httpx_client (httpx.AsyncClient)")."""
        if self.blocked or self.report_blocked is None:
            return
        if time.perf_counter() - self.last_beat - self.INTERVAL < BLOCKED:
            return
        where = blocked_where(frame, self.files)
        event = LoopBlocked(
            self.run_id,
            self.last_beat + self.INTERVAL,
            os.getpid(),
            threading.current_thread().name,
            where,
        )
        self.report_blocked(event)
        self.blocked = True

    async def beat(self) -> None:
        self.last_beat = time.perf_counter()
        while True:
            if self.report is not None:
                self.report(LoopBeat(self.run_id, self.last_beat, self.worst, time.process_time()))
            await asyncio.sleep(self.INTERVAL)
            self.observe(time.perf_counter())


# fetchviz's own frames between a strategy and what it called (the wrapper phases.py puts
# around httpx2.AsyncClient.__init__): never what a block is said to be in.
OURS = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def blocked_where(frame: Any, files: tuple[str, ...]) -> str | None:
    """'strategies.py:58 in httpx_client (httpx.AsyncClient)': the innermost frame of the
    strategy's own `files`, walking out from `frame`, and the call it was in (a class for
    its `__init__`)."""
    inner = None
    while frame is not None:
        code = frame.f_code
        if code.co_filename in files:
            text = f"{os.path.basename(code.co_filename)}:{frame.f_lineno} in {code.co_name}"
            if inner is not None:
                module = str(inner.f_globals.get("__name__", "")).split(".")[0]
                called = getattr(inner.f_code, "co_qualname", inner.f_code.co_name)
                text += f" ({module}.{called.removesuffix('.__init__')})"
            return text
        if not code.co_filename.startswith(OURS):
            inner = frame
        frame = frame.f_back
    return None


def execute(
    strategy: Strategy,
    job: Job,
    workers: int | None = None,
    live: bool = True,
    sink: PipeSink | None = None,
) -> RunFinished:
    """Run the strategy on this thread, timed from here; say how it ended.

    `live`: report the loop's heartbeats as they happen. A user's file is loaded here, afresh:
    what cannot load is the run's error, said like any other.
    """
    try:  # before the run's clock starts: what the file imports is not the strategy's time
        code = _code_of(strategy)
        phases.install_loaded()  # the newer clients it imported are timed inside too
    except UserStrategyError as exc:
        job.report(RunStarted(job.run_id, strategy.id, job.tasks, time.perf_counter()))
        return RunFinished(job.run_id, time.perf_counter(), False, str(exc), None)
    cpu = time.process_time()  # the process's, every thread of it (a client's own too)
    job.report(RunStarted(job.run_id, strategy.id, job.tasks, time.perf_counter()))
    is_async = inspect.iscoroutinefunction(code)
    monitor = _monitor(job, code, live, sink) if is_async else None
    error, end = None, None
    try:
        if monitor is not None:
            end = _run_on_own_loop(code, job, workers, monitor)
        elif inspect.isawaitable(result := code(job)):  # a decorated async def, say
            monitor = _monitor(job, code, live, sink)
            end = _run_on_own_loop(lambda _: result, job, workers, monitor)
    except Exception as exc:  # the run itself broke (not a fetch): say so, don't crash
        error = f"{type(exc).__name__}: {exc}"
        if "fetchviz.runs.job.Job" in error:  # `def fetch(url)`: the job as a URL (any client)
            error += " (your function is given the job, not a URL: fetch job.urls[i])"
    return RunFinished(
        job.run_id,
        end or time.perf_counter(),
        False,
        error,
        monitor.worst if monitor else None,
        phases.connections(),
        time.process_time() - cpu,
    )


def _monitor(job: Job, code: Any, live: bool, sink: PipeSink | None) -> LoopMonitor:
    """The loop's heartbeat; with a sink whose alarm runs, it says where a blocked loop is."""
    files = tuple(
        {
            inspect.getsourcefile(code) or "",
            getattr(getattr(code, "__code__", None), "co_filename", ""),
        }
        - {""}
    )
    monitor = LoopMonitor(
        job.run_id,
        job.report if live else None,
        files,
        sink.emit_later if sink is not None else None,
    )
    if sink is not None:
        sink.on_alarm = monitor.check
    return monitor


def _code_of(strategy: Strategy) -> Callable[[Job], Any]:
    if strategy.path is not None:
        return load(strategy.path, strategy.function)
    if not strategy.installed:
        raise UserStrategyError(strategy.not_installed())
    # The HTTP clients: imported here, before the run's clock starts, not by the dashboard.
    module = importlib.import_module(f"fetchviz.runs.{strategy.module}")
    return getattr(module, strategy.function)  # type: ignore[no-any-return]


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    """A fresh event loop of the kind asked for (--loop): asyncio's own, or uvloop's."""
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def _run_on_own_loop(code: Any, job: Job, workers: int | None, monitor: LoopMonitor) -> float:
    """Run an async strategy on a fresh loop, as `asyncio.run` would, with a heartbeat.

    Returns when the strategy's coroutine returned: what the loop does after that (closing
    1,000 transports, say) is our clean-up, not the strategy's time.
    """
    loop = new_loop(job.loop)
    if workers is not None:
        loop.set_default_executor(ThreadPoolExecutor(workers, thread_name_prefix="asyncio"))
    beat = loop.create_task(monitor.beat())  # first: it beats once before the strategy runs
    coro = code(job)
    try:
        loop.run_until_complete(coro)
        return time.perf_counter()
    finally:
        # A loop blocked until the very end never got to beat: that wait is lag too.
        monitor.observe(time.perf_counter())
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(beat)
        # Threads still blocked in a request are not waited for: the process exits under them.
        loop.close()


def sample_sync(job: Job, count: int) -> tuple[tuple[float, ...], str | None]:
    """Time `count` requests.get of each target one after another, as `sync` makes them: what
    one request of a sync run takes, with nothing else in flight. After the run, so that the
    run it follows neither slows it down nor is slowed by it. The durations come target by
    target, `count` each (baseline.py reads them so)."""
    import requests

    targets = job.config.used_targets()
    if len(targets) > MAX_SAMPLED_TARGETS:
        return (), f"{len(targets)} URLs are too many to sample: a sync run (b) measures it"
    durations = []
    for url in targets:
        # A server's error (5xx) is asked again, up to 3 × `count` of them a target: a server
        # that fails some requests (--fail-rate 0.3) had no baseline at all, its first 500
        # ending the sample (now 1 sample in ~1,500 at 0.3 ends so). A 4xx (a 404, a 429) is
        # no estimate at once, nor is a server that fails every time, or does not answer.
        answered = refused = 0
        while answered < count:
            started = time.perf_counter()
            try:  # as fetch_blocking asks; it reads the whole body, as sync does
                response = requests.get(url, timeout=job.timeout, verify=job.verify)
            except Exception as exc:
                return (), describe(exc, job.timeout, job.max_redirects)
            if 200 <= response.status_code < 400:
                durations.append(time.perf_counter() - started)
                answered += 1
            elif response.status_code < 500 or (refused := refused + 1) == 3 * count:
                return (), f"HTTP {response.status_code}"
    return tuple(durations), None


def prepare() -> None:
    """What every run's process needs before its run, done once, in the fork server."""
    from fetchviz.runs import strategies  # noqa: F401  imported now, while the parent waits

    phases.install()  # every request of the run is timed inside, whoever wrote the strategy

    raise_open_file_limit()
    # What the imports made lives as long as the process: set it out of the collector's sight.
    # The run's collections then walk what the run makes, not the three HTTP clients and
    # fetchviz (a full collection of those took 20 ms, early in a run: measured).
    gc.collect()
    gc.freeze()


def serve(parent: int) -> None:
    """Wait for the run's command on stdin, run it, write its events on stdout, and exit."""
    die_with_parent(parent)
    events_fd = os.dup(1)
    os.dup2(2, 1)  # a stray print() goes to stderr, not into the event frames
    with open(0, "rb", closefd=False) as stdin:  # its own buffer: sys.stdin's is the server's
        command = read_message(stdin)  # blocks until the parent says what to run
    if command is None:
        return
    assert isinstance(command, RunCommand)
    run_id, config, live = command.run_id, command.config, command.live
    threading.current_thread().name = f"runner-{run_id}"
    strategy = command.strategy
    if live:  # a request about to block must be on screen now, not when it returns
        sink = PipeSink(events_fd, LIVE_WINDOW, eager=strategy.uses_blocking_fetch)
        if not strategy.uses_blocking_fetch:
            sink.flush_every(LIVE_FLUSH)
            sink.flush_before_full_collections()
        else:  # eager already: the alarm only looks where a blocked loop is stuck
            sink.flush_every(BLOCKED_LOOK)
    else:
        sink = PipeSink(events_fd, QUIET_WINDOW)
        if command.beats:  # recorded: the alarm looks where a blocked loop is stuck
            sink.flush_every(BLOCKED_LOOK)
    beats = live or command.beats
    job = Job(run_id, config, sink.emit, sink.emit_task)
    finished = execute(strategy, job, config.workers, beats, sink if beats else None)
    sink.emit(finished)
    sink.flush()
    if command.sample:
        durations, error = sample_sync(job, command.sample)
        sink.emit(SyncSample(run_id, time.perf_counter(), durations, error))
        sink.flush()
    # Leave at once: pool threads may be blocked in requests, sockets may still be open.
    os._exit(0)
