"""Runs a strategy on a thread (and an event loop) of its own and hands its events over.

The consumer (the dashboard, or the headless mode) owns an asyncio loop and an asyncio.Queue.
Events are put on that queue from the runner's threads with `call_soon_threadsafe`, a batch
per wake-up: each wake-up costs the GIL that the fetches need, so they are kept few.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fetchviz.config import Config
from fetchviz.events import Event, RunFinished, RunStarted
from fetchviz.job import Job, RunCancelled
from fetchviz.strategies import Strategy

Batch = list[Event]

# How long events gather before one wake-up hands them over: under a frame (33 ms), and
# long enough that a fast run costs the consumer at most 200 wake-ups a second.
HANDOVER_WINDOW = 0.005


class EventSink:
    """Collects events from any thread; delivers them to the consumer's queue in batches."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Batch]) -> None:
        self._loop = loop
        self._queue = queue
        self._lock = threading.Lock()
        self._pending: Batch = []
        self._scheduled = False

    def emit(self, event: Event) -> None:
        with self._lock:
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        # The consumer's loop is gone once the app has quit; a late event has nowhere to go.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._deliver_soon)

    def _deliver_soon(self) -> None:
        self._loop.call_later(HANDOVER_WINDOW, self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            self._scheduled = False
        self._queue.put_nowait(batch)


class LoopMonitor:
    """A heartbeat on the runner's event loop: how late does the loop wake up?

    A loop blocked by a synchronous call cannot beat, so the current lag is read from the
    time since the last beat: it grows live while the loop is stuck.
    """

    INTERVAL = 0.01

    def __init__(self) -> None:
        self.last_beat = time.perf_counter()
        self.worst = 0.0

    def current(self, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        return max(0.0, now - self.last_beat - self.INTERVAL)

    def observe(self, now: float) -> None:
        self.worst = max(self.worst, self.current(now))
        self.last_beat = now

    async def beat(self) -> None:
        self.last_beat = time.perf_counter()
        while True:
            await asyncio.sleep(self.INTERVAL)
            self.observe(time.perf_counter())


class RunHandle:
    """A run in progress: its id, what it runs, and how to stop it without waiting for it."""

    def __init__(self, run_id: int, strategy: Strategy, config: Config, job: Job) -> None:
        self.run_id = run_id
        self.strategy = strategy
        self.config = config
        self.job = job
        self.monitor: LoopMonitor | None = LoopMonitor() if strategy.is_async else None
        self.done = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[Any] | None = None

    def cancel(self) -> None:
        """Stop reporting at once; stop fetching at the next chance. Never waits."""
        self.job.cancel()
        loop, main = self._loop, self._main
        if loop is not None and main is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(main.cancel)


class Runner:
    """Starts runs; each on a daemon thread, so that quitting never waits for one."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Batch]) -> None:
        self._sink = EventSink(loop, queue)
        self._ids = itertools.count(1)

    def start(self, strategy: Strategy, config: Config) -> RunHandle:
        run_id = next(self._ids)
        handle = RunHandle(run_id, strategy, config, Job(run_id, config, self._sink.emit))
        thread = threading.Thread(
            target=self._run, args=(handle,), name=f"runner-{run_id}", daemon=True
        )
        thread.start()
        return handle

    def _run(self, handle: RunHandle) -> None:
        job = handle.job
        job.report(RunStarted(handle.run_id, handle.strategy.id, job.tasks, time.perf_counter()))
        cancelled, error = False, None
        try:
            if handle.strategy.is_async:
                _run_on_own_loop(handle)
            else:
                handle.strategy.run(job)
        except (RunCancelled, asyncio.CancelledError):
            cancelled = True
        except Exception as exc:  # the run itself broke (not a fetch): say so, don't crash
            error = f"{type(exc).__name__}: {exc}"
        lag = handle.monitor.worst if handle.monitor else None
        # Delivered even when cancelled, so that a consumer waiting for the end hears of it.
        self._sink.emit(
            RunFinished(handle.run_id, time.perf_counter(), cancelled or job.cancelled, error, lag)
        )
        handle.done.set()


def _run_on_own_loop(handle: RunHandle) -> None:
    """Run an async strategy on a fresh loop: what blocks it blocks nobody else."""
    loop = asyncio.new_event_loop()
    pool = None
    if handle.config.workers is not None:
        pool = ThreadPoolExecutor(handle.config.workers, thread_name_prefix="asyncio")
        loop.set_default_executor(pool)
    monitor = handle.monitor
    assert monitor is not None
    beat = loop.create_task(monitor.beat())
    coro = handle.strategy.run(handle.job)
    assert inspect.iscoroutine(coro)
    main = loop.create_task(coro)
    handle._loop, handle._main = loop, main
    try:
        loop.run_until_complete(main)
    finally:
        # A loop blocked until the very end never got to beat: that wait is lag too.
        monitor.observe(time.perf_counter())
        beat.cancel()
        _cancel_leftovers(loop)
        # Threads blocked inside a request are abandoned, not joined (close() does not wait).
        loop.close()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what the strategy left running and let it clean up (close sockets, sessions)."""
    leftovers = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in leftovers:
        task.cancel()
    if leftovers:
        loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
