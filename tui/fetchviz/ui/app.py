"""The App: what every mode shares, and nothing of any mode's own.

It keeps the theme, the keymap, the process-wide signals, the event source (opened once, its
batches on one asyncio.Queue that the board screens consume), the palette made from the table
of actions, and quitting. Each mode is a screen of its own, pushed first, that owns its keys.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from fetchviz.core.actions import ACTIONS, DASHBOARD, EVERY_MODE, Action, of_mode
from fetchviz.core.session import Session
from fetchviz.core.source import Batch, Feed
from fetchviz.runs import tuning
from fetchviz.runs.server import EmbeddedServer
from fetchviz.ui.keys import bindings
from fetchviz.ui.themes import HIGH_CONTRAST

HANG_UP_GRACE = 3.0  # s: a closed terminal's teardown, then the process ends regardless

ScreenMaker = Callable[[], Screen]  # type: ignore[type-arg]


class FetchvizApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "fetchviz"
    BINDINGS: ClassVar[list[BindingType]] = bindings(DASHBOARD, only_global=True)

    def __init__(
        self,
        first: ScreenMaker,
        source: Feed | None = None,
        server: EmbeddedServer | None = None,
        theme: str | None = None,
        keymap: Mapping[str, str] | None = None,
        actions: tuple[Action, ...] = ACTIONS,
        session: Session | None = None,
    ) -> None:
        super().__init__()
        self.register_theme(HIGH_CONTRAST)  # the command palette offers it with the others
        self.start_theme = theme
        self.first = first
        self.source = source
        self.server = server
        self.actions = actions  # the table, with the user's keys (the keys panel lists them)
        self.session = session  # what the board screens draw; None for the sweep alone
        self.event_queue: asyncio.Queue[Batch] = asyncio.Queue()
        self.moved = dict(keymap or {})  # action id → the user's keys, as Textual names them
        if keymap:
            self.set_keymap(dict(keymap))
        self._undo_signals: list[Callable[[], None]] = []

    def get_key_display(self, binding: Binding) -> str:
        """A key the user's keymap moved shows the first key it gave, the user's own (a
        clicker's pagedown, given before the defaults, was hidden behind "→", the footer
        showing one binding an action; all of them, "pgdn space →", pushed "q Quit" off 80
        columns)."""
        keys = self.moved.get(binding.id or "")
        if not keys:
            return super().get_key_display(binding)
        return super().get_key_display(Binding(keys.split(",")[0], ""))

    def on_mount(self) -> None:
        if self.start_theme:
            self.theme = self.start_theme
        if self.source is not None:
            self.source.open(self.event_queue.put_nowait)
        # Every way out goes through leave(): the runs are killed and Textual puts the
        # terminal back (out of the alternate screen, mouse tracking off), with the exit code
        # a shell expects. SIGHUP is a closed terminal or SSH session; SIGINT from outside
        # (in the terminal, Ctrl+C is a key).
        self._undo_signals = [
            tuning.on_signal(signum, functools.partial(self.leave, 128 + signum))
            for name in ("SIGTERM", "SIGINT")
            if (signum := getattr(signal, name, None)) is not None
        ]
        if hasattr(signal, "SIGHUP"):
            self._undo_signals.append(tuning.on_signal(signal.SIGHUP, self.hang_up))
        self.push_screen(self.first())  # the mode's screen; leaving the tour replaces it

    def on_ready(self) -> None:
        # The first frame is being drawn: collection, held off since launch, resumes after it.
        self.call_after_refresh(tuning.resume_collection)

    async def action_quit(self) -> None:
        self.leave(0)

    async def action_interrupt(self) -> None:
        self.leave(128 + signal.SIGINT)  # 130: what a shell, and fetchviz headless, say for Ctrl+C

    def action_show_keys(self) -> None:
        from fetchviz.ui.dialogs.keys import KeysPanel

        if not isinstance(self.screen, KeysPanel):
            self.push_screen(KeysPanel(self.mode_below(), self.actions))

    def hang_up(self) -> None:
        """The terminal is gone (SIGHUP): leave as for any signal. Textual's teardown writes
        to that terminal, and once its writer thread had died on the closed terminal, it
        waited on that thread's full queue for ever (seen once, after a tmux session was
        killed): past HANG_UP_GRACE the process ends itself, its runs and server already
        killed by leave()."""
        code = 128 + signal.SIGHUP
        timer = threading.Timer(HANG_UP_GRACE, os._exit, args=(code,))
        timer.daemon = True  # a teardown that finishes ends the process first
        timer.start()
        self.leave(code)

    def leave(self, return_code: int) -> None:
        """Quit promptly: kill the run and the server now, and wait for neither."""
        if self.session is not None:
            self.session.close()  # a run that ends meanwhile starts no other
        if self.source is not None:
            self.source.close()
        if self.server is not None:
            self.server.kill()  # its teardown overlaps ours: quitting stays prompt
        self.exit(return_code=return_code)

    def on_unmount(self) -> None:
        if self.source is not None:
            self.source.close()  # however the app ends, no process of ours outlives it
        for undo in self._undo_signals:
            undo()

    @staticmethod
    def mode_of(screen: Screen) -> str | None:  # type: ignore[type-arg]
        """The mode a screen is of; None for a window over one."""
        mode = getattr(screen, "MODE", None)
        return mode if isinstance(mode, str) else None

    def mode_below(self) -> str:
        """The mode on screen, under any windows over it."""
        modes = (self.mode_of(screen) for screen in reversed(self.screen_stack))
        return next((mode for mode in modes if mode is not None), DASHBOARD)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:  # type: ignore[type-arg]
        """Textual's own (themes, screenshot), then the actions of the mode on screen, from
        the table; over a window, only those of every mode (what is under it waits). The
        keys panel is ours, a window over the screen."""
        for command in super().get_system_commands(screen):
            if command.title != "Keys":
                yield command
        mode = self.mode_of(screen)
        actions = (
            of_mode(mode, self.actions)
            if mode is not None
            else [a for a in self.actions if a.modes == EVERY_MODE]
        )
        for action in actions:
            if action.palette is None:
                continue
            keys = action.display or action.keys
            yield SystemCommand(
                action.palette,
                f"({keys}) {action.help}",
                functools.partial(self._act, screen, action.palette_method or action.method),
            )
        extra: Callable[[], Iterable[SystemCommand]] | None = getattr(screen, "commands", None)
        if extra is not None:
            yield from extra()

    def _act(self, screen: Screen, method: str) -> None:  # type: ignore[type-arg]
        target = self if method in ("quit", "show_keys") else screen
        self.call_later(target.run_action, method)
