"""Starts each run in a process of its own and hands its events to the consumer's queue.

The consumer (the dashboard, or the headless mode) owns an asyncio loop and an asyncio.Queue.
The run's process (worker.py) writes its events in batches to a pipe; the consumer's loop reads
the pipe when it is readable and puts each batch on the queue. Cancelling a run kills its
process: threads blocked in a request go with it, and nothing is left behind.

One spare process is kept warm (Python started, HTTP clients imported), so that a run starts
at once; it is started after a run ends, never during one, so it takes nothing from the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from fetchviz.catalog import Strategy
from fetchviz.config import Config
from fetchviz.events import Event, LoopBeat, RunFinished, TaskStarted
from fetchviz.worker import decode_all, encode

Batch = list[Event]


class Worker:
    """A `python -m fetchviz.worker` child, waiting for the run it is to do."""

    def __init__(self) -> None:
        self.stderr: Any = tempfile.TemporaryFile()  # noqa: SIM115 (closed in reap())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fetchviz.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            start_new_session=True,  # the terminal's Ctrl+C is the parent's to handle
        )

    def send(self, message: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(encode(message))
        self.proc.stdin.flush()  # the stdin stays open: closing it tells the worker to go

    @property
    def events_fd(self) -> int:
        assert self.proc.stdout is not None
        return self.proc.stdout.fileno()

    def why_it_stopped(self) -> str:
        """The last line the worker wrote on stderr, or how it exited."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=0.5)
        self.stderr.seek(0)
        lines: list[str] = self.stderr.read().decode(errors="replace").strip().splitlines()
        code = self.proc.returncode
        if lines:
            return lines[-1]
        if code is not None and code < 0:
            return f"killed by signal {-code}"
        return f"exit code {code}"

    def kill(self) -> None:
        """Kill it now and reap it in the background: 10,000 sockets take a while to close."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        threading.Thread(target=self.reap, name="fetchviz-reaper", daemon=True).start()

    def reap(self) -> None:
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.stderr):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]


class LoopView:
    """The run's event loop as the worker's heartbeats describe it."""

    INTERVAL = 0.01  # worker.LoopMonitor.INTERVAL

    def __init__(self) -> None:
        self.last_beat: float | None = None
        self.worst = 0.0
        self.busy = 0.0  # the run's process CPU lately, in cores
        self._cpu: tuple[float, float] | None = None  # (wall, cpu) at the last sample

    def current(self, now: float | None = None) -> float:
        """How late the next beat is: it grows live while the loop is stuck."""
        if self.last_beat is None:  # the loop has not started yet: it is not late
            return 0.0
        now = time.perf_counter() if now is None else now
        return max(0.0, now - self.last_beat - self.INTERVAL)

    def fetching_began(self) -> None:
        """Count the load from here: the set-up before the first request (an SSL context is
        40-120 ms of CPU) says nothing of what the fetches will cost."""
        self.busy, self._cpu = 0.0, None

    def observe(self, beat: LoopBeat) -> None:
        self.last_beat, self.worst = beat.at, max(self.worst, beat.worst)
        if self._cpu is None:
            self._cpu = (beat.at, beat.cpu)
        elif (wall := beat.at - self._cpu[0]) >= 0.03:  # beats 10 ms apart are too noisy
            cores = (beat.cpu - self._cpu[1]) / wall
            # A peak that fades: a run busy in bursts (connections opened by the thousand)
            # counts as busy between them too.
            self.busy = max(cores, 0.7 * self.busy)
            self._cpu = (beat.at, beat.cpu)


class RunHandle:
    """A run in progress: its id, what it runs, and how to stop it without waiting for it."""

    def __init__(
        self,
        run_id: int,
        strategy: Strategy,
        config: Config,
        worker: Worker,
        deliver: Any,
    ) -> None:
        self.run_id = run_id
        self.strategy = strategy
        self.config = config
        self.monitor: LoopView | None = LoopView() if strategy.is_async else None
        self.worker = worker
        self.finished = False
        self._fetching = False  # a task has started
        self._deliver = deliver  # called with each batch, and once with None at the end
        self._buffer = bytearray()
        self.command: tuple[object, ...] | None = None  # what the process is to run, until sent

    def on_readable(self) -> None:
        """The worker wrote: pass whole batches on; at end-of-file, make sure the run ends."""
        try:
            data = os.read(self.worker.events_fd, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            if not self.finished:  # it died before it could say so
                reason = f"the run's process stopped: {self.worker.why_it_stopped()}"
                self._finish(RunFinished(self.run_id, time.perf_counter(), error=reason))
            return
        self._buffer += data
        for batch in decode_all(self._buffer):
            events: Batch = []
            for event in batch:
                if isinstance(event, LoopBeat):
                    if self.monitor is not None:
                        self.monitor.observe(event)
                elif isinstance(event, RunFinished):
                    self._finish(event, events)
                    return
                else:
                    if isinstance(event, TaskStarted) and not self._fetching:
                        self._fetching = True
                        if self.monitor is not None:
                            self.monitor.fetching_began()
                    events.append(event)
            if events:
                self._deliver(events)

    def begin(self) -> None:
        """Tell the run's process to go (once; not after the run was cancelled)."""
        if self.command is not None and not self.finished:
            with contextlib.suppress(OSError):  # it died: its pipe's end says so
                self.worker.send(self.command)
        self.command = None

    def cancel(self) -> None:
        """Kill the run's process, and say at once that the run ended. Never waits."""
        if not self.finished:
            worst = self.monitor.worst if self.monitor else None
            self._finish(RunFinished(self.run_id, time.perf_counter(), True, None, worst))

    def _finish(self, finished: RunFinished, before: Batch | None = None) -> None:
        self.finished = True
        self._deliver([*(before or []), finished])
        self._deliver(None)
        self.worker.kill()  # a no-op for a worker that has exited; it reaps it either way


class Runner:
    """Starts runs, each in a process of its own, and keeps one spare process warm."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[Batch],
        live: bool = True,
    ) -> None:
        self._loop = loop
        self._queue = queue
        self._ids = itertools.count(1)
        self._spare: Worker | None = None
        self._running: dict[int, RunHandle] = {}
        # Live (the dashboard): events arrive within milliseconds, and a spare process waits
        # for the next run. Not live (headless): events come in larger batches, and each run
        # starts its own process (the next run starts as the last ends: a spare would start
        # it no sooner).
        self._live = live
        self._keep_spare = live
        self.warm()

    def warm(self) -> None:
        """Have a spare process ready (it takes ~0.3 s to import the HTTP clients)."""
        if self._spare is None and self._keep_spare:
            self._spare = Worker()

    def start(self, strategy: Strategy, config: Config, begin: bool = True) -> RunHandle:
        """A run in a process of its own. `begin=False`: its process waits for
        `handle.begin()` (the dashboard first draws the run's empty rows, so that the run does
        not share the CPU with that frame)."""
        worker, self._spare = self._spare or Worker(), None
        run_id = next(self._ids)
        handle = RunHandle(
            run_id, strategy, config, worker, lambda batch: self._deliver(run_id, batch)
        )
        os.set_blocking(worker.events_fd, False)
        self._running[run_id] = handle
        self._loop.add_reader(worker.events_fd, handle.on_readable)
        handle.command = (run_id, strategy.id, config, self._live)
        if begin:
            handle.begin()
        return handle

    def _deliver(self, run_id: int, batch: Batch | None) -> None:
        if batch is not None:
            self._queue.put_nowait(batch)
            return
        handle = self._running.pop(run_id)
        self._loop.remove_reader(handle.worker.events_fd)
        if not self._running:
            self.warm()  # between runs, never during one

    def close(self) -> None:
        """Kill every process of ours: the runs, and the spare."""
        self._keep_spare = False
        for handle in list(self._running.values()):
            handle.cancel()
        if self._spare is not None:
            self._spare.kill()
            self._spare = None
