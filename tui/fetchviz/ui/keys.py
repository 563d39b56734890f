"""The table of actions made into Textual's bindings, and the keys panel's lines."""

from __future__ import annotations

from textual.binding import Binding, BindingType
from textual.screen import Screen

from fetchviz.core.actions import EVERY_MODE, Action, of_mode


def binding(action: Action, priority: bool = False) -> Binding:
    """A binding with the action's id, so that a user's keymap (App.set_keymap) moves it."""
    return Binding(
        action.keys,
        action.method,
        action.label,
        show=action.footer,
        key_display=action.display,
        priority=priority or action.priority,
        id=action.id,
    )


def bindings(mode: str, *, only_global: bool = False) -> list[BindingType]:
    """A mode's own bindings (those of every mode are the App's), and a screen's own (tab
    moves the focus); `only_global`: the App's."""
    if only_global:  # not priority (ctrl+c aside): q is a letter to type in the palette
        return [binding(action) for action in of_mode(mode) if action.modes == EVERY_MODE]
    # A mode's keys go before the focused widget's: a keymap may give one of them a key the
    # rows scroll with (pagedown, a clicker's), and the user's choice wins.
    own = [binding(action, True) for action in of_mode(mode) if action.modes != EVERY_MODE]
    return [*Screen.BINDINGS, *own]
