"""The keys of the mode on screen, in a window over it: from the table of actions, with the
user's keymap applied."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual.binding import Binding, BindingType

from fetchviz.core.actions import DISPLAY, Action, of_mode
from fetchviz.ui.dialogs.window import Window


def shown_keys(action: Action) -> str:
    return " ".join(DISPLAY.get(key, key) for key in action.key_list)


class KeysPanel(Window):
    """Every key of a mode and what it does; escape or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,enter,q", "dismiss", "Close"),
    ]

    def __init__(self, mode: str, actions: tuple[Action, ...]) -> None:
        self.mode = mode
        self.rows = [(shown_keys(action), action.help) for action in of_mode(mode, actions)]
        table = Table(box=None, show_header=False, padding=(0, 1), expand=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, what in self.rows:
            table.add_row(keys, what)
        super().__init__(f"keys · {mode}", table, "escape closes · ctrl+p every action")
