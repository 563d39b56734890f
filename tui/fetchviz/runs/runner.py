"""The live event source: starts each run in a process of its own and hands its events on.

The consumer (the dashboard, or the headless mode) gives `open()` a function that takes each
batch: it puts them on its asyncio.Queue. The run's process (worker.py) writes its events in
batches to a pipe; the consumer's loop reads the pipe when it is readable and passes each
batch on, unchanged: task events, heartbeats, the run's end, the sync sample after it.
Cancelling a run kills its process and passes on the run's end, stamped then: the same path.

Each run's process is forked from one that has started Python and imported the HTTP clients
(forkserver.py), so that a run starts at once. Live, one spare is forked ahead, after a run
ends, never during one, so it takes nothing from the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from collections.abc import Callable, Iterator

from fetchviz.core.events import RunFinished, SyncSample, TaskCancelled, TaskFailed, TaskFinished
from fetchviz.core.source import Batch, RunRequest
from fetchviz.runs.cpu import process_cpu
from fetchviz.runs.forkserver import ForkedWorker, ForkServer
from fetchviz.runs.protocol import RunCommand, decode_all

Deliver = Callable[[Batch], None]
ServerPid = Callable[[], int | None]  # the embedded server's process now (a restart changes it)
# Requests timed one by one after a run, for the sync estimate (their median): three keep one
# slow first request (a fresh process's first connection) from being the estimate.
SAMPLE_REQUESTS = 3


class RunHandle:
    """A run in progress: its id, and how to start and stop it without waiting for it."""

    def __init__(
        self,
        command: RunCommand,
        worker: ForkedWorker,
        deliver: Deliver,
        on_close: Callable[[RunHandle], None],
        server: ServerPid | None = None,
    ) -> None:
        self.command: RunCommand | None = command  # until sent
        self.run_id = command.run_id
        self.sampling = command.sample > 0  # a SyncSample follows the run's end
        self.worker = worker
        self.finished = False  # the run's end has been passed on
        self.tasks = command.config.tasks
        self.reported = 0  # tasks whose end came: all of them, and a dying process loses none
        self.last_at: float | None = None  # the latest event's stamp
        self.closed = False  # and all that follows it: nothing more comes
        self._deliver = deliver
        self._on_close = on_close
        self._buffer = bytearray()
        self.events_fd = worker.events_fd  # kept: reaping the worker closes its pipe
        self._server = server
        self._server_cpu: tuple[int, float] | None = None  # (its pid, its CPU) at begin()

    def begin(self) -> None:
        """Tell the run's process to go (once; not after the run was cancelled)."""
        if self.command is not None and not self.finished:
            self._server_cpu = self._server_now()
            with contextlib.suppress(OSError):  # it died: its pipe's end says so
                self.worker.send(self.command)
        self.command = None

    def _server_now(self) -> tuple[int, float] | None:
        pid = self._server() if self._server is not None else None
        cpu = process_cpu(pid)
        return None if pid is None or cpu is None else (pid, cpu)

    def _with_server_cpu(self, event: RunFinished) -> RunFinished:
        """The run's end, with what the server spent meanwhile (the same server: one that
        restarted mid-run has no figure). A tick of /proc is 10 ms: a short run's is rough."""
        before, after = self._server_cpu, self._server_now()
        if before is not None and after is not None and before[0] == after[0]:
            event.server_cpu = round(after[1] - before[1], 3)
        return event

    def on_readable(self) -> None:
        """The worker wrote: pass whole batches on; at end-of-file, make sure the run ends."""
        try:
            data = os.read(self.events_fd, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._end(f"the run's process stopped: {self.worker.why_it_stopped()}")
            return
        self._buffer += data
        for batch in decode_all(self._buffer):
            events: Batch = []
            for event in batch:
                events.append(event)
                self.last_at = event.at
                if isinstance(event, TaskFinished | TaskFailed | TaskCancelled):
                    self.reported += 1
                if isinstance(event, RunFinished):
                    self.finished = True
                    self._with_server_cpu(event)
                if self.finished and (isinstance(event, SyncSample) or not self.sampling):
                    self._deliver(events)  # the last of it
                    self._close()
                    return
            if events:
                self._deliver(events)

    def cancel(self) -> None:
        """Kill the run's process, and pass on at once that the run ended. Never waits."""
        self._end(None)

    def _end(self, error: str | None) -> None:
        """The run ends here, cancelled (`error` None) or because its process went."""
        if self.closed:
            return
        now = time.perf_counter()
        events: Batch = []
        if not self.finished and error is not None and self.reported >= self.tasks:
            # Every task had reported when its process died (pyreqwest's can abort on its
            # way out): the run stands, ended where its last task did, and says how it died.
            end = self.last_at if self.last_at is not None else now
            events.append(RunFinished(self.run_id, end, died=error))
        elif not self.finished:
            events.append(RunFinished(self.run_id, now, cancelled=error is None, error=error))
        if self.sampling:
            events.append(SyncSample(self.run_id, now, (), error or "cancelled"))
        self.finished = True
        self._deliver(events)
        self._close()

    def _close(self) -> None:
        self.closed = True
        self._on_close(self)  # first: it stops reading the pipe that reaping will close
        self.worker.kill_and_reap()  # a no-op kill for a worker that has exited


class Runner:
    """Starts runs, each in a process of its own, and keeps one spare process warm."""

    def __init__(
        self,
        live: bool = True,
        server: ServerPid | None = None,
        beats: bool = False,
        ids: Iterator[int] | None = None,
    ) -> None:
        self._ids = itertools.count(1) if ids is None else ids  # shared with a quiet sibling
        self._server = server  # the embedded server's pid, for each run's server_cpu
        self._spare: ForkedWorker | None = None
        self._running: dict[int, RunHandle] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deliver: Deliver | None = None
        # Live (the dashboard): events arrive within milliseconds, and a spare process waits
        # for the next run. Not live (headless): events come in larger batches, and each run
        # forks its own process (the next run starts as the last ends: a spare would start it
        # no sooner).
        self._live = live
        # Headless and recorded: the heartbeats go into the recording (a replay's LOOP
        # BLOCKED, the trace export's lag counter), in the quiet batches all the same.
        self._beats = beats
        self._keep_spare = live

    def quiet(self) -> Runner:
        """A runner for a sweep started from the dashboard: quiet (nobody reads its rows), its
        runs numbered on from this one's, so that a recording holding both tells them apart."""
        return Runner(live=False, server=self._server, beats=self._beats, ids=self._ids)

    def open(self, deliver: Deliver) -> None:
        """Pass every batch to `deliver`, on the running loop (whose thread must live as long
        as the process: the run's processes die with the thread that spawned them)."""
        self._loop = asyncio.get_running_loop()
        self._deliver = deliver
        ForkServer.shared()  # its imports take 0.3 s: they start now, while the caller goes on
        self.warm()

    def now(self) -> float:
        """Events are stamped with perf_counter() in the run's process: the same clock."""
        return time.perf_counter()

    def warm(self) -> None:
        """Have a spare process ready, its post-fork set-up done before its run."""
        if self._spare is None and self._keep_spare:
            self._spare = ForkServer.shared().fork()

    def start(self, request: RunRequest) -> RunHandle:
        """A run in a process of its own. A sample is a few requests timed one by one after
        the run, for the sync estimate. With `begin=False` its process waits for
        `handle.begin()` (the dashboard first draws the run's empty rows, so that the run does
        not share the CPU with that frame)."""
        assert self._loop is not None and self._deliver is not None, "open() first"
        worker, self._spare = self._spare or ForkServer.shared().fork(), None
        command = RunCommand(
            next(self._ids),
            request.strategy,
            request.config,
            self._live,
            SAMPLE_REQUESTS if request.sample else 0,
            self._beats and not self._live,
        )
        handle = RunHandle(command, worker, self._deliver, self._closed, self._server)
        os.set_blocking(handle.events_fd, False)
        self._running[handle.run_id] = handle
        self._loop.add_reader(handle.events_fd, handle.on_readable)
        if request.begin:
            handle.begin()
        return handle

    def _closed(self, handle: RunHandle) -> None:
        self._running.pop(handle.run_id, None)
        if self._loop is not None:
            self._loop.remove_reader(handle.events_fd)
        if not self._running:
            self.warm()  # between runs, never during one

    def close(self) -> None:
        """Kill every process of ours: the runs, and the spare."""
        self._keep_spare = False
        for handle in list(self._running.values()):
            handle.cancel()
        if self._spare is not None:
            self._spare.kill_and_reap()
            self._spare = None
