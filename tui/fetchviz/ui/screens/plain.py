"""The base of every mode's screen: what they all do alike."""

from __future__ import annotations

from typing import TypeVar

from textual.notifications import SeverityLevel
from textual.screen import Screen

ResultType = TypeVar("ResultType")


class PlainScreen(Screen[ResultType]):
    """A screen whose notifications are plain text. They carry commands and names (`pip
    install 'fetchviz[clients]'`, a user's file, a server's error), whose brackets Textual's
    markup would take for tags and drop."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
