"""The command line: a command word picks the module that reads its options and does its work
(no word: the dashboard); outcomes become exit codes, 0 done, 2 a bad command line or input
file, 1 anything else, 130 Ctrl+C, always with a one-line reason."""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import signal
import sys
import threading
from typing import NoReturn, Protocol, cast

from fetchviz.cli import run
from fetchviz.cli.args import UsageError, one_line
from fetchviz.core.actions import KeymapError

__all__ = ["COMMANDS", "UsageError", "command", "entry", "main", "parse"]


class Command(Protocol):
    """A command's module: `parse` raises UsageError; `run` returns the exit code."""

    def parse(self, argv: list[str]) -> argparse.Namespace: ...

    def run(self, args: argparse.Namespace) -> int: ...


# The command words, each the module in fetchviz.cli that does it. A module is imported only
# when its word is given: the dashboard does not wait for what export or trace need.
COMMANDS = ("serve", "replay", "export", "sweep", "tour", "web", "trace", "keys")


def command(name: str) -> Command:
    return cast(Command, importlib.import_module(f"fetchviz.cli.{name}"))


def _command(argv: list[str]) -> tuple[str, Command, list[str]]:
    """The command word, its module and its options; no word is the dashboard's."""
    if argv[:1] and argv[0] in COMMANDS:
        return argv[0], command(argv[0]), argv[1:]
    return "run", run, argv


def _bad_input(exc: Exception) -> bool:
    """A file given that cannot be used (a recording, a keymap): exit 2. The recording's error
    is looked up only where its module is loaded already: nothing else can raise it."""
    recording = sys.modules.get("fetchviz.records.recording")
    return isinstance(exc, KeymapError) or (
        recording is not None and isinstance(exc, recording.RecordingError)
    )


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line, checked; raises UsageError saying what is wrong."""
    name, command, rest = _command(argv)
    args = command.parse(rest)
    args.command = name
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    name, command, _ = _command(argv)
    prog = "fetchviz" if command is run else f"fetchviz {name}"
    try:
        return command.run(parse(argv))
    except UsageError as exc:
        said = f"{exc} (see {prog} --help)"
        word = argv[0] if argv and command is run and not argv[0].startswith("-") else None
        if word is not None and not os.path.exists(word):  # a command word mistyped
            close = difflib.get_close_matches(word, COMMANDS, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            said = f"no command {word!r}: {hint}the commands are {', '.join(COMMANDS)}"
        print(one_line(f"{prog}: error: {said}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not _bad_input(exc):
            raise
        print(one_line(f"{prog}: {exc}"), file=sys.stderr)
        return 2


def entry() -> NoReturn:
    """The console script: exit promptly, waiting for no thread still going.

    Runs and the server are killed by now, not drained; what threads are left only wait to
    reap them (the kernel may take a second to close 10,000 sockets), and init reaps them as
    well. Everything that matters (the output) is done by now.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Its reader left early (`fetchviz keys | head -3`): stop, as a program killed by
        # SIGPIPE would, with nothing more written (Python's exit would flush stdout again).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 128 + signal.SIGPIPE
    sys.stderr.flush()
    if any(t is not threading.main_thread() and t.is_alive() for t in threading.enumerate()):
        os._exit(code)
    sys.exit(code)
