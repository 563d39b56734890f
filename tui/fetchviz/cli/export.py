"""`fetchviz export FILE`: a recording written in formats other tools open (HAR, Chrome
trace, CSV)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys

from fetchviz.cli import recorded
from fetchviz.cli.args import UsageError
from fetchviz.records.recording import Recording, is_recording

Output = tuple[str, str]  # (its option, the path given)


def parser() -> argparse.ArgumentParser:
    parser = recorded.parser("export", "Write a recording in formats other tools open.")
    parser.add_argument("--har", metavar="OUT", help="HAR 1.2: devtools' network panel")
    parser.add_argument("--trace", metavar="OUT", help="Chrome Trace Event JSON: Perfetto")
    parser.add_argument("--csv", metavar="OUT", help="a row per request")
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    args = parser().parse_args(argv)
    outputs = _outputs(args)
    if not outputs:
        raise UsageError("say what to write: --har OUT, --trace OUT and/or --csv OUT")
    _check(args.file, outputs)
    return args


def _outputs(args: argparse.Namespace) -> list[Output]:
    return [
        (f"--{kind}", path) for kind in ("har", "trace", "csv") if (path := getattr(args, kind))
    ]


def _check(recording: str, outputs: list[Output]) -> None:
    """Refuse, before anything is written, an output that would destroy the recording or
    another output, or that cannot be written where it was asked for."""
    for i, (option, path) in enumerate(outputs):
        if _same_file(path, recording):
            raise UsageError(
                f"{option} {path} is the recording itself: writing it would destroy it; "
                "give another file"
            )
        for other_option, other in outputs[:i]:
            if _same_file(path, other):
                raise UsageError(
                    f"{other_option} {other} and {option} {path} are the same file: "
                    "give each its own"
                )
        if os.path.isdir(path):
            raise UsageError(f"{option} {path} is a folder: give a file's name")
        if is_recording(path):
            raise UsageError(
                f"{option} {path} is a recording: writing it would destroy it; give another file"
            )
        folder = os.path.dirname(path) or os.curdir
        if not os.path.isdir(folder):
            raise UsageError(f"{option} {path}: there is no folder {folder}: make it first")


def _same_file(a: str, b: str) -> bool:
    """By the file where both exist (symlinks, hard links, ./x alike), else by the real path."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one is not there yet
        return os.path.realpath(a) == os.path.realpath(b)


def run(args: argparse.Namespace) -> int:
    return recorded.offline("export", lambda: _export(args))


def _text(option: str, recording: Recording) -> str:
    from fetchviz.records.export import csv_rows, to_har, to_trace

    if option == "--har":
        return json.dumps(to_har(recording), indent=1)
    if option == "--trace":
        return json.dumps(to_trace(recording))
    text = io.StringIO()
    csv.writer(text).writerows(csv_rows(recording))
    return text.getvalue()


def _export(args: argparse.Namespace) -> int:
    from fetchviz.records.export import write_aside

    recording = recorded.load(args.file)
    outputs = [(path, _text(option, recording)) for option, path in _outputs(args)]
    written: list[str] = []
    for path, text in outputs:
        try:
            write_aside(path, text)
        except OSError as exc:  # it names the file beside, not the one asked for
            done = f" ({', '.join(written)} written)" if written else ""
            raise OSError(f"cannot write {path}: {exc.strerror or exc}{done}") from exc
        written.append(path)
    print(f"fetchviz export: wrote {', '.join(written)}", file=sys.stderr)
    return 0
