"""The sweep on screen: elapsed against N on log axes, a line per strategy, drawn as the runs
end, with its numbers in a table; escape cancels it and goes back."""

from __future__ import annotations

import asyncio
import functools
import math
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, RenderResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static
from textual_plotext import PlotextPlot

from fetchviz.core.catalog import Strategy
from fetchviz.core.config import Config
from fetchviz.core.source import EventSource
from fetchviz.runs import tuning
from fetchviz.runs.server import EmbeddedServer
from fetchviz.runs.sweep import (
    DEFAULT_SIZES,
    ESTIMATED,
    INCOMPLETE,
    RUN_SEQUENTIAL_UP_TO,
    Point,
    fmt_point,
    plan,
    sweep,
    target_of,
)

RGB = tuple[int, int, int]
# Okabe and Ito's colours, which colour-blind eyes tell apart, then two more for a user's own.
PALETTE: tuple[RGB, ...] = (
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (213, 94, 0),  # vermillion before yellow: in 256 colours, yellow reads as orange's twin
    (0, 114, 178),
    (240, 228, 66),
    (204, 121, 167),
    (170, 170, 170),
    (140, 220, 90),
    (255, 140, 200),
)
MEASURED_MARK = "•"  # a run's point, on its line
ESTIMATE_MARK = "·"  # the dotted line of an estimate
FAILED_MARK = "x"  # a run in which not every task was answered: never on the line
KEY = (
    f"{MEASURED_MARK} run · {ESTIMATE_MARK * 3}{ESTIMATED} estimated: N × time per request "
    f"of its largest run · {FAILED_MARK}{INCOMPLETE} failures"
)


def colour(index: int) -> RGB:
    return PALETTE[index % len(PALETTE)]


def log_ticks(low: float, high: float, rows: int) -> list[float]:
    """Ticks for a log axis from 10**low to 10**high: the decades, and 2 and 5 between them
    where each decade has rows enough, or fewer than two decades show (a flat line)."""
    decades = range(math.floor(low), math.ceil(high) + 1)
    ticks = [10.0**d for d in decades if low <= d <= high]
    if len(ticks) < 2 or rows >= 7 * (high - low):
        ticks = [
            m * 10.0**d
            for d in decades
            for m in (1, 2, 5)
            if low <= math.log10(m * 10.0**d) <= high
        ]
    return ticks


def fmt_tick(seconds: float) -> str:
    """'10 ms', '1 s', '100 s': a tick is a round number."""
    return f"{seconds * 1000:g} ms" if seconds < 1 else f"{seconds:g} s"


class SweepChart(PlotextPlot):
    """Elapsed against N, both on log scales, from the points so far.

    The data go in as their log10 on linear axes, ticks saying the values: plotext 5's own
    log scale takes the log of the data at every build, so the second frame (any resize)
    raised (piccolomo/plotext#209; fixed in plotext 6, which textual-plotext 1.0 does not
    take)."""

    def __init__(self, strategies: Sequence[str], sizes: Sequence[int], id: str | None = None):
        super().__init__(id=id)
        self.strategies = list(strategies)
        self.sizes = sorted(set(sizes))
        self.points: list[Point] = []

    def show(self, points: Sequence[Point]) -> None:
        self.points = list(points)
        self.refresh()

    def render(self) -> RenderResult:
        self._draw()
        return super().render()

    def _draw(self) -> None:
        """The whole figure anew, at every frame: a few dozen points cost nothing."""
        plt = self.plt
        plt.clear_figure()
        xs = [math.log10(n) for n in self.sizes]
        pad = 0.15 if len(xs) > 1 else 0.5
        plt.xlim(min(xs) - pad, max(xs) + pad)
        plt.xticks(xs, [f"{n:,}" for n in self.sizes])
        shown = [p.elapsed for p in self.points if p.elapsed is not None and p.elapsed > 0]
        low, high = (
            (math.log10(min(shown)), math.log10(max(shown))) if shown else (-2.0, 1.0)
        )  # before the first point: 10 ms to 10 s
        if high - low < 1:  # a flat line stays flat on screen: a decade at least
            middle = (low + high) / 2
            low, high = middle - 0.5, middle + 0.5
        low, high = low - 0.08 * (high - low), high + 0.08 * (high - low)
        plt.ylim(low, high)
        ticks = log_ticks(low, high, self.size.height - 3)  # less the x axis
        plt.yticks([math.log10(t) for t in ticks], [fmt_tick(t) for t in ticks])
        for index, name in enumerate(self.strategies):
            self._series(name, colour(index))

    def _series(self, name: str, rgb: RGB) -> None:
        mine = sorted((p for p in self.points if p.strategy == name), key=lambda p: p.tasks)
        run = {p.tasks: p for p in mine if p.complete and not p.estimated}
        if run:
            x, y = _logs(run.values())
            self.plt.plot(x, y, marker="braille", color=rgb)
            self.plt.scatter(x, y, marker=MEASURED_MARK, color=rgb)
        estimated = [p for p in mine if p.estimated and p.elapsed is not None]
        if estimated:
            start = run.get(estimated[0].estimated_from or 0)  # from the run it scales
            x, y = _logs([start, *estimated] if start else estimated)
            self.plt.plot(x, y, marker=ESTIMATE_MARK, color=rgb)
        failed = [p for p in mine if not p.complete and p.elapsed is not None and p.elapsed > 0]
        if failed:
            x, y = _logs(failed)
            self.plt.scatter(x, y, marker=FAILED_MARK, color=rgb)


def _logs(points: Iterable[Point | None]) -> tuple[list[float], list[float]]:
    """Where points go on the log axes (the data go in as their logs)."""
    chosen = [(p.tasks, p.elapsed) for p in points if p is not None and p.elapsed]
    return [math.log10(n) for n, _ in chosen], [math.log10(s) for _, s in chosen]


class SweepScreen(Screen[list[Point]]):
    """Runs the sweep as soon as it shows; dismissed with the points it got."""

    DEFAULT_CSS = """
    SweepScreen { layout: vertical; }
    SweepScreen > SweepChart {
        height: 1fr;
        min-height: 8;
        border: round $primary;
        border-subtitle-color: $text-muted;
    }
    SweepScreen > #sweep-key { height: auto; padding: 0 1; color: $text-muted; }
    SweepScreen > DataTable { height: auto; max-height: 50%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Cancel · back", id="sweep.leave"),
    ]

    def __init__(
        self,
        config: Config,
        strategies: Sequence[Strategy],
        sizes: Sequence[int] = DEFAULT_SIZES,
        run_sequential_up_to: int | None = RUN_SEQUENTIAL_UP_TO,
        server: EmbeddedServer | None = None,
        source: Callable[[], EventSource] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.strategies = list(strategies)
        self.sizes = sorted(set(sizes))
        self.run_sequential_up_to = run_sequential_up_to
        self.server = server
        self.make_source = source
        self.points: list[Point] = []  # as they come
        self.done = False  # the sweep ran to its end
        self.standalone = False  # the screen of `fetchviz sweep`: leaving it is q
        self.cancelled = False
        self.status = "starting…"
        steps = plan(self.strategies, self.sizes, run_sequential_up_to)
        self.runs = sum(not step.estimated for step in steps)
        self.estimates = len(steps) - self.runs
        self.started = time.monotonic()

    def compose(self) -> ComposeResult:
        names = [s.id for s in self.strategies]
        self.chart = SweepChart(names, self.sizes, id="sweep-chart")
        self.table: DataTable[Text | str] = DataTable(
            show_cursor=False, cursor_type="none", zebra_stripes=False, id="sweep-table"
        )
        yield self.chart
        yield Static(KEY, id="sweep-key", markup=False)
        yield self.table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.table.add_column("strategy", key="strategy")
        for n in self.sizes:
            self.table.add_column(Text(f"{n:,}", justify="right"), key=str(n))
        for index, strategy in enumerate(self.strategies):
            r, g, b = colour(index)
            label = Text.assemble((f"━━ {strategy.id}", f"bold rgb({r},{g},{b})"))
            self.table.add_row(label, *([""] * len(self.sizes)), key=strategy.id)
        self.chart.border_subtitle = f"elapsed (log) against N (log) · {target_of(self.config)}"
        self._show_status()
        self._run()

    @work(exclusive=True, group="sweep")
    async def _run(self) -> None:
        source = self.make_source() if self.make_source is not None else None
        try:
            await sweep(
                self.config,
                self.strategies,
                self.sizes,
                source,
                self.run_sequential_up_to,
                self._before_each,
                self._add,
                self.points,
            )
        except (RuntimeError, OSError) as exc:  # the latency server would not start again
            self.status = f"stopped: {exc}"
        else:
            self.done = True
            self.status = f"done in {time.monotonic() - self.started:.0f} s"
        self._show_status()

    async def _before_each(self, strategy: Strategy, n: int) -> None:
        ran = sum(not p.estimated for p in self.points)
        estimated = f" · {self.estimates} estimated" if self.estimates else ""
        self.status = f"{strategy.id} at N = {n:,} · run {ran + 1} of {self.runs}{estimated}"
        self._show_status()
        if self.server is not None and not self.server.running:
            self.notify("The latency server had stopped: restarting it…", timeout=3)
            self.server.restart()  # from the loop's thread: the server dies with it
        if self.server is not None:
            await asyncio.to_thread(self.server.wait_ready)

    def _add(self, point: Point) -> None:
        self.chart.show(self.points)
        style = "italic" if point.estimated else "" if point.complete else "bold red"
        self.table.update_cell(
            point.strategy,
            str(point.tasks),
            Text(fmt_point(point), style=style, justify="right"),
            update_width=True,
        )

    def _show_status(self) -> None:
        over = self.done or self.cancelled
        back = "q: quit" if self.standalone else "escape: back"
        leave = back if over else "escape: cancel"
        self.chart.border_title = f"sweep · {self.status} · {leave}"

    def action_leave(self) -> None:
        """Cancel the sweep (its run's process is killed) and go back; alone (`fetchviz
        sweep`), the chart stays, with what was measured, until q."""
        if not self.done and not self.cancelled:
            self.cancelled = True
            self.workers.cancel_group(self, "sweep")
            if self.standalone:
                self.status = f"cancelled after {sum(not p.estimated for p in self.points)} runs"
                self._show_status()
                return
        self.workers.cancel_group(self, "sweep")
        if not self.standalone:
            self.dismiss(self.points)

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "sweep")  # however the screen goes


class SweepApp(App[int]):
    """`fetchviz sweep` at a terminal: the sweep's screen alone; leaving it quits."""

    TITLE = "fetchviz sweep"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, screen: SweepScreen) -> None:
        super().__init__()
        self.sweep_screen = screen
        screen.standalone = True  # its escape cancels and stays: q quits
        self._undo_signals: list[Callable[[], None]] = []

    def on_mount(self) -> None:
        self.push_screen(self.sweep_screen, callback=lambda _points: self.exit(return_code=0))
        # As the dashboard does: SIGTERM, SIGHUP, a SIGINT from outside quit with the runs
        # killed and the terminal put back.
        self._undo_signals = [
            tuning.on_signal(signum, functools.partial(self.exit, return_code=128 + signum))
            for name in ("SIGTERM", "SIGHUP", "SIGINT")
            if (signum := getattr(signal, name, None)) is not None
        ]

    def on_unmount(self) -> None:
        for undo in self._undo_signals:
            undo()
