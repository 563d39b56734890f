"""The dashboard: pick a strategy with a key, watch its fetches as live rows.

The app only draws. Runs happen on the runner's threads; their events arrive in batches on an
asyncio.Queue and are applied at most once per frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterable

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from fetchviz.config import Config
from fetchviz.model import Baselines, RunState, compare
from fetchviz.runner import Batch, RunHandle, Runner
from fetchviz.server import EmbeddedServer
from fetchviz.strategies import BY_ID, STRATEGIES, Strategy
from fetchviz.widgets import StrategyList, Summary, TableHeader, TaskTable

FRAME = 1 / 60  # events are applied at most this often
TICK = 1 / 20  # while a run goes, elapsed time and growing bars redraw this often
TASK_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000)


class FetchvizApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "fetchviz"

    BINDINGS = [
        *(Binding(s.key, f"pick('{s.id}')", s.id, show=False) for s in STRATEGIES),
        Binding("r", "rerun", "Run again"),
        Binding("b", "baseline", "Sync baseline"),
        Binding("plus,equals", "more", "More", key_display="+"),
        Binding("minus,underscore", "fewer", "Fewer", key_display="-"),
        Binding("escape", "cancel", "Cancel"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        config: Config,
        strategies: list[Strategy] | None = None,
        server: EmbeddedServer | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.selected = (strategies or [STRATEGIES[0]])[0]
        self.server = server
        self.event_queue: asyncio.Queue[Batch] = asyncio.Queue()
        self.runner: Runner | None = None
        self.handle: RunHandle | None = None
        self.current: RunState | None = None
        self.history: list[tuple[Config, RunState]] = []
        self.baselines = Baselines()

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield StrategyList(id="strategies")
            yield Summary(id="summary")
        yield Static(id="description")
        with Vertical(id="rows"):
            yield TableHeader(id="header")
            yield TaskTable(id="table")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#strategies").border_title = "strategy"
        self.query_one("#summary").border_title = "run"
        self.runner = Runner(asyncio.get_running_loop(), self.event_queue)
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.exit)
        self.set_interval(TICK, self._tick)
        self._consume_events()
        self._redraw()
        self.start_run(self.selected)

    # Runs

    @work(exclusive=True, group="start")
    async def start_run(self, strategy: Strategy) -> None:
        """Cancel what runs, make sure the target answers, start the new run."""
        self._cancel_current()
        if self.server is not None and not self.server.running:
            try:
                await asyncio.to_thread(self._restart_server)
            except RuntimeError as exc:
                self.notify(str(exc), title="latency server", severity="error", timeout=10)
                return
        assert self.runner is not None
        self.handle = self.runner.start(strategy, self.config)
        self.current = RunState.new(self.handle.run_id, strategy.id, self.config.tasks)
        self.history.append((self.config, self.current))
        self.query_one(TaskTable).show(self.current)
        self._redraw()

    def _restart_server(self) -> None:
        assert self.server is not None
        if self.server.port and self.server.pid is None:
            pass  # first start: the CLI spawned it already
        if not self.server.running:
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
        """Apply whatever has arrived, at most once per frame, then redraw."""
        while True:
            batches = [await self.event_queue.get()]
            while not self.event_queue.empty():
                batches.append(self.event_queue.get_nowait())
            run = self.current
            if run is not None:
                for batch in batches:
                    for event in batch:
                        if event.run_id == run.run_id and not run.cancelled:
                            run.apply(event)
                if run.done:
                    self.baselines.record(self.config.baseline_key(), run)
            self._redraw()
            await asyncio.sleep(FRAME)

    def _tick(self) -> None:
        if self.current is not None and not self.current.done:
            self._redraw()

    # Drawing

    def _redraw(self) -> None:
        now = time.perf_counter()
        run = self.current
        table = self.query_one(TaskTable)
        running = run.strategy if run is not None and not run.done else None
        self.query_one(StrategyList).show(self.selected, running)
        self.query_one("#description", Static).update(
            f"[b]{self.selected.id}[/b]  {self.selected.summary}"
        )
        self.query_one(TableHeader).show(table.scrollable_content_region.width, table.scale())
        baseline = self.baselines.get(
            self.config.baseline_key(),
            self.config.tasks,
            [r for c, r in self.history if c.baseline_key() == self.config.baseline_key()],
        )
        comparison = ""
        if run is None or run.cancelled or run.error:
            pass
        elif run.strategy == "sync":
            comparison = "this is the sync baseline" if run.done else "measuring the sync baseline…"
        elif not run.done:
            comparison = "running…"
        elif baseline is not None:
            comparison = compare(run.elapsed(now), baseline.elapsed)
        lag = None
        if run is not None and self.handle is not None and self.handle.monitor is not None:
            monitor = self.handle.monitor
            if run.done:
                worst = run.loop_lag_max if run.loop_lag_max is not None else monitor.worst
                lag = (0.0, worst)
            else:
                lag = (monitor.current(now), max(monitor.worst, monitor.current(now)))
        self.query_one(Summary).show(
            run,
            now,
            (baseline.elapsed, baseline.measured) if baseline else None,
            comparison,
            lag,
            self._target(),
        )
        table.refresh()

    def _target(self) -> str:
        c = self.config
        where = (
            f"embedded server, {c.delay_ms} ms"
            + (f" +0..{c.jitter_ms} ms" if c.jitter_ms else "")
            if c.delay_ms is not None
            else c.url
        )
        extras = (f" · workers {c.workers}" if c.workers else "") + (
            f" · limit {c.limit}" if c.limit else ""
        )
        return f"N {c.tasks} · {where}{extras} · timeout {c.timeout:g} s"

    # Actions

    def action_pick(self, strategy_id: str) -> None:
        self.selected = BY_ID[strategy_id]
        self.start_run(self.selected)

    def action_rerun(self) -> None:
        self.start_run(self.selected)

    def action_baseline(self) -> None:
        self.start_run(BY_ID["sync"])

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
        if self.current is not None and not self.current.done:
            self._cancel_current()
            self._redraw()

    async def action_quit(self) -> None:
        self._cancel_current()
        self.exit(0)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:  # type: ignore[type-arg]
        yield from super().get_system_commands(screen)
        for s in STRATEGIES:
            yield SystemCommand(
                f"Run {s.id}", f"({s.key}) {s.summary}", lambda s=s: self.action_pick(s.id)
            )
        yield SystemCommand("Run again", "(r) the selected strategy", self.action_rerun)
        yield SystemCommand("Run the sync baseline", "(b) measure it", self.action_baseline)
        yield SystemCommand("More tasks", "(+) raise N", self.action_more)
        yield SystemCommand("Fewer tasks", "(-) lower N", self.action_fewer)
        yield SystemCommand("Cancel the run", "(escape)", self.action_cancel)
