"""A replay's session: the recorded runs played one after another, as the session went, with
pause, speed, the end of a run, and the runs before and after. No Textual."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fetchviz.core.actions import ACTIONS, OWN_KEYS, Action
from fetchviz.core.catalog import BY_ID, CLIENTS, STRATEGIES, TUTORIAL, Strategy
from fetchviz.core.config import Config
from fetchviz.core.model import RunState
from fetchviz.core.session import Applied, Session, keyed
from fetchviz.records.recording import Recording
from fetchviz.records.replay import ReplaySource, empty_state, replayed_state
from fetchviz.runs.sweep import (
    RUN_SEQUENTIAL_UP_TO,
    SEQUENTIAL,
    Point,
    estimated,
    time_per_request,
)


def recorded_strategies(recording: Recording) -> tuple[Strategy, ...]:
    """The strategies of a recording that are not built in (a user's), with the keys they
    had: the board lists them as it did."""
    names: dict[str, str] = {}
    for run in recording.runs:
        if run.strategy not in BY_ID:
            names.setdefault(run.strategy, run.summary or "a strategy of the recording")
    keys = [*OWN_KEYS, *[""] * len(names)]
    return tuple(
        Strategy(name, key, summary, name)
        for (name, summary), key in zip(names.items(), keys, strict=False)
    )


@dataclass(frozen=True, slots=True)
class RecordedSweep:
    """A recording's runs as the sweep's chart draws them."""

    config: Config  # the first run's: the target the chart's frame names
    strategies: tuple[str, ...]  # as they first ran
    sizes: tuple[int, ...]
    points: tuple[Point, ...]


def recorded_sweep(recording: Recording) -> RecordedSweep | None:
    """Each strategy's elapsed at each N it ran at (its last run there), and where the sweep
    estimates a sequential one (past RUN_SEQUENTIAL_UP_TO) and it did not run, its estimate,
    as the sweep made it: from its largest run in full before, or "—" with none (the sweep
    records its runs, not its estimates). None: a traced program's, or runs at fewer than
    two N, which draw no line."""
    runs = [run for run in recording.runs if not run.traced]
    sizes = sorted({run.config.tasks for run in runs})
    if len(sizes) < 2:
        return None
    strategies = list(dict.fromkeys(run.strategy for run in runs))
    last = {(run.strategy, run.config.tasks): run for run in runs}
    points: list[Point] = []
    basis: dict[str, tuple[int, float]] = {}
    for n in sizes:  # size by size, as the sweep goes: an estimate scales the run before it
        for strategy in strategies:
            if (strategy, n) in last:
                run = replayed_state(last[strategy, n])
                points.append(point := Point.measured(run))
                if strategy in SEQUENTIAL and point.complete:
                    basis[strategy] = (n, time_per_request(run))
            elif strategy in SEQUENTIAL and n > RUN_SEQUENTIAL_UP_TO:
                points.append(estimated(strategy, n, basis.get(strategy)))
    return RecordedSweep(runs[0].config, tuple(strategies), tuple(sizes), tuple(points))


class ReplaySession(Session):
    """The session of a recording: it starts no run; it plays the recorded ones."""

    def __init__(self, replay: ReplaySource, actions: Iterable[Action] = ACTIONS) -> None:
        recording = replay.recording
        # The tutorial's, and of the newer clients those the recording ran: its board as
        # it was (a recording made before them, or without them, lists none).
        ran = {run.strategy for run in recording.runs}
        shown = TUTORIAL + tuple(client for client in CLIENTS if client.id in ran)
        catalog = keyed(shown, actions) + recorded_strategies(recording)
        super().__init__(recording.runs[0].config, catalog, replay)
        self.replay = replay
        self.advance_when_resumed = False  # held at a run's end (→): space goes on
        # A run chosen by n or p is held at its end: it went on to the next, and at 10× "p"
        # seemed to do nothing (the run before played in a blink, then the one after again).
        self.hold_at_end = False
        self.last_played = -1  # the index of the recorded run played last
        self.played: list[tuple[int, RunState]] = []  # each run played, with its index

    @property
    def runs_recorded(self) -> int:
        return len(self.replay.recording.runs)

    def play(self, index: int, hold: bool = False) -> str | None:
        """Play run `index` of the recording, through the same path as a live run's events;
        past either end, what to say instead. `hold`: pause at its end, not go on."""
        runs = self.replay.recording.runs
        if not 0 <= index < len(runs):
            return f"That was the {'first' if index < 0 else 'last'} run of the recording."
        recorded = runs[index]
        strategy = self.by_id.get(recorded.strategy) or Strategy(
            recorded.strategy, "", "a strategy of the recording", ""
        )
        self.select(strategy, recorded.source)
        self.last_played = index
        self.advance_when_resumed = False
        self.hold_at_end = hold
        self.best_first = recorded.compare
        self.handle = self.replay.play(index)
        run = empty_state(recorded)
        self.show(recorded.config, run)
        self.config = recorded.config
        self.history.append((recorded.config, run))
        self.played.append((index, run))
        self.open_runs[run.run_id] = (recorded.config, run)
        self.handle.begin()  # it plays from the next turn of the loop: its rows are shown first
        return None

    def compare_all_of(self, index: int) -> range:
        """The recorded runs of the compare-all that run `index` belongs to: a row of
        compare runs, each compare-all beginning with the catalog's first strategy."""
        runs = self.replay.recording.runs
        if not runs[index].compare:
            return range(index, index + 1)
        first = STRATEGIES[0].id
        start = index
        while start > 0 and runs[start - 1].compare and runs[start].strategy != first:
            start -= 1
        end = index + 1
        while end < len(runs) and runs[end].compare and runs[end].strategy != first:
            end += 1
        return range(start, end)

    def results(self) -> dict[str, RunState]:
        """The board as it stood at the end of the run playing: the latest played end of each
        recorded run up to it (p from run 3 back to run 2 kept run 3's result on the board,
        which had not happened yet); while a recorded compare-all plays, of its runs alone,
        whichever way n and p went."""
        playing = self.replay.current
        if playing is None:
            return super().results()
        if self.best_first:
            shown = self.compare_all_of(playing.index)
            counted = {id(run) for _, run in self.history}
        else:  # with the settings on screen, as the dashboard's board
            shown = range(playing.index + 1)
            counted = {id(run) for config, run in self.history if config == self.current_config}
        latest: dict[str, RunState] = {}
        for index, run in self.played:
            if index in shown and id(run) in counted and run.done and not run.cancelled:
                latest[run.strategy] = run
        return latest

    def _closed(self, config: Config, run: RunState, applied: Applied) -> None:
        """The session goes on, as recorded: the next run plays (held at a run's end by →,
        once space is pressed)."""
        was_current = run is self.current
        super()._closed(config, run, applied)
        playing = self.replay.current
        if was_current and playing is not None and playing.index + 1 < self.runs_recorded:
            if self.hold_at_end and not self.replay.clock.paused:
                self.replay.toggle_pause()
            if self.replay.clock.paused:
                self.advance_when_resumed = True
            else:
                self.play(playing.index + 1)

    def toggle_pause(self) -> None:
        paused = self.replay.toggle_pause()
        if not paused and self.advance_when_resumed:
            self.advance_when_resumed = False
            playing = self.replay.current
            self.play(playing.index + 1 if playing is not None else 0)

    def change_speed(self, step: int) -> None:
        self.replay.change_speed(step)

    def skip(self) -> None:
        """The end of this run, held there (paused) to be looked at: space goes on."""
        if self.replay.current is not None:
            if not self.replay.clock.paused:
                self.replay.toggle_pause()
            self.replay.current.finish()

    def step(self, by: int) -> str | None:
        """The next (+1) or previous (-1) run, held at its end: playing, from its start;
        paused, shown at its end at once, as → would (it opened at 0.00 s, every row Queued,
        after → had paused the replay). A skipped run is not lost: it ends as recorded (its
        time, a baseline)."""
        playing = self.replay.current
        if playing is None:
            return None
        if by > 0:
            playing.finish()
        said = self.play(playing.index + by, hold=True)
        if said is None and self.replay.clock.paused and self.replay.current is not None:
            self.replay.current.finish()
        return said
