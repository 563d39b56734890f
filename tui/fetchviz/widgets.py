"""The dashboard's widgets. They draw a RunState; they never touch the runner."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from fetchviz.model import RunState, TaskRow, TaskState
from fetchviz.strategies import STRATEGIES, Strategy
from fetchviz.timeline import axis, bar, nice_scale


@dataclass(frozen=True, slots=True)
class Columns:
    """Column widths for a table width; the thread column gives way first, then the result."""

    result: int
    thread: int
    timeline: int

    FIXED = 6 + 9 + 8 + 8  # index, state, start, took (each with its spacing)

    @classmethod
    def fit(cls, width: int) -> Columns:
        spare = width - cls.FIXED
        thread = 10 if spare >= 10 + 13 + 24 else 0
        result = max(6, min(22, (spare - thread) // 3))
        return cls(result, thread, max(0, spare - thread - result - 1))


def short_thread(name: str | None) -> str:
    """'runner-12' → 'runner': the run's own thread; pool threads keep their name."""
    if name is None:
        return ""
    return "runner" if name.startswith("runner-") else name


def fmt_seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


class TaskTable(ScrollView, can_focus=True):
    """One row per task, drawn line by line: only the visible rows cost anything."""

    COMPONENT_CLASSES = {
        "tasktable--queued",
        "tasktable--started",
        "tasktable--finished",
        "tasktable--failed",
        "tasktable--wait",
        "tasktable--dim",
    }

    def __init__(self, clock: Callable[[], float] = time.perf_counter, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.run: RunState | None = None

    def show(self, run: RunState | None) -> None:
        self.run = run
        self.virtual_size = Size(self.size.width, len(run.tasks) if run else 0)
        self.scroll_home(animate=False)
        self.refresh()

    def scale(self) -> float:
        return nice_scale(self.run.elapsed(self.clock()) if self.run else 0.0)

    def render_line(self, y: int) -> Strip:
        run = self.run
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        if run is None or index >= len(run.tasks):
            return Strip.blank(width, self.rich_style)
        segments = self._row(run, run.tasks[index], Columns.fit(width), self.clock())
        return Strip(segments).adjust_cell_length(width, self.rich_style)

    def _row(self, run: RunState, row: TaskRow, cols: Columns, now: float) -> list[Segment]:
        state = row.state
        style = self.get_component_rich_style(f"tasktable--{state.name.lower()}")
        dim = self.get_component_rich_style("tasktable--dim")
        took = row.duration
        if took is None and row.started is not None and not run.done:
            took = now - row.started
        if state is TaskState.FAILED:
            result = row.error or "failed"
        elif row.status is not None:
            result = f"{row.status} · {row.nbytes} B"
        else:
            result = ""
        segments = [
            Segment(f"{row.index:>5} ", dim),
            Segment(f"{state.value:<9}", style),
            Segment(f"{fmt_seconds(run.offset(row.started)):>7} "),
            Segment(f"{fmt_seconds(took):>7} "),
            Segment(f" {result[: cols.result - 1]:<{cols.result - 1}}", style),
        ]
        if cols.thread:
            segments.append(Segment(f"{short_thread(row.thread)[:9]:<10}", dim))
        if cols.timeline:
            end = row.finished if row.finished is not None else (run.end or now)
            lead, wait, req = bar(
                run.offset(row.queued),
                run.offset(row.started),
                run.offset(end),
                self.scale(),
                cols.timeline,
            )
            segments += [
                Segment(" " + lead),
                Segment(wait, self.get_component_rich_style("tasktable--wait")),
                Segment(req, style),
            ]
        return segments


class TableHeader(Static):
    """Column titles, and the timeline's axis with its scale."""

    def show(self, width: int, scale: float) -> None:
        cols = Columns.fit(width)
        text = f"{'#':>5} {'state':<9}{'start':>7} {'took':>7}  {'result':<{cols.result - 1}}"
        if cols.thread:
            text += f"{'thread':<10}"
        if cols.timeline:
            text += " " + axis(scale, cols.timeline)
        self.update(Text(text, style="bold"))


class StrategyList(Static):
    """The six strategies with their keys; the selected one highlighted."""

    def show(self, selected: Strategy, running: str | None) -> None:
        text = Text()
        for strategy in STRATEGIES:
            mark = "▶" if strategy.id == running else " "
            line = f" {strategy.key} {mark} {strategy.id:<17}"
            style = "reverse bold" if strategy is selected else ""
            text.append(line, style=style)
            text.append("\n")
        text.rstrip()
        self.update(text)


def progress_bar(done: int, total: int, width: int = 20) -> str:
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled)


def fmt_lag(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


class Summary(Static):
    """Progress, elapsed time ticking beside the sync baseline, and the loop's lag."""

    def show(
        self,
        run: RunState | None,
        now: float,
        baseline: tuple[float, bool] | None,
        comparison: str,
        lag: tuple[float, float] | None,
        target: str,
    ) -> None:
        text = Text()
        if run is None:
            text.append("starting the latency server…", style="italic")
            self.update(text)
            return
        total = len(run.tasks)
        if run.error:
            status, style = f"run failed: {run.error}", "bold red"
        elif run.cancelled:
            status, style = "cancelled", "bold yellow"
        elif run.done:
            status, style = "done", "bold green"
        else:
            status, style = "running", "bold yellow"
        text.append(f"{run.strategy} ", style="bold")
        text.append(status, style=style)
        text.append(f"\n{progress_bar(run.finished_count, total)} {run.finished_count}/{total}")
        text.append(f"  ok {run.ok}", style="green")
        if run.failed:
            text.append(f"  failed {run.failed}", style="bold red")
        text.append("\nelapsed  ")
        text.append(f"{run.elapsed(now):7.2f} s", style="bold")
        text.append("\nsync     ")
        if baseline is None:
            text.append("   —      press b to measure", style="dim")
        else:
            elapsed, measured = baseline
            text.append(f"{elapsed:7.2f} s ", style="bold")
            text.append("measured" if measured else "estimate (b measures)", style="dim")
        text.append("\n")
        text.append(comparison or " ", style="bold cyan")
        if lag is None:
            text.append("\nloop lag  —  (no event loop)", style="dim")
        else:
            current, worst = lag
            text.append("\nloop lag ")
            blocked = current > 0.1 or (run.done and worst > 0.1)
            text.append(
                f"{fmt_lag(current)} (worst {fmt_lag(worst)})",
                style="bold red" if blocked else "",
            )
            if blocked:
                text.append("  loop blocked", style="bold red")
        text.append(f"\n{target}", style="dim")
        self.update(text)
