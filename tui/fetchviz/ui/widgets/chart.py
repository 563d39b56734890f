"""The sweep's chart: elapsed against N on log axes, a line per strategy, in colours that
colour-blind eyes tell apart."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from textual.app import RenderResult
from textual_plotext import PlotextPlot

from fetchviz.runs.sweep import ESTIMATED, INCOMPLETE, Point

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
