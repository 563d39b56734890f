"""The run's own process: runs one strategy once, and writes its events to the parent.

    python -m fetchviz.worker      (started by runner.py, never by hand)

Why a process and not a thread: a strategy's Python holds the GIL, and 10,000 aiohttp requests
make a million objects whose garbage collections hold it for 100–700 ms at a time (measured).
On a thread of the dashboard's process, that froze every frame; in a process of its own, the
dashboard never waits for it, and the run never waits for a frame.

The protocol is frames on pipes: a 4-byte length, then a pickle. The parent writes one frame
to stdin, (run_id, strategy id, Config, live); the worker writes batches of events to stdout, the
last one ending with RunFinished, and exits. Its stdin staying open is the parent's lifeline:
end-of-file means the parent is gone, and the worker goes too.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import pickle
import struct
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from fetchviz.catalog import BY_ID, Strategy
from fetchviz.config import Config
from fetchviz.events import Event, LoopBeat, RunFinished, RunStarted
from fetchviz.job import Job

HEADER = struct.Struct("<I")

# How long events gather before one write hands them over. Live (the dashboard): well under
# a frame (16 ms). Quiet (headless: nobody watches until the end): long, because each
# hand-over wakes the parent, a process that takes a core's share from the run it measures.
LIVE_WINDOW = 0.002
QUIET_WINDOW = 0.05


def encode(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def decode_all(buffer: bytearray) -> list[Any]:
    """Take every whole frame off the front of `buffer`; a partial one stays for later."""
    messages = []
    while len(buffer) >= HEADER.size:
        (size,) = HEADER.unpack_from(buffer)
        end = HEADER.size + size
        if len(buffer) < end:
            break
        messages.append(pickle.loads(buffer[HEADER.size : end]))
        del buffer[:end]
    return messages


def read_message(stream: BinaryIO) -> Any:
    """One whole frame from a blocking stream, or None at end-of-file."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class PipeSink:
    """Collects events from any thread of the run; writes them to the parent in batches.

    A writer thread flushes each batch a moment after its first event. (Flushing from the
    run's own event loop instead would save the writer's wake-ups, but a loop busy with 1,000
    requests runs its timers late: events then reached the screen 100 ms late. Measured.)
    """

    def __init__(self, fd: int, window: float = LIVE_WINDOW) -> None:
        self._fd = fd
        self._window = window
        self._pending: list[Event] = []
        self._lock = threading.Lock()  # guards _pending
        self._writing = threading.Lock()  # one frame at a time on the pipe
        self._wake = threading.Event()
        threading.Thread(target=self._deliver_forever, name="fetchviz-events", daemon=True).start()

    def emit(self, event: Event) -> None:
        with self._lock:
            self._pending.append(event)
            first = len(self._pending) == 1
        if first:
            self._wake.set()

    def flush(self) -> None:
        with self._writing:
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:
                try:
                    write_all(self._fd, encode(batch))
                except OSError:  # the parent is gone: nobody is left to report to
                    os._exit(0)

    def _deliver_forever(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self._window)
            self._wake.clear()
            self.flush()


class LoopMonitor:
    """A heartbeat on the run's event loop: how late does the loop wake up?

    Every beat is reported (when someone watches live), so the dashboard sees a loop blocked
    by a synchronous call as it happens: the beats stop coming.
    """

    INTERVAL = 0.01

    def __init__(self, run_id: int, report: Callable[[Event], None] | None) -> None:
        self.run_id = run_id
        self.report = report
        self.last_beat = time.perf_counter()
        self.worst = 0.0

    def observe(self, now: float) -> None:
        self.worst = max(self.worst, now - self.last_beat - self.INTERVAL)
        self.last_beat = now

    async def beat(self) -> None:
        self.last_beat = time.perf_counter()
        while True:
            if self.report is not None:
                self.report(LoopBeat(self.run_id, self.last_beat, self.worst, time.process_time()))
            await asyncio.sleep(self.INTERVAL)
            self.observe(time.perf_counter())


def execute(
    strategy: Strategy,
    job: Job,
    workers: int | None = None,
    live: bool = True,
) -> RunFinished:
    """Run the strategy on this thread, timed from here; say how it ended.

    `live`: report the loop's heartbeats as they happen.
    """
    from fetchviz import strategies  # the HTTP clients: imported here, not by the dashboard

    code = getattr(strategies, strategy.function)
    job.report(RunStarted(job.run_id, strategy.id, job.tasks, time.perf_counter()))
    monitor = LoopMonitor(job.run_id, job.report if live else None) if strategy.is_async else None
    error, end = None, None
    try:
        if monitor is not None:
            end = _run_on_own_loop(code, job, workers, monitor)
        else:
            code(job)
    except Exception as exc:  # the run itself broke (not a fetch): say so, don't crash
        error = f"{type(exc).__name__}: {exc}"
    return RunFinished(
        job.run_id, end or time.perf_counter(), False, error, monitor.worst if monitor else None
    )


def _run_on_own_loop(code: Any, job: Job, workers: int | None, monitor: LoopMonitor) -> float:
    """Run an async strategy on a fresh loop, as `asyncio.run` would, with a heartbeat.

    Returns when the strategy's coroutine returned: what the loop does after that (closing
    1,000 transports, say) is our clean-up, not the strategy's time.
    """
    loop = asyncio.new_event_loop()
    if workers is not None:
        loop.set_default_executor(ThreadPoolExecutor(workers, thread_name_prefix="asyncio"))
    beat = loop.create_task(monitor.beat())  # first: it beats once before the strategy runs
    coro = code(job)
    assert inspect.iscoroutine(coro)
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


def _exit_with_parent() -> None:
    """Read stdin to its end, which comes when the parent exits or is killed; then exit."""
    with contextlib.suppress(OSError):
        while sys.stdin.buffer.read(4096):
            pass
    os._exit(0)


def main() -> None:
    events_fd = os.dup(1)
    os.dup2(2, 1)  # a stray print() goes to stderr, not into the event frames
    from fetchviz import strategies  # noqa: F401  imported now, while the parent waits
    from fetchviz.server import raise_open_file_limit

    raise_open_file_limit()
    command = read_message(sys.stdin.buffer)  # blocks until the parent says what to run
    if command is None:
        return
    run_id, strategy_id, config, live = command
    assert isinstance(config, Config)
    threading.Thread(target=_exit_with_parent, name="fetchviz-lifeline", daemon=True).start()
    threading.current_thread().name = f"runner-{run_id}"
    sink = PipeSink(events_fd, LIVE_WINDOW if live else QUIET_WINDOW)
    job = Job(run_id, config, sink.emit)
    finished = execute(BY_ID[strategy_id], job, config.workers, live)
    sink.emit(finished)
    sink.flush()
    # Leave at once: pool threads may be blocked in requests, sockets may still be open.
    os._exit(0)


if __name__ == "__main__":
    main()
