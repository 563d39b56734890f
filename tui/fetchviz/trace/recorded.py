"""A traced program's runs, recorded as they go (`fetchviz trace --record FILE`), and played
back (`fetchviz replay FILE`). The file is the one the board's runs make, each run's line
naming the program (strategy "trace"), so that replay and export read it as any other."""

from __future__ import annotations

from collections.abc import Callable

from fetchviz.core.config import Config
from fetchviz.core.source import Batch
from fetchviz.core.trace import TRACED
from fetchviz.records.recording import RecordedRun, Recorder, RecordingWriter
from fetchviz.records.replay import ReplayRun, ReplaySource
from fetchviz.trace.program import Program
from fetchviz.trace.source import TracedRun, TraceSource

# Between two recorded runs (r pressed), a replay waits as long as the user did, up to this:
# the run's end stays on screen to be read, and a long pause is not replayed whole.
GAP_SHOWN = 2.0


class RecordedTrace(Recorder):
    """A TraceSource, recorded: a trace source still to whoever holds it."""

    def __init__(self, source: TraceSource, writer: RecordingWriter, config: Config) -> None:
        super().__init__(source, writer)
        self.source = source
        self.config = config  # only the embedded server's settings: what the program fetched

    @property
    def program(self) -> Program:
        return self.source.program

    @property
    def current(self) -> TracedRun | None:
        return self.source.current

    def start(self) -> TracedRun:
        program = self.source.program
        return self.started(
            self.source.start,
            lambda run: (
                run.run_id,
                TRACED,
                self.config,
                False,  # has_loop: a program's loops are its own events
                False,
                "",
                False,
                "",
                program.shown,
                program.cwd,
            ),
        )


class TracePlayback:
    """A recording of a traced program's runs, played in their recorded timing, one after
    another as the session went: the trace screen's feed in a replay. It starts no program."""

    def __init__(self, replay: ReplaySource) -> None:
        self.replay = replay
        self.index = 0  # the recorded run shown
        self.held = False  # its end reached while paused (or by →): space plays the next

    @property
    def runs(self) -> list[RecordedRun]:
        return self.replay.recording.runs

    @property
    def recorded(self) -> RecordedRun:
        return self.runs[self.index]

    @property
    def program(self) -> Program:
        return Program.shown_as(self.recorded.program, self.recorded.cwd)

    @property
    def current(self) -> ReplayRun | None:
        return self.replay.current

    def open(self, deliver: Callable[[Batch], None]) -> None:
        self.replay.open(deliver)

    def now(self) -> float:
        return self.replay.now()

    def close(self) -> None:
        self.replay.close()

    def start(self) -> ReplayRun:
        """Run `index` from its start."""
        self.held = False
        run = self.replay.play(self.index)
        run.begin()
        return run

    def go_to(self, index: int) -> str | None:
        """Show run `index` next (start() plays it); past either end, what to say instead."""
        if not 0 <= index < len(self.runs):
            return f"That was the {'first' if index < 0 else 'last'} run of the recording."
        if self.current is not None and index > self.index:
            self.current.finish()  # a skipped run ends as recorded
        self.index = index
        return None

    def gap(self) -> float | None:
        """Wall seconds to wait, after this run's end, before the next one plays; None at the
        last run."""
        if self.index + 1 >= len(self.runs):
            return None
        ended = max((event.at for event in self.recorded.events), default=self.recorded.perf)
        waited = self.runs[self.index + 1].perf - ended
        return min(GAP_SHOWN, max(0.0, waited)) / self.replay.clock.speed

    def toggle_pause(self) -> bool:
        return self.replay.toggle_pause()

    def change_speed(self, step: int) -> float:
        return self.replay.change_speed(step)

    def skip(self) -> None:
        """The end of this run, held there (paused) to be looked at: space goes on."""
        if self.current is not None:
            if not self.replay.clock.paused:
                self.replay.toggle_pause()
            self.current.finish()
