"""The sweep on screen: elapsed against N on log axes, a line per strategy, drawn as the runs
end, with its numbers in a table; escape cancels it and goes back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.widgets import DataTable, Footer, Static

from fetchviz.core.actions import SWEEP
from fetchviz.core.catalog import Strategy
from fetchviz.core.config import Config
from fetchviz.core.source import EventSource
from fetchviz.runs.server import EmbeddedServer
from fetchviz.runs.sweep import (
    DEFAULT_SIZES,
    RUN_SEQUENTIAL_UP_TO,
    Point,
    fmt_point,
    plan,
    sweep,
    target_of,
)
from fetchviz.ui.keys import bindings
from fetchviz.ui.screens.plain import PlainScreen
from fetchviz.ui.widgets.chart import KEY, SweepChart, colour


class SweepScreen(PlainScreen[list[Point]], inherit_bindings=False):
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
    SweepScreen > DataTable { height: auto; max-height: 60%; }
    """
    MODE: ClassVar[str] = SWEEP
    BINDINGS: ClassVar[list[BindingType]] = bindings(SWEEP)

    def __init__(
        self,
        config: Config,
        strategies: Sequence[Strategy],
        sizes: Sequence[int] = DEFAULT_SIZES,
        run_sequential_up_to: int | None = RUN_SEQUENTIAL_UP_TO,
        server: EmbeddedServer | None = None,
        source: Callable[[], EventSource] | None = None,
        recorded: Sequence[Point] | None = None,
    ) -> None:
        """`recorded`: a replay's points (records.playback.recorded_sweep), drawn at once; no
        run is made."""
        super().__init__()
        self.recorded = recorded
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
        self.stopped = False  # it could not go on (the latency server would not start again)
        self.status = "starting…"
        steps = plan(self.strategies, self.sizes, run_sequential_up_to)
        self.runs = sum(not step.estimated for step in steps)
        self.estimates = len(steps) - self.runs
        if recorded is not None:
            self.estimates = sum(point.estimated for point in recorded)
            self.runs = len(recorded) - self.estimates
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
        yield Footer(compact=True, show_command_palette=False)  # ? says ctrl+p

    def on_mount(self) -> None:
        self.table.add_column("strategy", key="strategy")
        for n in self.sizes:
            self.table.add_column(Text(f"{n:,}", justify="right"), key=str(n))
        for index, strategy in enumerate(self.strategies):
            r, g, b = colour(index)
            label = Text.assemble((f"━━ {strategy.id}", f"bold rgb({r},{g},{b})"))
            self.table.add_row(label, *([""] * len(self.sizes)), key=strategy.id)
        self.chart.border_subtitle = f"elapsed (log) against N (log) · {target_of(self.config)}"
        if self.recorded is not None:
            for point in self.recorded:
                self.points.append(point)
                self._add(point)
            self.done = True
            self.status = f"as recorded: {self.runs} run{'s' if self.runs != 1 else ''}"
            if self.estimates:
                self.status += f", {self.estimates} estimated"
        self._show_status()
        if self.recorded is None:
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
            self.status, self.stopped = f"stopped: {exc}", True
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
        over = self.done or self.cancelled or self.stopped
        back = "q: quit" if self.standalone else "escape: back"
        leave = back if over else "escape: cancel"
        title = f"sweep · {self.status} · {leave}"
        # The footer offers the key too: where the frame is too narrow for both (80 columns,
        # a long strategy's name), the status is kept whole and the key left to the footer.
        room = self.chart.size.width - 6  # the corners, and a dash and a space each side
        self.chart.border_title = (
            title if len(title) <= room or room <= 0 else title.rsplit(" · ", 1)[0]
        )
        self.refresh_bindings()  # the footer offers escape only while it does something

    def on_resize(self) -> None:
        self.call_after_refresh(self._show_status)  # fitted to the frame's new width

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Alone (`fetchviz sweep`), once over, escape has nothing left to do: q quits."""
        over = self.done or self.cancelled or self.stopped
        return not (action == "leave" and self.standalone and over)

    def action_leave(self) -> None:
        """Cancel the sweep (its run's process is killed): the chart stays, with what was
        measured, until escape again goes back to the dashboard (alone, `fetchviz sweep`:
        until q)."""
        if not self.done and not self.cancelled and not self.stopped:  # keep why it stopped
            self.cancelled = True
            self.workers.cancel_group(self, "sweep")
            runs = sum(not point.estimated for point in self.points)
            self.status = f"cancelled after {runs} run{'s' if runs != 1 else ''}"
            self._show_status()
            return
        self.workers.cancel_group(self, "sweep")
        if not self.standalone:
            self.dismiss(self.points)

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "sweep")  # however the screen goes
