"""The strategies with their keys and their times: the comparison at a glance."""

from __future__ import annotations

from rich.text import Text

from fetchviz.core.baseline import rank
from fetchviz.core.catalog import Strategy
from fetchviz.core.model import RunState, fmt_lag, loop_blocked
from fetchviz.core.timeline import meter
from fetchviz.ui.widgets.layout import Steady


class StrategyBoard(Steady):
    """The strategies with their keys and, once run, their time: the comparison at a glance.

    Each line: key, name, elapsed, ratio to the sync baseline, a bar on a scale shared by all
    lines (up to the slowest run, or the baseline where it is slower), and the worst loop lag
    where there is room. Best first in compare mode.
    """

    _showing: object = None  # what the lines were made from
    shown_part = ""  # "4–9 of 11" when the board has fewer lines than strategies, else ""

    def __init__(self, strategies: tuple[Strategy, ...], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.strategies = strategies  # the built-ins, then the user's own

    def show(
        self,
        selected: Strategy,
        running: str | None,
        results: dict[str, RunState],
        baseline: float | None,
        best_first: bool,
        estimated: bool = False,
    ) -> None:
        """`estimated`: the baseline is the sync estimate, not a run: the ratios say so (~)."""
        width = max(30, self.content_size.width or 40)
        lines = self.content_size.height or len(self.strategies)
        shown = (
            selected.id,
            running,
            [(id(run), run.end, run.loop_lag_max, run.ok) for run in results.values()],
            baseline,
            best_first,
            estimated,
            width,
            lines,
        )
        if shown == self._showing:  # called every frame; it changes a few times a run
            return
        self._showing = shown
        order = list(self.strategies)
        if best_first:  # runs that failed after those that did not, strategies not run last
            order.sort(
                key=lambda s: (
                    s.id not in results,
                    rank(results[s.id]) if s.id in results else (0, 0.0),
                )
            )
        # A short screen's board (the tour at 80×24 keeps its rows): the lines around the
        # strategy running, or the one picked; a ranking from its top.
        focus = running or (None if best_first else selected.id)
        at = next((i for i, s in enumerate(order) if s.id == focus), 0)
        first = max(0, min(at - (lines - 1) // 2, len(order) - lines))
        self.shown_part = (
            f"{first + 1}–{first + lines} of {len(order)}" if lines < len(order) else ""
        )
        order = order[first : first + lines]
        comparable = [r for r in results.values() if r.comparable]
        # The baseline is on the scale before sync has run: a 0.5 s aiohttp run drew a full bar
        # beside "~9.9×" (faster than sync's estimate), as sync's own 5 s run later did.
        scale = max(max((r.elapsed(0) for r in comparable), default=0.0), baseline or 0.0)
        show_lag = width >= 62
        show_cpu = width >= 76  # " cpu  0.21s": what the run's process spent
        bar_width = max(3, width - 34 - (13 if show_lag else 0) - (11 if show_cpu else 0))
        text = Text(no_wrap=True, overflow="ellipsis")
        for strategy in order:
            run = results.get(strategy.id)
            is_running = strategy.id == running
            line = Text()
            line.append(
                f"{'▶' if is_running else ' '}{strategy.key} ",
                style="bold yellow" if is_running else "",
            )
            name = strategy.id if len(strategy.id) <= 16 else strategy.id[:15] + "…"
            line.append(f"{name:<16}", style="reverse bold" if strategy.id == selected.id else "")
            line.append(" ")
            if run is None and not strategy.installed:
                line.append("not installed", style="dim italic")
            elif run is None:
                line.append("running…" if is_running else "—", style="dim")
            elif not run.comparable:  # no ratio, no bar: its time says nothing of the strategy
                why = "run failed" if run.error else "cancelled" if run.cancelled else ""
                # Not every task answered (none ok, cut short, never reported): as a count.
                why = why or f"{run.ok}/{len(run.tasks)} ok"
                line.append(f"{run.elapsed(0):6.2f}s {why} ✗", style="red")
            else:
                elapsed = run.elapsed(0)
                blocked = loop_blocked(run.loop_lag_max, elapsed)
                ratio = (
                    ratio_text(baseline / elapsed, estimated) if baseline and elapsed else "    "
                )
                line.append(f"{elapsed:6.2f}s {ratio} ")
                # Partly failed: said beside its ratio, where the lag would be, or in the bar's
                # room on a narrow board.
                # Not every task answered (failed, never reported, cut short): said, as a count.
                partly = f"{run.ok}/{len(run.tasks)}" if run.ok < len(run.tasks) else ""
                if partly and show_lag:
                    partly = f" {partly} ok"
                # On a narrow board "8/12" takes the bar's room: the count is worth more.
                room = bar_width if show_lag or not partly else bar_width - len(partly) - 1
                if room > 0 or not partly:
                    line.append(
                        meter(elapsed / scale if scale else 0, max(1, room)),
                        style="red" if blocked else ("yellow" if partly else "green"),
                    )
                if partly:
                    line.append(partly, style="bold yellow")
                elif show_lag and run.loop_lag_max is not None:
                    line.append(
                        f" lag {fmt_lag(run.loop_lag_max):>8}", style="red" if blocked else "dim"
                    )
                elif show_lag and show_cpu:
                    line.append(" " * 13)
                if show_cpu and not partly and run.cpu is not None:
                    line.append(f" cpu {run.cpu:5.2f}s", style="dim")
            text.append_text(line)
            text.append("\n")
        self.set_content(text)


def ratio_text(ratio: float, estimated: bool) -> str:
    """Five columns: `21.5×`, or against an estimate `~21×` / `~4.8×` (the run panel says
    `21.5× faster` of the same estimate; the board showed nothing)."""
    if not estimated:
        return f"{ratio:4.1f}×"
    return f"~{ratio:.0f}×".rjust(5) if ratio >= 9.95 else f"~{ratio:.1f}×"
