"""An event source that plays a script instead of running anything: the real dashboard, fed
events a test chose, through the one path every event takes (source → queue → model)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

from fetchviz.core.events import RunFinished, RunStarted, SyncSample
from fetchviz.core.source import Batch, RunRequest

# A script: for a run as it starts (its id, strategy, tasks, and `at` its start time), the
# batches to deliver, each after a pause.
Script = Callable[[RunStarted], list[tuple[float, Batch]]]


class ScriptedRun:
    def __init__(self, source: ScriptedSource, run_id: int, start: RunStarted, sample: bool):
        self.run_id = run_id
        self.sample = sample
        self._start = start
        self._source = source
        self._task: asyncio.Task[None] | None = None
        self.ended = False

    def begin(self) -> None:
        """Once, as the live runner's: a second call changes nothing."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._play())

    async def _play(self) -> None:
        """As a run's process does: it starts when told to, and stamps that moment."""
        started = RunStarted(
            self.run_id, self._start.strategy, self._start.tasks, time.perf_counter()
        )
        self._deliver([started])
        for pause, batch in self._source.script(started):
            await asyncio.sleep(pause)
            self._deliver(batch)

    def _deliver(self, batch: Batch) -> None:
        if self.ended:
            return
        if any(isinstance(event, RunFinished) for event in batch):
            self.ended = True
            if self.sample:
                batch = [*batch, SyncSample(self.run_id, time.perf_counter(), (0.1,) * 3)]
        assert self._source.deliver is not None
        self._source.deliver(batch)

    def cancel(self) -> None:
        """As the live runner does: the end comes as an event, stamped now."""
        if self._task is not None:
            self._task.cancel()
        self._deliver([RunFinished(self.run_id, time.perf_counter(), cancelled=True)])


class ScriptedSource:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.deliver: Callable[[Batch], None] | None = None
        self.runs: list[ScriptedRun] = []
        self.closed = False
        self._ids = itertools.count(1)

    def open(self, deliver: Callable[[Batch], None]) -> None:
        self.deliver = deliver

    def now(self) -> float:
        return time.perf_counter()

    def start(self, request: RunRequest) -> ScriptedRun:
        run_id = next(self._ids)
        started = RunStarted(run_id, request.strategy.id, request.config.tasks, 0.0)
        run = ScriptedRun(self, run_id, started, request.sample)
        self.runs.append(run)
        if request.begin:
            run.begin()
        return run

    def close(self) -> None:
        self.closed = True
        for run in self.runs:
            if not run.ended:
                run.cancel()
