"""What a row or a run cannot say in its cells: every reason whole, in a window of its own."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Static

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
        f"thread   {row.thread or '—'}",
        f"url      {run.url(row.index) or '—'}",
    ]
    if row.error:
        lines += ["", "why it failed:", row.error]
    return "\n".join(lines)


def failure_summary(run: RunState) -> str:
    """Why a run, and its tasks, failed: each reason whole, with how many and which rows."""
    lines = [f"{run.strategy} (run {run.run_id}): {run.ok} ok, {run.failed} failed"]
    if run.error:
        lines += ["", "the run itself stopped:", run.error]
    reasons = Counter(row.error for row in run.tasks if row.error)
    for reason, count in reasons.most_common():
        rows = [str(row.index) for row in run.tasks if row.error == reason][:8]
        more = " …" if count > len(rows) else ""
        lines += ["", f"{count} × {reason}", f"   rows {', '.join(rows)}{more}"]
    if run.unreported:
        rows = [str(row.index) for row in run.tasks if row.finished is None][:8]
        more = " …" if run.unreported > len(rows) else ""
        lines += [
            "",
            f"{run.unreported} never reported: the strategy returned without an answer for them",
            f"   rows {', '.join(rows)}{more}",
        ]
    if run.cut_short:
        cut = [row.index for row in run.tasks if row.cancelled]
        shown = ", ".join(map(str, cut[:8])) + (" …" if len(cut) > 8 else "")
        lines += ["", run.cut_short, f"   rows {shown}"]
    never = sum(row.started is None for row in run.tasks) if run.cancelled else 0
    if never:
        lines += ["", f"{never} never started: the run was cancelled first"]
    if not run.error and not reasons and not run.unreported and not run.cut_short and not never:
        lines += ["", "nothing failed"]
    return "\n".join(lines)


class Details(Window):
    """A task's or a run's reasons, whole; f and space close it too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,f,space", "dismiss", "Close"),
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
