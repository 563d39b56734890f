"""What the dashboard knows of a session: its runs, the runs still open, the baselines, the
compare-all queue, what is selected, the next run's N; and, for a replay, where it is.

A plain object, no Textual: it takes events and commands, and the screens draw it. Commands
that start a run start it here, through the event source; what needs waiting for (the latency
server answering) is the screen's, which then calls `start`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from fetchviz.core.actions import ACTIONS, DISPLAY, OWN_KEYS, Action
from fetchviz.core.baseline import Baseline, Baselines
from fetchviz.core.catalog import BY_ID, CLIENTS, STRATEGIES, Strategy
from fetchviz.core.config import MAX_TASKS, Config
from fetchviz.core.events import LoopBeat, TaskFailed, TaskFinished, TaskStarted
from fetchviz.core.model import RunState
from fetchviz.core.source import Batch, EventSource, Run, RunRequest
from fetchviz.core.tour import Tour

TASK_STEPS = (
    *(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000),
    MAX_TASKS,
)
ROW_EVENTS = (TaskStarted, TaskFinished, TaskFailed)

Entry = tuple[Config, RunState]  # a run, with the settings it ran with


@dataclass
class Applied:
    """What a batch of events changed, for the screen to act on."""

    touched: set[int] | None = field(default_factory=set)  # rows of the run on screen; None: any
    finished_current: bool = False  # the run on screen has just ended
    start_next: tuple[Strategy, Config] | None = None  # a compare-all goes on with this


class Session:
    """A live session: the runs the user asked for, one on screen at a time."""

    def __init__(
        self,
        config: Config,
        catalog: tuple[Strategy, ...],
        source: EventSource,
        selected: Strategy | None = None,
        tour: Tour | None = None,
    ) -> None:
        self.config = config  # the settings of the next run
        self.catalog = catalog  # on the board in this order
        self.by_id = {strategy.id: strategy for strategy in catalog}
        self.source = source
        # The catalog's own (with the keys it shows) for what the command line chose.
        self.selected = self.by_id.get(selected.id, selected) if selected else catalog[0]
        self.selected_source: str | None = None  # its code as it ran, where it is known
        self.handle: Run | None = None
        self.current: RunState | None = None  # the run on screen
        self.current_config = config  # and its settings
        self.history: list[Entry] = []
        self.open_runs: dict[int, Entry] = {}  # events may still come for these
        self.baselines = Baselines()
        # What compare-all has still to run, each with the settings it started with.
        self.pending: list[tuple[Strategy, Config]] = []
        self.best_first = False  # the board ranks a compare-all
        self.compare_from = 0  # where in the history the compare-all on the board began
        self.at_most = False  # + was pressed with N at its most: the screen says so
        self.at_least = False  # and - with N at 1
        self.tour = tour  # `fetchviz tour`: its steps; None once left

    # Commands

    def select(self, strategy: Strategy, source: str | None = None) -> None:
        """`source`: its code as it ran (a recording's); None: as it is today."""
        self.selected, self.selected_source = strategy, source

    def asked(self) -> None:
        """A run the user asked for: it ends any compare-all in progress."""
        self.pending.clear()
        self.best_first = False

    def compare_all(self) -> tuple[Strategy, Config]:
        """Every strategy in turn with the same settings, those of the moment it began (a `+`
        meanwhile is for the next run); the board ranks them as they end. Returns the first
        run to start."""
        config = self.config
        runs = compared(self.catalog, self.tour is not None)
        self.pending = [(strategy, config) for strategy in runs[1:]]
        self.best_first = True
        self.compare_from = len(self.history)
        return runs[0], config

    def start(
        self, strategy: Strategy, config: Config | None = None, source: str | None = None
    ) -> RunState:
        """Cancel what runs and start a new run, waiting for `begin()`. What runs is what is
        selected: the board, the description, the run panel and the code agree."""
        config = config or self.config
        self.cancel_current()
        self.select(strategy, source)
        self.at_most = self.at_least = False
        sample = strategy.id != "sync" and self.baselines.needs_sample(config)
        self.handle = self.source.start(
            RunRequest(strategy, config, sample=sample, compare=self.best_first, begin=False)
        )
        run = RunState.new(
            self.handle.run_id, strategy.id, config.tasks, strategy.is_async, sample, config.targets
        )
        self.show(config, run)
        if self.tour is not None:
            self.tour.record(run)
        self.history.append((config, run))
        self.open_runs[run.run_id] = (config, run)
        return run

    def begin(self) -> None:
        """Let the run just started go (once its empty rows are drawn)."""
        if self.handle is not None:
            self.handle.begin()

    def show(self, config: Config, run: RunState) -> None:
        self.current, self.current_config = run, config

    def cancel_current(self) -> None:
        """Its end comes as an event, as every run's does, stamped now."""
        if self.handle is not None:
            self.handle.cancel()

    def cancel(self) -> None:
        """escape: the run, and the compare-all in progress (a compare-all cut short ranks
        nothing)."""
        if self.pending or self.running:
            self.best_first = False
        self.pending.clear()
        if self.running:
            self.cancel_current()

    def more(self) -> None:
        """N one step up, for the next run; at the most, it says so."""
        if self.config.tasks >= TASK_STEPS[-1]:
            self.at_most, self.at_least = True, False
            return
        self.set_tasks(next(n for n in TASK_STEPS if n > self.config.tasks))

    def fewer(self) -> None:
        """N one step down; at 1, it says so."""
        if self.config.tasks <= 1:
            self.at_most, self.at_least = False, True
            return
        smaller = [n for n in TASK_STEPS if n < self.config.tasks]
        self.set_tasks(smaller[-1] if smaller else 1)

    def set_tasks(self, tasks: int) -> None:
        self.config = self.config.with_tasks(tasks)
        self.at_most = self.at_least = False

    def close(self) -> None:
        """Nothing more runs: a compare-all stops here."""
        self.pending.clear()

    # Events

    def apply(self, batches: Iterable[Batch]) -> Applied:
        """Apply each event to its run; say which rows of the run on screen changed, and what
        follows from a run's end."""
        applied = Applied()
        for batch in batches:
            for event in batch:
                entry = self.open_runs.get(event.run_id)
                if entry is None:  # a run that has closed: nothing of it may change
                    continue
                config, run = entry
                was_done = run.done
                run.apply(event)
                if run is self.current and not isinstance(event, LoopBeat):
                    if not isinstance(event, ROW_EVENTS):
                        applied.touched = None  # a run-wide event: every row may move
                    elif applied.touched is not None:
                        applied.touched.add(event.index)
                if run.done and not was_done:
                    self.baselines.record(config, run)
                    applied.finished_current |= run is self.current
                if run.closed:
                    self._closed(config, run, applied)
        return applied

    def _closed(self, config: Config, run: RunState, applied: Applied) -> None:
        """Nothing more comes: the sync sample is in. A compare-all goes on from here, so that
        the sample and the next run never share the machine."""
        del self.open_runs[run.run_id]
        self.baselines.record(config, run)
        if run is self.current and self.pending and not run.cancelled:
            applied.start_next = self.pending.pop(0)

    # What is shown

    @property
    def running(self) -> bool:
        return self.current is not None and not self.current.done

    def results(self) -> dict[str, RunState]:
        """The latest run of each strategy that ran to its end with the settings on screen;
        while a compare-all ranks them, only its own runs."""
        latest: dict[str, RunState] = {}
        since = self.compare_from if self.best_first else 0
        # A tour's strategy step: the runs of its steps so far, as the board stood when it
        # ran (← to step 3 showed the compare-all's 2.07 s beside step 3's own 2.03 s).
        steps = self.tour.runs_so_far() if self.tour is not None and not self.best_first else None
        for config, run in self.history[since:]:
            if steps is not None and id(run) not in steps:
                continue
            if config == self.current_config and run.done and not run.cancelled:
                latest[run.strategy] = run
        # The run on screen stands for its strategy, where it is not the latest: the tour
        # left from an earlier step showed that step's 2.03 s run beside the compare-all's
        # 2.05 s for the same strategy on the board.
        current = self.current
        if (
            current is not None
            and current.strategy in latest
            and latest[current.strategy] is not current
        ):
            shown = [config for config, run in self.history[since:] if run is current]
            if shown and shown[0] == self.current_config and current.done and not current.cancelled:
                latest[current.strategy] = current
        return latest

    def baseline(self) -> Baseline | None:
        """Measured by a sync run, or estimated from a sample: for the settings on screen."""
        return self.baselines.get(self.current_config)

    def busy(self) -> float:
        """How many cores the run's process keeps busy (0 when it has no loop to tell)."""
        run = self.current
        return run.loop.busy if run is not None and run.loop is not None else 0.0

    # The tour

    def tour_step(self) -> tuple[Strategy, Config] | None:
        """The tour's step: as it ran, if it did (← shows what was seen); else the run to
        start for it (a compare-all's first, for its last step)."""
        tour = self.tour
        assert tour is not None
        self.pending.clear()  # a compare-all left half-way stops here
        if tour.needs_run:
            strategy = tour.step.strategy
            if strategy is None:
                return self.compare_all()
            self.asked()
            return self.by_id[strategy], self.config
        self.cancel_current()  # the run of the step just left, if it still goes
        runs = tour.runs
        since = next(i for i, (_, run) in enumerate(self.history) if run is runs[0])
        self.compare_from, self.best_first = since, tour.step.strategy is None
        config, run = next(entry for entry in self.history[since:] if entry[1] is runs[-1])
        self.show(config, run)
        self.select(self.by_id[run.strategy])
        return None

    def leave_tour(self) -> None:
        """The dashboard, as it is: a run going on goes on."""
        self.tour = None


CLIENT_IDS = frozenset(strategy.id for strategy in CLIENTS)


def compared(catalog: Iterable[Strategy], tour: bool) -> list[Strategy]:
    """What a compare-all runs: every strategy on the board that is installed; in the tour,
    the tutorial's (and the user's own), which its captions speak of."""
    return [
        strategy
        for strategy in catalog
        if strategy.installed and not (tour and strategy.id in CLIENT_IDS)
    ]


def catalog_of(
    strategies: Iterable[Strategy], actions: Iterable[Action] = ACTIONS
) -> tuple[Strategy, ...]:
    """The built-ins, then the user's own (-s PATH.py:FUNCTION), in the order given, each with
    the key its pick has (a keymap may have moved it): the board shows the key that works."""
    return keyed(STRATEGIES + tuple(s for s in strategies if s.path is not None), actions)


def keyed(catalog: Iterable[Strategy], actions: Iterable[Action]) -> tuple[Strategy, ...]:
    picks = {action.id: action for action in actions if action.id.startswith("pick.")}
    own = iter(picks[f"pick.own{place}"] for place in range(1, len(OWN_KEYS) + 1))
    with_keys = []
    for strategy in catalog:
        pick = picks.get(f"pick.{strategy.id}") if strategy.path is None else next(own, None)
        if strategy.path is None and pick is None:  # a recording's own: as it was recorded
            with_keys.append(strategy)
            continue
        key = pick.key_list[0] if pick is not None and pick.key_list else ""
        with_keys.append(replace(strategy, key=DISPLAY.get(key, key)))
    return tuple(with_keys)


def sync() -> Strategy:
    return BY_ID["sync"]
