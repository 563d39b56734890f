"""A window over a screen: a framed, scrolling panel in the middle. Under it no key of the
screen acts (the App's quitting aside): Textual gives a modal screen every key."""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Static


class Window(ModalScreen[None]):
    """A title, what to show, and the keys that close it."""

    DEFAULT_CSS = """
    Window { align: center middle; }
    Window > VerticalScroll {
        width: 90%; max-width: 100; height: auto; max-height: 90%;
        border: round $accent; padding: 0 1; background: $surface;
        border-subtitle-color: $text-muted;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,q", "dismiss", "Close")]

    def __init__(self, title: str, content: RenderableType, subtitle: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.subtitle_text = subtitle
        self.content = content

    def compose(self) -> ComposeResult:
        with VerticalScroll() as frame:
            frame.border_title = self.title_text
            frame.border_subtitle = self.subtitle_text
            yield Static(self.content, markup=False)

    def on_mount(self) -> None:
        self.call_after_refresh(self._say_if_more)
        # Scrolled to its end, nothing more is below: the frame stops saying so.
        self.watch(self.query_one(VerticalScroll), "scroll_y", self._say_if_more, init=False)

    def on_resize(self, event: Resize) -> None:
        self.call_after_refresh(self._say_if_more)

    def _say_if_more(self) -> None:
        """Where the window cannot show it all (the keys at 80×24), its frame says how to see
        the rest: a scroll bar alone is easy to miss on a projector."""
        frame = self.query_one(VerticalScroll)
        more = "↑↓ more" if frame.scroll_y < frame.max_scroll_y else ""
        frame.border_subtitle = " · ".join(part for part in (more, self.subtitle_text) if part)
