"""The recorded scenes (tests/recordings, made by scripts/record_scenes.py), replayed to their
end in the real dashboard, or told by the real tour: screens that do not depend on wall-clock
luck. The snapshots of tests/test_snapshots.py are drawn from these, and so are the docs'
pictures (docs/images/), which are those snapshots' own files."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from fetchviz.core.events import Event, RunFinished, SyncSample
from fetchviz.core.source import Batch, RunRequest
from fetchviz.records.recording import RecordedRun, Recording, read_recording
from fetchviz.records.replay import ReplaySource, played_events
from fetchviz.ui.app import FetchvizApp
from fetchviz.ui.launch import dashboard_app, replay_app

RECORDINGS = Path(__file__).resolve().parent / "recordings"
NOT_RECORDED = "the recording has no sync sample for this run"


def scene(name: str, theme: str | None = None) -> FetchvizApp:
    """The dashboard, about to replay a recorded scene."""
    recording = read_recording(RECORDINGS / f"{name}.jsonl.gz")
    source = ReplaySource(recording, speed=10)
    return replay_app(source, theme=theme)


async def play_to_end(pilot: Pilot[int]) -> None:
    """Every run of the recording, each at once (→), to the end of the last."""
    app = pilot.app
    assert isinstance(app, FetchvizApp) and app.session.replay is not None
    last = len(app.session.replay.recording.runs) - 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        playing = app.session.replay.current
        if playing is not None:
            playing.finish()
            if (
                playing.index == last
                and app.session.current is not None
                and app.session.current.closed
            ):
                break
        await pilot.pause(0.02)
    await pilot.pause(0.1)  # the last frame drawn


class Played:
    """A run asked of RecordedRuns: the recorded run's events, all at once as it begins."""

    def __init__(self, source: RecordedRuns, run_id: int, events: list[Event]) -> None:
        self.run_id = run_id
        self._source = source
        self._events = events
        self.delivered = False

    def begin(self) -> None:
        if not self.delivered:
            self.delivered = True
            self._source.deliver(self._events)

    def cancel(self) -> None:
        """Before it began, it never ran: its end comes all the same, cancelled."""
        if not self.delivered:
            self.delivered = True
            self._source.deliver([RunFinished(self.run_id, self._source.now(), cancelled=True)])


class RecordedRuns:
    """An event source that runs nothing: each run the live dashboard (or the tour) asks for
    is the recording's run of that strategy, renumbered as the session's own, its events
    delivered at once when it begins. Its clock is the recording's, where its last event
    stands, so every figure on screen is the one recorded."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.clock = recording.runs[0].perf if recording.runs else 0.0
        self.runs: list[Played] = []
        self._deliver: Callable[[Batch], None] | None = None

    def open(self, deliver: Callable[[Batch], None]) -> None:
        self._deliver = deliver

    def deliver(self, batch: Batch) -> None:
        self.clock = max([self.clock, *(event.at for event in batch)])
        assert self._deliver is not None
        self._deliver(batch)

    def now(self) -> float:
        return self.clock

    def recorded(self, request: RunRequest) -> RecordedRun:
        wanted = request.strategy.id
        for recorded in self.recording.runs:
            if recorded.strategy == wanted:
                if recorded.config.tasks != request.config.tasks:
                    raise ValueError(f"{wanted} was recorded with another N")
                return recorded
        raise LookupError(f"the recording has no run of {wanted}")

    def start(self, request: RunRequest) -> Played:
        run_id = len(self.runs) + 1
        events = [
            dataclasses.replace(event, run_id=run_id)
            for event in played_events(self.recorded(request))
            if request.sample or not isinstance(event, SyncSample)
        ]
        if request.sample and not any(isinstance(event, SyncSample) for event in events):
            events.append(SyncSample(run_id, events[-1].at, (), NOT_RECORDED))
        run = Played(self, run_id, events)
        self.runs.append(run)
        if request.begin:
            run.begin()
        return run

    def close(self) -> None:
        for run in self.runs:
            run.cancel()


def tour(name: str, theme: str | None = None) -> FetchvizApp:
    """The tour, its steps' runs the recorded scene's (with its settings)."""
    recording = read_recording(RECORDINGS / f"{name}.jsonl.gz")
    config = recording.runs[0].config
    return dashboard_app(config, source=RecordedRuns(recording), tour=True, theme=theme)


async def tour_to(pilot: Pilot[int], strategy: str) -> None:
    """The tour, a key a step, to the step of `strategy`, each step's run ended and drawn."""
    app = pilot.app
    assert isinstance(app, FetchvizApp) and app.session.tour is not None
    tour = app.session.tour
    deadline = time.monotonic() + 30
    while True:
        while not (
            (current := app.session.current) is not None
            and current.strategy == tour.step.strategy
            and current.closed
        ):
            assert time.monotonic() < deadline, f"the tour's {tour.step.name} did not end"
            await pilot.pause(0.02)
        if tour.step.strategy == strategy:
            break
        await pilot.press("space")
    await pilot.pause(0.1)  # the last frame drawn
