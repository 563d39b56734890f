"""The dashboard: pick a strategy with a key, watch its fetches as live rows.

The app only draws. Runs happen in processes of their own (runner.py); their events arrive in
batches on an asyncio.Queue and are applied at most once per frame.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import time
from collections.abc import Callable, Iterable
from typing import ClassVar

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer
from textual.screen import Screen
from textual.widgets import Digits, Footer

from fetchviz.core.baseline import Baseline, Baselines, verdict
from fetchviz.core.catalog import BY_ID, STRATEGIES, Strategy
from fetchviz.core.config import MAX_TASKS, Config
from fetchviz.core.events import LoopBeat, TaskFailed, TaskFinished, TaskStarted
from fetchviz.core.model import RunState
from fetchviz.core.source import Batch, EventSource, Run, RunRequest
from fetchviz.core.tour import Tour
from fetchviz.records.recording import Recording
from fetchviz.records.replay import ReplaySource, empty_state
from fetchviz.runs import tuning
from fetchviz.runs.runner import Runner
from fetchviz.runs.server import EmbeddedServer
from fetchviz.runs.user import KEYS, check
from fetchviz.ui.dialogs.details import Details, failure_summary, task_details
from fetchviz.ui.pacing import FramePacer
from fetchviz.ui.themes import HIGH_CONTRAST
from fetchviz.ui.widgets.dashboard import (
    Band,
    CodePanel,
    Column,
    DashboardScreen,
    Steady,
    StrategyBoard,
    Summary,
    TableHeader,
    TaskTable,
    set_titles,
)

# Every frame drawn takes CPU from the fetches being measured: draw no more than needed.
FRAME = 1 / 60  # events are applied and drawn at most this often
TICK = 1 / 15  # the clock on screen moves at most this often, while a run goes
CODE_BESIDE = 140  # narrower than this, the code panel takes the rows' place
TASK_STEPS = (
    *(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000),
    MAX_TASKS,
)
ROW_EVENTS = (TaskStarted, TaskFinished, TaskFailed)
HEADLINE_WIDTH = 150  # from here, the ratio also shows in large type (a projector's back row)
PHASE_LEGEND = (
    "[$text-disabled]░[/]wait [$accent]█[/]connect [$secondary]█[/]tls "
    "[$success]█[/]server [$primary]█[/]body"
)


def recorded_strategies(recording: Recording) -> tuple[Strategy, ...]:
    """The strategies of a recording that are not built in (a user's), with the keys they
    had: the board lists them as it did."""
    names: dict[str, str] = {}
    for run in recording.runs:
        if run.strategy not in BY_ID:
            names.setdefault(run.strategy, run.summary or "a strategy of the recording")
    keys = [*KEYS, *[""] * len(names)]
    return tuple(
        Strategy(name, key, summary, name)
        for (name, summary), key in zip(names.items(), keys, strict=False)
    )


class FetchvizApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "fetchviz"

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(s.key, f"pick('{s.id}')", s.id, show=False) for s in STRATEGIES),
        Binding("r", "rerun", "Rerun"),
        Binding("b", "baseline", "Baseline"),
        Binding("a", "compare_all", "All"),
        Binding("s", "sweep", "Sweep", show=False),  # the footer is full at 80 columns
        Binding("c", "toggle_code", "Code"),
        Binding("f", "failures", "Why", show=False),
        Binding("plus,equals", "more", "More", key_display="+"),
        Binding("minus,underscore", "fewer", "Fewer", key_display="-"),
        Binding("escape", "cancel", "Cancel"),
        # A replay's own keys (check_action shows them in a replay only).
        Binding("space", "pause", "Pause"),
        Binding("left_square_bracket", "slower", "Speed", key_display="[ ]"),
        Binding("right_square_bracket", "faster", "Faster", show=False),
        Binding("right", "skip", "End", key_display="→"),
        Binding("n", "next_run", "Runs", key_display="n p"),
        Binding("p", "previous_run", "Previous run", show=False),
        # The tour's own keys (check_action shows them in the tour only). Priority: a focused
        # panel that scrolls sideways would take ← and → first.
        Binding("space,right", "tour_next", "Next", key_display="space →", priority=True),
        Binding("left", "tour_previous", "Back", key_display="←", priority=True),
        Binding("escape", "leave_tour", "Leave", priority=True),
        Binding("q", "quit", "Quit"),
        # On stage, Ctrl+C must quit at once, as it does everywhere else.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        config: Config,
        strategies: list[Strategy] | None = None,
        server: EmbeddedServer | None = None,
        compare_all: bool = False,
        source: EventSource | None = None,
        theme: str | None = None,
        tour: bool = False,
    ) -> None:
        super().__init__()
        self.register_theme(HIGH_CONTRAST)  # the command palette offers it with the others
        self.start_theme = theme
        self.config = config  # the settings of the next run
        self.selected = (strategies or [STRATEGIES[0]])[0]
        # The built-ins, then the user's own (-s PATH.py:FUNCTION), on the board in this order;
        # in a replay, the recording's own strategies (their code is the recording's).
        self.catalog = STRATEGIES + tuple(s for s in strategies or () if s.path is not None)
        if isinstance(source, ReplaySource):
            self.catalog += recorded_strategies(source.recording)
        self.by_id = {strategy.id: strategy for strategy in self.catalog}
        for strategy in self.catalog[len(STRATEGIES) :]:
            if strategy.key:
                self.bind(
                    strategy.key, f"pick({strategy.id!r})", description=strategy.id, show=False
                )
        self.selected_source: str | None = None  # its code as recorded, in a replay
        self.server = server
        self.start_with_compare = compare_all
        self.source: EventSource = source if source is not None else Runner()
        self.replay = source if isinstance(source, ReplaySource) else None
        self.event_queue: asyncio.Queue[Batch] = asyncio.Queue()
        self.handle: Run | None = None
        self.current: RunState | None = None  # the run on screen
        self.current_config = config  # and its settings
        self.history: list[tuple[Config, RunState]] = []
        self.open_runs: dict[int, tuple[Config, RunState]] = {}  # events may still come
        self.baselines = Baselines()
        # What compare-all has still to run, each with the settings it started with.
        self.pending: list[tuple[Strategy, Config]] = []
        self.best_first = False
        self.at_most = False  # + was pressed with N at its most: the screen says so
        self.compare_from = 0  # where in the history the compare-all on the board began
        self.advance_when_resumed = False  # a replay held at a run's end goes on with space
        self.last_played = -1  # the index of the recorded run played last
        self.pacer = FramePacer(min_interval=FRAME, tick=TICK)
        # Two clocks: the wall's, for pacing frames; the source's, for what the screen says
        # (a replay's runs at its own speed). The live source's is the wall's.
        self.now: Callable[[], float] = self.source.now
        self.frame_time = self.now()  # the source's clock as the screen shows it
        self.ticked_at = time.perf_counter()  # on the wall's, when it last moved
        self._undo_signals: Callable[[], None] = lambda: None
        self.sweeping = False  # the sweep's screen is up: the dashboard's keys wait
        # `fetchviz tour`: the tutorial's steps, one key a step; None once left (escape).
        self.tour = Tour(compared=len(self.catalog)) if tour else None

    def compose(self) -> ComposeResult:
        # Kept at hand: a DOM query every frame costs more than the frame's own work.
        self.board = StrategyBoard(self.catalog, id="board")
        self.summary = Summary(id="summary")
        self.description = Steady(id="description")
        self.header = TableHeader(id="header")
        self.table = TaskTable(id="table", clock=lambda: self.frame_time)
        self.code = CodePanel(id="source")
        self.headline = Digits("", id="headline")  # the ratio in large type, on a wide screen
        with Band(id="top"):
            yield self.board
            yield self.summary
            yield self.headline
        yield self.description
        with Band(id="body"):
            with Column(id="rows"):
                yield self.header
                yield self.table
            with ScrollableContainer(id="code"):
                yield self.code
        yield Footer(compact=True)

    def get_default_screen(self) -> Screen:  # type: ignore[type-arg]
        return DashboardScreen(id="_default")

    def on_mount(self) -> None:
        self.query_one("#board").border_title = "strategies"
        self.query_one("#summary").border_title = "run"
        if self.start_theme:
            self.theme = self.start_theme
        self.headline.display = self.size.width >= HEADLINE_WIDTH
        self.summary.replay = self.replay is not None
        self.query_one("#code").display = False
        if self.tour is not None:
            self.description.add_class("tour")
            self.query_one("#code").display = self.size.width >= CODE_BESIDE
        # A line per strategy and the border: the user's own lengthen the board.
        self.query_one("#top").styles.height = max(10, len(self.catalog) + 2)
        self.source.open(self.event_queue.put_nowait)
        # Every way out goes through leave(): the runs are killed and Textual puts the
        # terminal back (out of the alternate screen, mouse tracking off), with the exit code
        # a shell expects. SIGHUP is a closed terminal or SSH session; SIGINT from outside
        # (in the terminal, Ctrl+C is a key).
        undo = [
            tuning.on_signal(signum, functools.partial(self.leave, 128 + signum))
            for name in ("SIGTERM", "SIGHUP", "SIGINT")
            if (signum := getattr(signal, name, None)) is not None
        ]

        def undo_all() -> None:
            for step in undo:
                step()

        self._undo_signals = undo_all
        # What is drawn is fitted to the widgets' widths: after each layout (a resize, the code
        # panel shown or hidden), draw again, at the new sizes, even with no run going.
        self.screen.screen_layout_refresh_signal.subscribe(self, lambda _screen: self._redraw())
        self._consume_events()
        self._redraw()
        # The first run starts once the first frame is up: drawing a whole screen for the
        # first time costs enough CPU to skew what the run measures.
        self.call_after_refresh(self._launch)

    def _launch(self) -> None:
        if self.replay is not None:
            if self.replay.recording.truncated:
                self.notify(
                    "This recording was cut short (its process was stopped): it plays what "
                    "it holds, and its last run says where it stops.",
                    severity="warning",
                    timeout=8,
                )
            self._play(0)
        elif self.tour is not None:
            self._tour_step()
        elif self.start_with_compare:
            self.action_compare_all()
        else:
            self.start_run(self.selected)

    # Runs

    @work(exclusive=True, group="start")
    async def start_run(self, strategy: Strategy, config: Config | None = None) -> None:
        """Cancel what runs, make sure the target answers, start the new run. What runs is
        what is selected: the board, the description, the run panel and the code agree."""
        config = config or self.config
        self._cancel_current()
        if strategy.path is not None:  # the user's file, read again: an edit shows now
            problem = check(strategy)
            if problem:  # the run goes on, and fails saying the same: a result, not a crash
                self.notify(problem, title=f"{strategy.id} cannot run", severity="error", timeout=8)
            self._select(strategy, strategy.source())
        else:
            self._select(strategy)
        if self.server is not None and not self.server.running:
            self.notify("The latency server had stopped: restarting it…", timeout=3)
            try:
                self.server.restart()  # from this thread: the server dies with it
                await asyncio.to_thread(self.server.wait_ready)
            except (RuntimeError, OSError) as exc:
                self.notify(str(exc), title="latency server", severity="error", timeout=10)
                self.pending.clear()
                return
        elif self.server is not None and self.current is None:
            try:  # the first run: the CLI spawned the server, it may not answer yet
                await asyncio.to_thread(self.server.wait_ready)
            except RuntimeError as exc:
                self.exit(return_code=1, message=f"fetchviz: {exc}")
                return
        tuning.settle_memory()
        self.pacer.reset()
        self.at_most = False
        sample = strategy.id != "sync" and self.baselines.needs_sample(config)
        self.handle = self.source.start(
            RunRequest(strategy, config, sample=sample, compare=self.best_first, begin=False)
        )
        run = RunState.new(
            self.handle.run_id, strategy.id, config.tasks, strategy.is_async, sample, config.targets
        )
        self.current, self.current_config = run, config
        if self.tour is not None:
            self.tour.record(run)
        self.history.append((config, run))
        self.open_runs[run.run_id] = (config, run)
        if self._shown():
            self.table.show(run)
        self._redraw()
        # The new rows are drawn first (a screenful at once): the run does not share the CPU
        # with that frame. Its time starts in its own process, when it is told to go.
        self.call_after_refresh(self.handle.begin)

    def _show_headline(self, run: RunState | None, baseline: Baseline | None) -> None:
        """The run's ratio to the sync baseline in large type, once it has one worth saying."""
        ratio, title = "", "vs sync"
        # Only a run whose every request was answered: a partial one's ratio needs its
        # "3 of 4 ok" beside it, which the run panel gives and large type would not.
        if run is not None and run.all_ok and baseline is not None and run.elapsed(0) > 0:
            faster = baseline.elapsed / run.elapsed(0)
            if 0.95 <= faster <= 1.05:  # as compare() says it
                ratio, title = "1.0x", "as fast as sync"
            elif faster > 1:
                ratio, title = f"{faster:.1f}x", "faster than sync"
            else:
                ratio, title = f"{1 / faster:.1f}x", "slower than sync"
        if self.headline.value != ratio:
            self.headline.update(ratio)
        estimated = baseline is not None and not baseline.measured
        set_titles(self.headline, title, "sync estimated" if estimated else "")

    def _select(self, strategy: Strategy, source: str | None = None) -> None:
        """`source`: its code as it ran (a recording's); None: as it is today."""
        self.selected, self.selected_source = strategy, source
        if self._shown():
            self._show_code()

    def _show_code(self) -> None:
        """The selected strategy's code; in the tour, its step's, with what is new marked."""
        tour = self.tour
        if tour is not None and tour.step.strategy == self.selected.id:
            since = tour.step.after or ""
            self.code.show(self.selected, self.selected_source, tour.step.changed(), since)
        else:
            self.code.show(self.selected, self.selected_source)

    # A replay

    def _play(self, index: int) -> None:
        """Play run `index` of the recording, through the same path as a live run's events."""
        assert self.replay is not None
        runs = self.replay.recording.runs
        if not 0 <= index < len(runs):
            which = "first" if index < 0 else "last"
            self.notify(f"That was the {which} run of the recording.", timeout=3)
            return
        recorded = runs[index]
        strategy = self.by_id.get(recorded.strategy) or Strategy(
            recorded.strategy, "", "a strategy of the recording", ""
        )
        self._select(strategy, recorded.source)
        # A compare-all's ranking holds the runs played in a row since its first: after n or
        # p, from here, never a later run played before.
        goes_on = index > 0 and index == self.last_played + 1 and runs[index - 1].compare
        if not (recorded.compare and goes_on):
            self.compare_from = len(self.history)
        self.last_played = index
        self.advance_when_resumed = False
        self.best_first = recorded.compare
        handle = self.replay.play(index)
        self.handle = handle
        run = empty_state(recorded)
        self.current, self.current_config, self.config = run, recorded.config, recorded.config
        self.history.append((recorded.config, run))
        self.open_runs[run.run_id] = (recorded.config, run)
        self.table.show(run)
        self._redraw()
        handle.begin()

    def _replay_only(self) -> bool:
        """In a replay, the keys that would start a live run say why they do nothing."""
        if self.replay is not None:
            self.notify(
                "This is a replay: it starts no run. Run fetchviz without replay for live runs.",
                timeout=4,
            )
        return self.replay is not None

    REPLAY_ACTIONS: ClassVar[set[str]] = {
        "pause",
        "slower",
        "faster",
        "skip",
        "next_run",
        "previous_run",
    }

    LIVE_ACTIONS: ClassVar[set[str]] = {
        *("pick", "rerun", "baseline", "compare_all", "sweep", "more", "fewer"),
    }
    TOUR_ACTIONS: ClassVar[set[str]] = {"tour_next", "tour_previous", "leave_tour"}
    TOUR_PICKS: ClassVar[set[str]] = {"pick", "baseline", "compare_all"}  # the tour picks

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A replay's keys exist in a replay only; the keys that start live runs, outside
        one (in a replay, on_key says why they do nothing: the footer stays short). Over the
        sweep, only quitting: a run started behind it would share the machine with its runs."""
        if self.sweeping:
            return action == "quit"
        if action in self.TOUR_ACTIONS:
            return self.tour is not None
        if self.tour is not None and (action in self.TOUR_PICKS or action == "cancel"):
            return False
        if action in self.REPLAY_ACTIONS:
            return self.replay is not None
        if action in self.LIVE_ACTIONS or action == "cancel":
            return self.replay is None
        return True

    def on_key(self, event: events.Key) -> None:
        live_keys = {s.key for s in self.catalog} | {"r", "b", "a", "s", "plus", "equals", "minus"}
        if self.replay is not None and event.key in live_keys:
            self._replay_only()
        elif self.replay is not None and event.key == "escape":
            self.action_hide_help_panel()  # nothing runs to cancel in a replay

    def action_pause(self) -> None:
        if self.replay is not None:
            paused = self.replay.toggle_pause()
            if not paused and self.advance_when_resumed:
                self.advance_when_resumed = False
                self._play(self.replay.current.index + 1 if self.replay.current else 0)
            self._redraw()

    def action_slower(self) -> None:
        if self.replay is not None:
            self.replay.change_speed(-1)
            self._redraw()

    def action_faster(self) -> None:
        if self.replay is not None:
            self.replay.change_speed(+1)
            self._redraw()

    def action_skip(self) -> None:
        """The end of this run, held there (paused) to be looked at: space goes on."""
        if self.replay is not None and self.replay.current is not None:
            if not self.replay.clock.paused:
                self.replay.toggle_pause()
            self.replay.current.finish()
            self._redraw()

    def action_next_run(self) -> None:
        self._play_from_here(+1)

    def action_previous_run(self) -> None:
        self._play_from_here(-1)

    def _play_from_here(self, step: int) -> None:
        """The next or previous run, playing (held at a run's end by →, the replay goes on)."""
        if self.replay is not None and self.replay.current is not None:
            if self.replay.clock.paused:
                self.replay.toggle_pause()
            if step > 0:  # skipped, not lost: it ends as recorded (its time, a baseline)
                self.replay.current.finish()
            self._play(self.replay.current.index + step)

    def _cancel_current(self) -> None:
        """Its end comes as an event, as every run's does, stamped now."""
        if self.handle is not None:
            self.handle.cancel()

    @work(group="events")
    async def _consume_events(self) -> None:
        """Apply whatever has arrived and redraw: at most once per frame, and at least once
        per tick while a run goes (elapsed time and growing bars move without events too)."""
        next_frame = 0.0
        while True:
            running = self.current is not None and not self.current.done
            timeout = None
            if running:  # until the clock on screen is due to move
                next_tick = self.ticked_at + self.pacer.tick_interval(self._run_busy())
                timeout = max(0.0, next_tick - time.perf_counter())
            try:
                first = await asyncio.wait_for(self.event_queue.get(), timeout)
            except TimeoutError:
                first = []
            # At most one frame per interval: what arrives meanwhile joins this one.
            if (wait := next_frame - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            batches = [first]
            while not self.event_queue.empty():
                batches.append(self.event_queue.get_nowait())
            touched = self._apply(batches)
            started = time.perf_counter()
            ticked = self._redraw(touched)
            if running:
                next_frame = started + self.pacer.pause(self._run_busy(), ticked)
            else:
                next_frame = started + FRAME

    def _apply(self, batches: list[Batch]) -> set[int] | None:
        """Apply each event to its run; say which rows of the run on screen they changed
        (None: any may have)."""
        touched: set[int] | None = set()
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
                        touched = None  # a run-wide event: every row may move
                    elif touched is not None:
                        touched.add(event.index)
                if run.done and not was_done:
                    self._on_run_done(config, run)
                if run.closed:
                    self._on_run_closed(config, run)
        return touched

    def _run_busy(self) -> float:
        """How many cores the run's process keeps busy (0 when it has no loop to tell)."""
        run = self.current
        return run.loop.busy if run is not None and run.loop is not None else 0.0

    def _on_run_done(self, config: Config, run: RunState) -> None:
        self.baselines.record(config, run)
        if run is self.current:
            tuning.release_memory()

    def _on_run_closed(self, config: Config, run: RunState) -> None:
        """Nothing more comes: the sync sample is in. A compare-all goes on from here, so that
        the sample and the next run never share the machine."""
        del self.open_runs[run.run_id]
        self.baselines.record(config, run)
        if run.sample_error and run is self.current and self.replay is None:
            self.notify(f"No sync estimate: {run.sample_error}", severity="warning", timeout=5)
        if run is self.current and self.pending and not run.cancelled:
            self.start_run(*self.pending.pop(0))
        playing = self.replay.current if self.replay is not None else None
        if run is self.current and playing is not None:
            assert self.replay is not None
            if playing.index + 1 < len(self.replay.recording.runs):
                if self.replay.clock.paused:  # held at this run's end (→): space goes on
                    self.advance_when_resumed = True
                else:
                    self._play(playing.index + 1)  # the session goes on, as recorded

    # What is shown

    def results(self) -> dict[str, RunState]:
        """The latest run of each strategy that ran to its end with the settings on screen;
        while a compare-all ranks them, only its own runs."""
        latest: dict[str, RunState] = {}
        since = self.compare_from if self.best_first else 0
        for config, run in self.history[since:]:
            if config == self.current_config and run.done and not run.cancelled:
                latest[run.strategy] = run
        return latest

    def baseline(self) -> Baseline | None:
        """Measured by a sync run, or estimated from a sample: for the settings on screen."""
        return self.baselines.get(self.current_config)

    def _comparison(self, run: RunState | None, baseline: Baseline | None) -> str:
        if run is None:
            return ""
        if not run.done:
            return "measuring the sync baseline…" if run.strategy == "sync" else "running…"
        if run.strategy == "sync" and run.all_ok:
            return "this is the sync baseline"
        said = verdict(run, baseline)
        return f"{said} · f: why" if run.failed or run.error else said

    def _shown(self) -> bool:
        """False once quitting has begun taking the screen down: nothing is left to draw."""
        return self.table.is_attached

    def _redraw(self, touched: set[int] | None = None) -> bool:
        """Show the current state. `touched`: the rows events changed since the last redraw
        (None: any may have). Says whether the clock on screen moved."""
        if not self._shown():
            return False
        run = self.current
        before = self.frame_time
        now = self._tick(run is not None and not run.done)
        table = self.table
        baseline = self.baseline()
        running = run.strategy if run is not None and not run.done else None
        self.board.show(
            self.selected,
            running,
            self.results(),
            baseline.elapsed if baseline and baseline.measured else None,
            self.best_first,
        )
        set_titles(
            self.board,
            "compare all · best first" if self.best_first else "strategies",
            # The legend, where it costs no line: the phases' shades once a run has them.
            PHASE_LEGEND if run is not None and run.timed_phases else "rows: ░ waiting █ in flight",
        )
        self.description.set_content(self._description(baseline))
        thread_width = run.thread_width if run is not None else 0
        self.header.show(table.scrollable_content_region.width, table.scale(), thread_width)
        self.summary.show(
            run,
            # The run's clock, unlike the rows' bars, is one line: it shows the time now, so it
            # never reads less than a task that has finished took.
            self.now() if run is not None and not run.done else now,
            baseline,
            self._comparison(run, baseline),
            run.loop_lag(now) if run is not None else None,
        )
        set_titles(self.summary, "run", self._target())
        if self.headline.display:
            self._show_headline(run, baseline)
        table.refresh_rows(touched)
        return now != before

    def _description(self, baseline: Baseline | None) -> Text:
        """Under the board: the strategy and what it shows; in the tour, the step, and what
        to watch in its run or what the run showed, in its own figures."""
        next_run = (self._next_run(), "bold yellow")
        if self.tour is not None:
            caption = self.tour.caption(baseline)
            return Text.assemble(
                next_run,
                (self.tour.header(), "bold"),
                *(f"\n{line}" for line in caption),
                no_wrap=True,
                overflow="ellipsis",
            )
        shown = self.selected
        return Text.assemble(
            next_run, (shown.id, "bold"), f" · {shown.summary}", no_wrap=True, overflow="ellipsis"
        )

    def _tick(self, running: bool) -> float:
        """The time this frame shows. Events are drawn on the next frame, but what only moves
        with the clock (elapsed, the bars of requests in flight) moves tick by tick: a line
        redrawn costs the CPU that the run needs."""
        wall = time.perf_counter()
        if not running or wall - self.ticked_at >= self.pacer.tick_interval(self._run_busy()):
            self.ticked_at, self.frame_time = wall, self.now()
        return self.frame_time

    def _target(self) -> str:
        """The settings of the run on screen."""
        c = self.current_config
        if c.delay_ms is not None:
            where = f"{c.delay_ms} ms" + (f" +0..{c.jitter_ms}" if c.jitter_ms else "")
        elif len(c.targets) > 1:
            where = f"{len(c.targets)} URLs in turn"
        else:
            where = c.url
        extras = (
            (f" · workers {c.workers}" if c.workers else "")
            + (f" · limit {c.limit}" if c.limit else "")
            + (f" · {c.loop}" if c.loop != "asyncio" else "")
        )
        target = f"N {c.tasks} · {where}{extras} · timeout {c.timeout:g} s"
        if self.replay is not None and self.replay.current is not None:
            paused = " paused" if self.replay.clock.paused else ""
            place = f"{self.replay.current.index + 1}/{len(self.replay.recording.runs)}"
            return f"replay {place} · {self.replay.clock.speed:g}×{paused} · {target}"
        return target

    # The tour

    def _tour_step(self) -> None:
        """Show the tour's step: as recorded if it ran (← shows what was seen), else run it."""
        tour = self.tour
        assert tour is not None
        self.pending.clear()  # a compare-all left half-way stops here
        self.workers.cancel_group(self, "start")
        if tour.needs_run:
            self._run_step()
            return
        self._cancel_current()  # the run of the step just left, if it still goes
        runs = tour.runs
        since = next(i for i, (_, run) in enumerate(self.history) if run is runs[0])
        self.compare_from, self.best_first = since, tour.step.strategy is None
        config, run = next(entry for entry in self.history[since:] if entry[1] is runs[-1])
        self.current, self.current_config = run, config
        self._select(self.by_id[run.strategy])
        self.table.show(run)
        self._redraw()

    def _run_step(self) -> None:
        """Run the tour's step: its strategy, or every strategy for compare all."""
        assert self.tour is not None
        strategy = self.tour.step.strategy
        if strategy is None:
            self.action_compare_all()
        else:
            self.pending.clear()
            self.best_first = False
            self.start_run(self.by_id[strategy])

    def action_tour_next(self) -> None:
        if self.tour is not None and self.tour.next():
            self._tour_step()
        elif self.tour is not None:
            self.notify("That was the last step: ← goes back, escape leaves the tour.", timeout=4)

    def action_tour_previous(self) -> None:
        if self.tour is not None and self.tour.previous():
            self._tour_step()

    def action_leave_tour(self) -> None:
        """escape in the tour: the dashboard, as it is (a run going on goes on)."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
            return
        self.tour = None
        self.description.remove_class("tour")
        self._show_code()  # without the marks
        self.refresh_bindings()
        self._redraw()

    # Actions

    def _start(self, strategy: Strategy) -> None:
        """A run the user asked for: it ends any compare-all in progress."""
        if self._replay_only():
            return
        self.pending.clear()
        self.best_first = False
        self.start_run(strategy)

    def action_pick(self, strategy_id: str) -> None:
        self._start(self.by_id[strategy_id])

    def action_rerun(self) -> None:
        if self.tour is not None:
            self._run_step()
            return
        self._start(self.selected)

    def action_baseline(self) -> None:
        self._start(BY_ID["sync"])

    def action_compare_all(self) -> None:
        """Every strategy in turn with the same settings, those of the moment it began (a
        `+` meanwhile is for the next run); the board ranks them as they end."""
        if self._replay_only():
            return
        config = self.config
        self.pending = [(strategy, config) for strategy in self.catalog[1:]]
        self.best_first = True
        self.compare_from = len(self.history)
        self.start_run(STRATEGIES[0], config)

    def action_sweep(self) -> None:
        """Every strategy at N = 1, 10, 100, 1,000, on log axes: how each one's time grows.
        What runs is cancelled first: the sweep has the machine to itself."""
        if self._replay_only():
            return
        self.action_cancel()
        from fetchviz.ui.screens.sweep import SweepScreen  # plotext: for the sweep alone

        self.sweeping = True
        self.push_screen(
            SweepScreen(self.config, list(self.catalog), server=self.server),
            callback=self._sweep_left,
        )

    def _sweep_left(self, _points: object) -> None:
        """The sweep's screen is gone: the dashboard's keys are back."""
        self.sweeping = False
        self.refresh_bindings()

    def action_failures(self) -> None:
        """Every reason the run on screen, and its tasks, failed: whole, with the rows."""
        if self.current is not None:
            self.push_screen(Details("why it failed", failure_summary(self.current)))

    def on_task_table_chosen(self, message: TaskTable.Chosen) -> None:
        run = self.current
        if run is not None and message.index < len(run.tasks):
            text = task_details(run, run.tasks[message.index])
            self.push_screen(Details(f"task {message.index}", text))

    def action_toggle_code(self) -> None:
        code = self.query_one("#code")
        code.display = not code.display
        self._show_code()
        self._fit_code_panel()

    def _fit_code_panel(self, width: int | None = None) -> None:
        """Beside the rows where there is room; in their place on a narrow screen. `width`:
        the screen's new width, on a resize (the app's size may not have caught up yet)."""
        width = self.size.width if width is None else width
        code_shown = self.query_one("#code").display
        self.query_one("#rows").display = not (code_shown and width < CODE_BESIDE)

    def _next_run(self) -> str:
        """What + and - changed, said on the description line (a toast per key press took
        a layout of the whole screen, 15-65 ms during a big run, and piled up)."""
        tasks = self.config.tasks
        if tasks == self.current_config.tasks:
            return f"N = {tasks:,} is the most · " if self.at_most else ""
        keeps = f", this compare-all keeps {self.current_config.tasks:,}" if self.pending else ""
        most = " (the most)" if self.at_most else ""
        return f"next run: N = {tasks:,}{most}{keeps}, r runs it · "

    def action_more(self) -> None:
        if self._replay_only():
            return
        if self.config.tasks >= TASK_STEPS[-1]:
            self.at_most = True
            self._redraw()
            return
        self._set_tasks(next(n for n in TASK_STEPS if n > self.config.tasks))

    def action_fewer(self) -> None:
        if self._replay_only():
            return
        smaller = [n for n in TASK_STEPS if n < self.config.tasks]
        self._set_tasks(smaller[-1] if smaller else 1)

    def _set_tasks(self, tasks: int) -> None:
        self.config = self.config.with_tasks(tasks)
        self.at_most = False
        self._redraw()

    def action_cancel(self) -> None:
        if self.screen.query("HelpPanel"):  # the keys panel, opened from the palette
            self.action_hide_help_panel()
            return
        if self.pending or (self.current is not None and not self.current.done):
            self.best_first = False  # a compare-all cut short ranks nothing
        self.pending.clear()
        # A run about to start (waiting for the server to answer) is cancelled too.
        self.workers.cancel_group(self, "start")
        if self.current is not None and not self.current.done:
            self._cancel_current()
        self._redraw()

    async def action_quit(self) -> None:
        self.leave(0)

    def leave(self, return_code: int) -> None:
        """Quit promptly: kill the run and the server now, and wait for neither."""
        self.pending.clear()
        self.source.close()
        if self.server is not None:
            self.server.kill()  # its teardown overlaps ours: quitting stays prompt
        self.exit(return_code=return_code)

    def on_unmount(self) -> None:
        self.source.close()  # however the app ends, no process of ours outlives it
        self._undo_signals()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_code_panel(event.size.width)
        self.headline.display = event.size.width >= HEADLINE_WIDTH

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:  # type: ignore[type-arg]
        yield from super().get_system_commands(screen)
        for s in self.catalog:
            yield SystemCommand(
                f"Run {s.id}",
                f"({s.key}) {s.summary}" if s.key else s.summary,
                lambda s=s: self.action_pick(s.id),
            )
        yield SystemCommand("Run again", "(r) the selected strategy", self.action_rerun)
        yield SystemCommand("Run the sync baseline", "(b) measure it", self.action_baseline)
        yield SystemCommand(
            "Compare all strategies", "(a) one after another", self.action_compare_all
        )
        yield SystemCommand(
            "Show the code", "(c) of the selected strategy", self.action_toggle_code
        )
        yield SystemCommand(
            "Sweep N", "(s) every strategy at N = 1 … 1,000, on log axes", self.action_sweep
        )
        yield SystemCommand("More tasks", "(+) raise N", self.action_more)
        yield SystemCommand("Fewer tasks", "(-) lower N", self.action_fewer)
        yield SystemCommand("Cancel the run", "(escape)", self.action_cancel)
        yield SystemCommand(
            "Why it failed",
            "(f) every reason, whole; a click on a row: that task",
            self.action_failures,
        )
