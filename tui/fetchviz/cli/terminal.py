"""Whether there is a terminal to draw a dashboard on."""

from __future__ import annotations

import os
import sys

from fetchviz.cli.args import UsageError


def need_one(headless: bool = True) -> None:
    """Textual reads keys from stdin and draws on stderr: without a terminal on both, it drew
    escape codes into a file and waited for a key forever (`fetchviz < /dev/null > out`).
    Under `fetchviz web` each tab's dashboard has a driver of its own, and needs none.
    `headless`: the command can run without a screen (--headless), and the message says so."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return
    if all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stderr)):
        return
    instead = "add --headless, or " if headless else ""
    raise UsageError(
        "no terminal to draw the dashboard in (its input or its error output is not one): "
        f"{instead}run it in a terminal"
    )
