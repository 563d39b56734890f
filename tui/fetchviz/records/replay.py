"""Replay: a recording played back as an event source, with its recorded timing.

The dashboard draws a replay through the same path as a live run (source → queue →
RunState.apply → widgets); only the clock differs: the screen's "now" is the recording's own
time, which runs at the chosen speed and stops while paused, so every number on screen is
the one recorded, whatever the speed. Nothing here starts a process or opens a socket.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from fetchviz.core.events import Event, RunFinished, SyncSample
from fetchviz.core.model import RunState
from fetchviz.core.source import Batch, RunRequest
from fetchviz.core.trace import TraceState
from fetchviz.records.recording import RecordedRun, Recording

SPEEDS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0)
# Events due within this much of each other go in one batch: a frame shows them together.
BATCH_WINDOW = 0.002


CUT = "the recording stops here: it was cut short"


def played_events(recorded: RecordedRun) -> list[Event]:
    """A run's events as played. One whose recording was cut short ends where the recording
    stops, and says so: never as if it had finished, never running forever."""
    events = list(recorded.events)
    last = max((event.at for event in events), default=recorded.perf)
    if not any(isinstance(event, RunFinished) for event in events):
        events.append(RunFinished(recorded.run_id, last, error=CUT))
    if recorded.sample and not any(isinstance(event, SyncSample) for event in events):
        events.append(SyncSample(recorded.run_id, last, (), CUT))
    return events


def empty_state(recorded: RecordedRun) -> RunState:
    """The recorded run's rows, before any of its events (a traced program's: none yet)."""
    if recorded.traced:
        return TraceState.traced(recorded.run_id, recorded.program, recorded.cwd)
    return RunState.new(
        recorded.run_id,
        recorded.strategy,
        recorded.config.tasks,
        recorded.has_loop,
        recorded.sample,
        recorded.config.targets,
    )


def replayed_state(recorded: RecordedRun) -> RunState:
    """The run as a replay ends it (the headless replay's)."""
    run = empty_state(recorded)
    for event in played_events(recorded):
        run.apply(event)
    return run


class ReplayClock:
    """The recording's time: it moves `speed` times as fast as the wall clock, not at all
    while paused. Rebased whenever either changes, so that it never jumps."""

    def __init__(self, at: float, speed: float, wall: Callable[[], float] = time.perf_counter):
        self._wall = wall
        self.speed = speed
        self.paused = False
        self._base = (at, wall())  # (recording time, wall time) when last rebased

    def now(self) -> float:
        at, wall = self._base
        return at if self.paused else at + (self._wall() - wall) * self.speed

    def set(self, at: float) -> None:
        self._base = (at, self._wall())

    def set_speed(self, speed: float) -> None:
        self.set(self.now())
        self.speed = speed

    def set_paused(self, paused: bool) -> None:
        self.set(self.now())
        self.paused = paused

    def wall_until(self, at: float) -> float | None:
        """Wall seconds until the recording's time reaches `at`; None while paused."""
        if self.paused:
            return None
        return max(0.0, (at - self.now()) / self.speed)


class ReplayRun:
    """One recorded run, being played."""

    def __init__(self, source: ReplaySource, index: int, recorded: RecordedRun) -> None:
        self.run_id = recorded.run_id
        self.index = index
        self.recorded = recorded
        self.events = played_events(recorded)
        self._source = source
        self._next = 0  # the index of the next event to deliver
        self._task: asyncio.Task[None] | None = None

    @property
    def played(self) -> bool:
        return self._next >= len(self.events)

    def begin(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._play())

    def cancel(self) -> None:
        """Stop playing it (another run is chosen); what it showed stays as it was."""
        if self._task is not None:
            self._task.cancel()
        self._next = len(self.events)

    def finish(self) -> None:
        """Everything it has left, now: the run as it ended."""
        rest = self.events[self._next :]
        self._next = len(self.events)
        if rest:
            self._source.clock.set(max(event.at for event in rest))
            self._source.deliver(list(rest))

    async def _play(self) -> None:
        events, clock = self.events, self._source.clock
        while self._next < len(events):
            wait = clock.wall_until(events[self._next].at)
            if wait is None:  # paused
                await self._source.resumed.wait()
                continue
            if wait > 0:
                await asyncio.sleep(min(wait, 0.05))  # a speed change or a pause is seen soon
                continue
            now = clock.now() + BATCH_WINDOW * clock.speed
            start = self._next
            while self._next < len(events) and events[self._next].at <= now:
                self._next += 1
            self._source.deliver(list(events[start : self._next]))


class ReplaySource:
    """Plays the runs of a recording, one at a time, in the recorded timing."""

    def __init__(self, recording: Recording, speed: float = 1.0) -> None:
        self.recording = recording
        first = recording.runs[0].perf if recording.runs else 0.0
        self.clock = ReplayClock(first, speed)
        self.resumed = asyncio.Event()
        self.resumed.set()
        self.current: ReplayRun | None = None
        self._deliver: Callable[[Batch], None] | None = None

    def open(self, deliver: Callable[[Batch], None]) -> None:
        self._deliver = deliver

    def deliver(self, batch: Batch) -> None:
        if self._deliver is not None and batch:
            self._deliver(batch)

    def now(self) -> float:
        return self.clock.now()

    def play(self, index: int) -> ReplayRun:
        """Start playing run `index` of the recording, from its start."""
        if self.current is not None:
            self.current.cancel()
        recorded = self.recording.runs[index]
        self.clock.set(recorded.perf)
        self.current = ReplayRun(self, index, recorded)
        return self.current

    def start(self, request: RunRequest) -> ReplayRun:
        """A replay starts no run of its own: the dashboard plays the recorded ones."""
        raise RuntimeError("a replay plays recorded runs only")

    def toggle_pause(self) -> bool:
        paused = not self.clock.paused
        self.clock.set_paused(paused)
        if paused:
            self.resumed.clear()
        else:
            self.resumed.set()
        return paused

    def change_speed(self, step: int) -> float:
        """One step slower (-1) or faster (+1), within 0.1× to 10×."""
        index = min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - self.clock.speed))
        self.clock.set_speed(SPEEDS[max(0, min(len(SPEEDS) - 1, index + step))])
        return self.clock.speed

    def close(self) -> None:
        if self.current is not None:
            self.current.cancel()
