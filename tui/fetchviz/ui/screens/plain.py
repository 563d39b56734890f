"""The base of every mode's screen: what they all do alike."""

from __future__ import annotations

import time
from typing import TypeVar

from textual.notifications import SeverityLevel
from textual.screen import Screen

ResultType = TypeVar("ResultType")


class PlainScreen(Screen[ResultType]):
    """A screen whose notifications are plain text. They carry commands and names (`pip
    install 'fetchviz[clients]'`, a user's file, a server's error), whose brackets Textual's
    markup would take for tags and drop."""

    _said: tuple[str, float] | None = None  # the last message, and until when it shows

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        # Said once while it shows: keys a replay does not take, pressed in a row, stacked
        # the same toast three deep over the board at 80×24.
        now = time.monotonic()
        shown_for = timeout if timeout is not None else self.app.NOTIFICATION_TIMEOUT
        if self._said is not None and self._said[0] == message and now < self._said[1]:
            return
        self._said = (message, now + shown_for)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
