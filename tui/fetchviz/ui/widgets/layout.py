"""The panels' frames: rows and columns of them, and the one text widget that repaints only
when its text changed."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Static


def set_titles(widget: Widget, title: str, subtitle: str | None = None) -> None:
    """Set a border's titles only when they change: each assignment repaints the widget."""
    if widget.border_title != title:
        widget.border_title = title
    if subtitle is not None and widget.border_subtitle != subtitle:
        widget.border_subtitle = subtitle


class Band(Horizontal):
    """A row of panels."""


class Column(Vertical):
    """A column of panels."""


class Steady(Static):
    """A Static that repaints only when what it shows has changed: frames cost CPU."""

    _shown: object = None

    def set_content(self, content: Text | str) -> None:
        if content != self._shown:
            self._shown = content
            # Its size is set by the CSS, not by what it shows: a layout pass would redo
            # the whole screen, every frame.
            self.update(content, layout=False)
