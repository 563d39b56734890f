"""What replay and export share: a recording's FILE, read, and their outcomes (a bad file is
bad input, exit 2; one that cannot be written, 1); no server starts, nothing is fetched."""

from __future__ import annotations

import sys
from collections.abc import Callable

from fetchviz.cli.args import Parser, one_line
from fetchviz.records.recording import Recording, RecordingError, read_recording
from fetchviz.runs import tuning


def parser(command: str, description: str, epilog: str | None = None) -> Parser:
    """A command that reads a recording: its FILE first."""
    parser = Parser(prog=f"fetchviz {command}", description=description, epilog=epilog)
    parser.add_argument("file", metavar="FILE", help="a recording (.jsonl or .jsonl.gz)")
    return parser


def load(path: str) -> Recording:
    """The recording, or RecordingError with one line to show (exit 2)."""
    recording = read_recording(path)
    if not recording.runs:
        raise RecordingError(f"{path}: the recording holds no run")
    if len({run.traced for run in recording.runs}) > 1:
        raise RecordingError(
            f"{path} holds both a traced program's runs and the board's (files joined?): "
            "keep them in two recordings"
        )
    if recording.truncated:
        print(
            f"fetchviz: {path} was cut short (the process writing it was stopped): "
            "it plays what it holds",
            file=sys.stderr,
        )
    return recording


def offline(command: str, work: Callable[[], int]) -> int:
    """`work`'s exit code; SIGTERM unwinds through here. A RecordingError goes on to main
    (exit 2); what cannot be written is one line and exit 1."""
    try:
        with tuning.terminate_as_exit():
            return work()
    except BrokenPipeError:  # `fetchviz replay --headless | head -1`: entry() stops quietly
        raise
    except OSError as exc:  # an export that cannot be written
        print(one_line(f"fetchviz {command}: {exc}"), file=sys.stderr)
        return 1
