"""What a row or a run cannot say in its cells: every reason whole, in a window of its own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Static

from fetchviz.core.events import PHASES
from fetchviz.core.model import RunState, TaskRow
from fetchviz.ui.dialogs.window import Window


def fmt_offset(run: RunState, stamp: float | None) -> str:
    offset = run.offset(stamp)
    return "—" if offset is None else f"{offset:.4f} s"


def task_details(run: RunState, row: TaskRow, noun: str = "task") -> str:
    """Everything known of one task (`noun`: what a row is, a traced program's being a
    request), for the window a click on its row opens."""
    lines = [
        f"{noun} {row.index} of {run.strategy} (run {run.run_id}): {row.shown_state(run.done)}",
        f"queued   {fmt_offset(run, row.queued)}",
        f"started  {fmt_offset(run, row.started)}",
        f"finished {fmt_offset(run, row.finished)}",
        f"took     {'—' if row.duration is None else f'{row.duration:.4f} s'}",
        f"status   {'—' if row.status is None else row.status}",
        f"bytes    {'—' if row.nbytes is None else row.nbytes}",
        *phase_lines(row),
        f"thread   {row.thread or '—'}",
        f"url      {run.url(row.index) or '—'}",
    ]
    if row.error:
        lines += ["", "why it failed:", row.error]
    return "\n".join(lines)


REUSED: dict[bool | None, str] = {
    True: "yes: an open connection served it",
    False: "no: it opened a connection",
    None: "— (not told)",
}


def phase_lines(row: TaskRow) -> list[str]:
    """Its phases, one a line (— where the client did not tell one), and its connection."""
    if row.phases is None:
        return ["phases   — (its client tells none)"]
    lines = []
    for i, (name, seconds) in enumerate(zip(PHASES, row.phases, strict=False)):
        label = "phases   " if i == 0 else " " * 9
        lines.append(
            f"{label}{name.replace('_', ' '):<11}{'—' if seconds is None else f'{seconds:.4f} s'}"
        )
    lines.append(f"reused   {REUSED[row.reused]}")
    return lines


def row_ranges(indices: list[int], most: int = 6) -> str:
    """`rows 0–168, 171, 200–999` (`row 7`): rows in runs of consecutive numbers, the first
    `most` of them, then how many rows more (eight numbers and `…` said little of 800 rows)."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    shown = [
        f"{a}" if a == b else f"{a}, {b}" if b == a + 1 else f"{a}–{b}" for a, b in runs[:most]
    ]
    left = sum(b - a + 1 for a, b in runs[most:])
    word = "row" if len(indices) == 1 else "rows"  # "rows 0" for one
    return f"{word} " + ", ".join(shown) + (f" and {left:,} more" if left else "")


def failure_summary(run: RunState) -> str:
    """Why a run, and its tasks, failed: each reason whole, with how many and which rows."""
    lines = [f"{run.strategy} (run {run.run_id}): {run.ok} ok, {run.failed} failed"]
    if run.error:
        lines += ["", "the run itself stopped:", run.error]
    reasons = Counter(row.error for row in run.tasks if row.error)
    for reason, count in reasons.most_common():
        rows = row_ranges([row.index for row in run.tasks if row.error == reason])
        lines += ["", f"{count} × {reason}", f"   {rows}"]
    if run.unreported:
        rows = row_ranges([row.index for row in run.tasks if row.finished is None])
        lines += [
            "",
            f"{run.unreported} never reported: the strategy returned without an answer for them",
            f"   {rows}",
        ]
    if run.cut_short:
        rows = row_ranges([row.index for row in run.tasks if row.cancelled])
        lines += ["", run.cut_short, f"   {rows}"]
    never = sum(row.started is None for row in run.tasks) if run.cancelled else 0
    if never:
        lines += ["", f"{never} never started: the run was cancelled first"]
    if not run.error and not reasons and not run.unreported and not run.cut_short and not never:
        lines += ["", "nothing failed"]
    return "\n".join(lines)


class Details(Window):
    """A task's or a run's reasons, whole; f and space close it too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q,f,space", "dismiss", "Close"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__(title, text)
        self.text = text


class LiveDetails(Details):
    """Details that follow what they describe: drawn again every second while `live()`, and
    once more when it stops being so (the end as it was)."""

    def __init__(self, title: str, text: Callable[[], str], live: Callable[[], bool]) -> None:
        super().__init__(title, text())
        self._text, self._live = text, live

    def on_mount(self) -> None:
        self._timer = self.set_interval(1.0, self._redraw)

    def _redraw(self) -> None:
        if not self._live():
            self._timer.stop()
        self.text = self._text()
        self.query_one(Static).update(self.text)
