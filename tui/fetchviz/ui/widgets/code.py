"""The code that runs, highlighted; in the tour, with what is new since the step before marked."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.containers import ScrollableContainer
from textual.widgets import Static

from fetchviz.core.catalog import Strategy
from fetchviz.ui.widgets.layout import set_titles

if TYPE_CHECKING:
    from rich.syntax import Syntax


def highlighted(code: str, word_wrap: bool = True) -> Syntax:
    """Python, highlighted as the code panel shows it. rich.syntax (Pygments) is imported here,
    when the panel first shows: it took 18 ms of the dashboard's launch (python -X importtime),
    and the panel starts hidden."""
    from rich.syntax import Syntax

    return Syntax(
        code, "python", theme="ansi_dark", background_color="default", word_wrap=word_wrap
    )


MARK = "▌ "  # the gutter of a changed line; every other line gets as many spaces
MARK_STYLE = Style(color="green", bold=True)
CHANGED_STYLE = Style(bgcolor="#1f3a26")  # a dark green band, legible on a projector too


def marked_code(source: str, changed: Collection[int]) -> Text:
    """The code highlighted as the code panel shows it, with a gutter mark and a band on
    the changed lines; as wide as its longest line, so the band is one block."""
    syntax = highlighted(source)
    lines = list(syntax.highlight(source).split("\n", allow_blank=True))
    if lines and not lines[-1].plain:  # highlight() ends the code with a newline
        lines = lines[:-1]
    width = max((line.cell_len for line in lines), default=0)
    out = Text(no_wrap=True, overflow="ignore", end="")
    for number, line in enumerate(lines):
        if number:
            out.append("\n")
        if number in changed:
            line = line.copy()
            line.pad_right(width - line.cell_len)
            line.stylize(CHANGED_STYLE)
            out.append(MARK, MARK_STYLE)
        else:
            out.append(" " * len(MARK))
        out.append_text(line)
    return out


class CodePanel(Static):
    """The selected strategy's source, read from the function that runs."""

    def _show_line(self, line: int) -> None:
        """The tour's first new line in view, a line of context above it: at 80×24 the
        panel shows 6 of a strategy's 10-30 lines, and taskgroup's opened on its set-up, its
        TaskGroup (lines 8-12) below the fold."""
        frame = self.parent
        if isinstance(frame, ScrollableContainer) and line >= frame.size.height - 1:
            frame.scroll_to(y=line - 1, animate=False)

    _showing: tuple[Strategy, str | None, frozenset[int] | None, str] | None = None

    def show(
        self,
        strategy: Strategy,
        source: str | None = None,
        changed: frozenset[int] | None = None,
        since: str = "",
    ) -> None:
        """`source`: the code as it ran, where it is known (a recording's), else today's.
        `changed`: the tour's marks, the lines new `since` the step before (None: no gutter)."""
        if (strategy, source, changed, since) == self._showing:
            return
        shown_before = self._showing
        self._showing = (strategy, source, changed, since)
        if self.parent is not None and (shown_before is None or shown_before[0] != strategy):
            # Another strategy's code opens at its top-left: the last one's scroll carried
            # over, opening gather-blocking's on its helper with its first column gone.
            self.parent.scroll_to(0, 0, animate=False)  # type: ignore[attr-defined]
        title = f"the code that runs: {strategy.id}"
        if changed:
            title += f" · ▌ new since {since}"
        if self.parent is not None:  # the scrolling frame around it carries the border
            set_titles(self.parent, title)  # type: ignore[arg-type]
        code = source if source is not None else strategy.source()
        if changed is not None:
            self.update(marked_code(code, changed))
            # The first new line of the body (the def's line is new in every step: its name).
            body = [line for line in changed if line > 0]
            if body:
                self.call_after_refresh(self._show_line, min(body))
            return
        # Not wrapped (a wrapped line loses its indent, and Python its meaning): on a narrow
        # screen the panel scrolls sideways.
        self.update(highlighted(code, word_wrap=False))
