"""The dashboard: pick a strategy with a key, watch its fetches as live rows.

The app only draws. Runs happen in processes of their own (runner.py); their events arrive in
batches on an asyncio.Queue and are applied at most once per frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import time
from collections.abc import Iterable
from typing import ClassVar

# Textual composes a frame on its screen timer, whose period is 1/TEXTUAL_FPS (60 by default);
# after each frame it sleeps one to two periods before it can compose the next, so a redraw
# that comes then waits. The dashboard paces its own frames (FRAME, pacing.py): a finer timer
# only shows each redraw sooner (p50 2 ms sooner at N = 1,000 than at 120), not more often.
# Set before Textual is imported; a user's setting wins.
os.environ.setdefault("TEXTUAL_FPS", "1000")

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer

from fetchviz.catalog import BY_ID, STRATEGIES, Strategy
from fetchviz.config import Config
from fetchviz.events import TaskFailed, TaskFinished, TaskStarted
from fetchviz.model import Baseline, Baselines, RunState, compare
from fetchviz.pacing import FramePacer
from fetchviz.runner import Batch, RunHandle, Runner
from fetchviz.server import EmbeddedServer
from fetchviz.widgets import (
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
TASK_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)


class FetchvizApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "fetchviz"

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(s.key, f"pick('{s.id}')", s.id, show=False) for s in STRATEGIES),
        Binding("r", "rerun", "Rerun"),
        Binding("b", "baseline", "Baseline"),
        Binding("a", "compare_all", "All"),
        Binding("c", "toggle_code", "Code"),
        Binding("plus,equals", "more", "More", key_display="+"),
        Binding("minus,underscore", "fewer", "Fewer", key_display="-"),
        Binding("escape", "cancel", "Cancel"),
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
    ) -> None:
        super().__init__()
        self.config = config
        self.selected = (strategies or [STRATEGIES[0]])[0]
        self.server = server
        self.start_with_compare = compare_all
        self.event_queue: asyncio.Queue[Batch] = asyncio.Queue()
        self.runner: Runner | None = None
        self.handle: RunHandle | None = None
        self.current: RunState | None = None
        self.history: list[tuple[Config, RunState]] = []
        self.baselines = Baselines()
        self.pending: list[Strategy] = []  # what compare-all has still to run
        self.best_first = False
        self.pacer = FramePacer(min_interval=FRAME, tick=TICK)
        self.frame_time = time.perf_counter()  # the clock as the screen shows it

    def compose(self) -> ComposeResult:
        # Kept at hand: a DOM query every frame costs more than the frame's own work.
        self.board = StrategyBoard(id="board")
        self.summary = Summary(id="summary")
        self.description = Steady(id="description")
        self.header = TableHeader(id="header")
        self.table = TaskTable(id="table", clock=lambda: self.frame_time)
        with Band(id="top"):
            yield self.board
            yield self.summary
        yield self.description
        with Band(id="body"):
            with Column(id="rows"):
                yield self.header
                yield self.table
            with VerticalScroll(id="code"):
                yield CodePanel(id="source")
        yield Footer(compact=True)

    def get_default_screen(self) -> Screen:  # type: ignore[type-arg]
        return DashboardScreen(id="_default")

    def on_mount(self) -> None:
        self.query_one("#board").border_title = "strategies"
        self.query_one("#summary").border_title = "run"
        self.query_one("#code").display = False
        self.runner = Runner(asyncio.get_running_loop(), self.event_queue)
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGTERM, lambda: self.leave(128 + signal.SIGTERM)
            )
        # What is drawn is fitted to the widgets' widths: after each layout (a resize, the code
        # panel shown or hidden), draw again, at the new sizes, even with no run going.
        self.screen.screen_layout_refresh_signal.subscribe(self, lambda _screen: self._redraw())
        self._consume_events()
        self._redraw()
        # The first run starts once the first frame is up: drawing a whole screen for the
        # first time costs enough CPU to skew what the run measures.
        self.call_after_refresh(self._launch)

    def _launch(self) -> None:
        if self.start_with_compare:
            self.action_compare_all()
        else:
            self.start_run(self.selected)

    # Runs

    @work(exclusive=True, group="start")
    async def start_run(self, strategy: Strategy) -> None:
        """Cancel what runs, make sure the target answers, start the new run."""
        self._cancel_current()
        if self.server is not None and not self.server.running:
            self.notify("The latency server had stopped: restarting it…", timeout=3)
            try:
                await asyncio.to_thread(self._restart_server)
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
        assert self.runner is not None
        # Collect what earlier runs left, and set what lives on (Textual, the widgets, the
        # history) out of the collector's sight: a collection during the run then walks only
        # what the run makes (with the last run's rows in sight, one took 16 ms mid-run).
        gc.collect()
        gc.freeze()
        self.pacer.reset()
        self.handle = self.runner.start(strategy, self.config, begin=False)
        self.current = RunState.new(self.handle.run_id, strategy.id, self.config.tasks)
        self.history.append((self.config, self.current))
        if self._shown():
            self.table.show(self.current)
        self._redraw()
        # The new rows are drawn first (a screenful at once): the run does not share the CPU
        # with that frame. Its time starts in its own process, when it is told to go.
        self.call_after_refresh(self.handle.begin)

    def _restart_server(self) -> None:
        assert self.server is not None
        self.server.stop()
        self.server.start()
        self.server.wait_ready()

    def _cancel_current(self) -> None:
        handle, run = self.handle, self.current
        if handle is not None:
            handle.cancel()
        if run is not None and not run.done:  # the rows stop where they were, at once
            run.end, run.cancelled = time.perf_counter(), True
            run.loop_lag_max = handle.monitor.worst if handle and handle.monitor else None

    @work(group="events")
    async def _consume_events(self) -> None:
        """Apply whatever has arrived and redraw: at most once per frame, and at least once
        per tick while a run goes (elapsed time and growing bars move without events too)."""
        next_frame = 0.0
        while True:
            running = self.current is not None and not self.current.done
            timeout = None
            if running:  # until the clock on screen is due to move
                next_tick = self.frame_time + self.pacer.tick_interval(self._run_busy())
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
            run = self.current
            touched: set[int] | None = set()  # the rows these events changed
            if run is not None and not run.done:
                for batch in batches:
                    for event in batch:
                        if event.run_id == run.run_id:
                            run.apply(event)
                            if not isinstance(event, TaskStarted | TaskFinished | TaskFailed):
                                touched = None  # a run-wide event: every row may move
                            elif touched is not None:
                                touched.add(event.index)
                if run.done:
                    self._on_run_done(run)
            started = time.perf_counter()
            ticked = self._redraw(touched)
            if running:
                next_frame = started + self.pacer.pause(self._run_busy(), ticked)
            else:
                next_frame = started + FRAME

    def _run_busy(self) -> float:
        """How many cores the run's process keeps busy (0 when it has no loop to tell)."""
        monitor = self.handle.monitor if self.handle is not None else None
        return monitor.busy if monitor is not None else 0.0

    def _on_run_done(self, run: RunState) -> None:
        if self.handle is not None:  # keyed by the run's settings: N may have changed since
            self.baselines.record(self.handle.config.baseline_key(), run)
        if self.pending and not run.cancelled:
            self.start_run(self.pending.pop(0))

    # What is shown

    def results(self) -> dict[str, RunState]:
        """The latest complete run of each strategy with the settings now in force."""
        latest: dict[str, RunState] = {}
        for config, run in self.history:
            if config == self.config and run.done and not run.cancelled and run.error is None:
                latest[run.strategy] = run
        return latest

    def baseline(self) -> Baseline | None:
        """Measured by a sync run, or estimated from the runs that ended with these settings:
        not from a run still going, whose first durations are its shortest."""
        key = self.config.baseline_key()
        same = [
            run
            for config, run in self.history
            if config.baseline_key() == key and run.done and not run.cancelled
        ]
        return self.baselines.get(key, self.config.tasks, same)

    def _comparison(self, run: RunState | None, baseline: Baseline | None, now: float) -> str:
        if run is None or run.cancelled or run.error:
            return ""
        if run.strategy == "sync":
            return "this is the sync baseline" if run.done else "measuring the sync baseline…"
        if not run.done:
            return "running…"
        return compare(run.elapsed(now), baseline.elapsed) if baseline else ""

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
        )
        shown = BY_ID[run.strategy] if run is not None else self.selected
        self.description.set_content(f"[b]{shown.id}[/b] · {shown.summary}")
        self.header.show(table.scrollable_content_region.width, table.scale())
        lag = None
        if run is not None and self.handle is not None and self.handle.monitor is not None:
            monitor = self.handle.monitor
            if run.done:
                worst = run.loop_lag_max if run.loop_lag_max is not None else monitor.worst
                lag = (0.0, worst)
            else:
                lag = (monitor.current(now), max(monitor.worst, monitor.current(now)))
        self.summary.show(
            run,
            # The run's clock, unlike the rows' bars, is one line: it shows the time now, so it
            # never reads less than a task that has finished took.
            time.perf_counter() if run is not None and not run.done else now,
            (baseline.elapsed, baseline.measured) if baseline else None,
            self._comparison(run, baseline, now),
            lag,
        )
        set_titles(self.summary, "run", self._target())
        table.refresh_rows(touched)
        return now != before

    def _tick(self, running: bool) -> float:
        """The time this frame shows. Events are drawn on the next frame, but what only moves
        with the clock (elapsed, the bars of requests in flight) moves tick by tick: a line
        redrawn costs the CPU that the run needs."""
        now = time.perf_counter()
        if not running or now - self.frame_time >= self.pacer.tick_interval(self._run_busy()):
            self.frame_time = now
        return self.frame_time

    def _target(self) -> str:
        c = self.config
        if c.delay_ms is not None:
            where = f"{c.delay_ms} ms" + (f" +0..{c.jitter_ms}" if c.jitter_ms else "")
        else:
            where = c.url
        extras = (f" · workers {c.workers}" if c.workers else "") + (
            f" · limit {c.limit}" if c.limit else ""
        )
        return f"N {c.tasks} · {where}{extras} · timeout {c.timeout:g} s"

    # Actions

    def _start(self, strategy: Strategy) -> None:
        """A run the user asked for: it ends any compare-all in progress."""
        self.pending.clear()
        self.best_first = False
        self.start_run(strategy)

    def action_pick(self, strategy_id: str) -> None:
        self.selected = BY_ID[strategy_id]
        self.query_one(CodePanel).show(self.selected)
        self._start(self.selected)

    def action_rerun(self) -> None:
        self._start(self.selected)

    def action_baseline(self) -> None:
        self._start(BY_ID["sync"])

    def action_compare_all(self) -> None:
        """Every strategy in turn with the same settings; the board ranks them as they end."""
        self.pending = list(STRATEGIES[1:])
        self.best_first = True
        self.start_run(STRATEGIES[0])

    def action_toggle_code(self) -> None:
        code = self.query_one("#code")
        code.display = not code.display
        self.query_one(CodePanel).show(self.selected)
        self._fit_code_panel()

    def _fit_code_panel(self) -> None:
        """Beside the rows where there is room; in their place on a narrow screen."""
        code_shown = self.query_one("#code").display
        self.query_one("#rows").display = not (code_shown and self.size.width < CODE_BESIDE)

    def action_more(self) -> None:
        self._set_tasks(next((n for n in TASK_STEPS if n > self.config.tasks), TASK_STEPS[-1]))

    def action_fewer(self) -> None:
        smaller = [n for n in TASK_STEPS if n < self.config.tasks]
        self._set_tasks(smaller[-1] if smaller else 1)

    def _set_tasks(self, tasks: int) -> None:
        self.config = self.config.with_tasks(tasks)
        self.notify(f"N = {self.config.tasks}: press r to run", timeout=3)
        self._redraw()

    def action_cancel(self) -> None:
        self.pending.clear()
        if self.current is not None and not self.current.done:
            self._cancel_current()
            self._redraw()

    async def action_quit(self) -> None:
        self.leave(0)

    def leave(self, return_code: int) -> None:
        """Quit promptly: kill the run and the server now, and wait for neither."""
        self.pending.clear()
        self._cancel_current()
        if self.runner is not None:
            self.runner.close()
        if self.server is not None:
            self.server.kill()  # its teardown overlaps ours: quitting stays prompt
        self.exit(return_code=return_code)

    def on_unmount(self) -> None:
        if self.runner is not None:  # however the app ends, no process of ours outlives it
            self.runner.close()

    def on_resize(self) -> None:
        self._fit_code_panel()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:  # type: ignore[type-arg]
        yield from super().get_system_commands(screen)
        for s in STRATEGIES:
            yield SystemCommand(
                f"Run {s.id}", f"({s.key}) {s.summary}", lambda s=s: self.action_pick(s.id)
            )
        yield SystemCommand("Run again", "(r) the selected strategy", self.action_rerun)
        yield SystemCommand("Run the sync baseline", "(b) measure it", self.action_baseline)
        yield SystemCommand(
            "Compare all strategies", "(a) one after another", self.action_compare_all
        )
        yield SystemCommand(
            "Show the code", "(c) of the selected strategy", self.action_toggle_code
        )
        yield SystemCommand("More tasks", "(+) raise N", self.action_more)
        yield SystemCommand("Fewer tasks", "(-) lower N", self.action_fewer)
        yield SystemCommand("Cancel the run", "(escape)", self.action_cancel)
