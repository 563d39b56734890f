"""`fetchviz trace`: a program of the user's, unmodified, its requests, threads and tasks live.

    fetchviz trace [OPTIONS] SCRIPT.py [ARGS…]
    fetchviz trace [OPTIONS] -m MODULE [ARGS…]
    fetchviz trace [OPTIONS] -- COMMAND [ARGS…]

fetchviz's options come first; the first word that is not one of them is the program, and
everything after it is the program's own. The exit code is the program's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from fetchviz.cli import keymap
from fetchviz.cli.args import (
    Parser,
    UsageError,
    add_keymap,
    add_theme,
    fraction,
    recording_file,
    whole,
)
from fetchviz.cli.run import say_written
from fetchviz.core.config import DEFAULT_DELAY_MS, Config
from fetchviz.runs import tuning
from fetchviz.runs.server import MAX_DELAY_MS, EmbeddedServer
from fetchviz.trace.program import Program, ProgramError

if TYPE_CHECKING:
    from fetchviz.records.recording import RecordingWriter
    from fetchviz.trace.recorded import RecordedTrace
    from fetchviz.trace.source import TraceSource

# fetchviz's options that take a value: the word after one is not the program.
WITH_VALUE = {"--delay", "--jitter", "--fail-rate", "--theme", "--keymap", "--record"}


def parser() -> Parser:
    parser = Parser(
        prog="fetchviz trace",
        usage="fetchviz trace [OPTIONS] SCRIPT.py [ARGS…] | -m MODULE [ARGS…] | -- COMMAND [ARGS…]",
        description="Run a Python program of yours, unmodified, and watch its HTTP requests, "
        "threads and asyncio tasks live: every Python process it starts is traced.",
        epilog="The program runs as it would without fetchviz, in a process of its own; "
        "fetchviz's exit code is the program's. On the dashboard its stdin is not the "
        "terminal; headless, it is.",
    )
    # Read by split(), before argparse: listed here so that --help shows it.
    parser.add_argument(
        "-m",
        metavar="MODULE",
        dest="module",
        help="run a module as python -m does; what follows it is the module's own arguments",
    )
    parser.add_argument("--headless", action="store_true", help="no UI: a table when it ends")
    parser.add_argument(
        "--json", action="store_true", help="headless, JSON on stdout (the program's to stderr)"
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="start the embedded latency server beside it; its URL is in $FETCHVIZ_URL",
    )
    parser.add_argument(
        "--delay",
        type=whole(0, MAX_DELAY_MS),
        metavar="MS",
        help=f"with --serve: its latency (default {DEFAULT_DELAY_MS})",
    )
    parser.add_argument(
        "--jitter", type=whole(0, MAX_DELAY_MS), metavar="MS", help="with --serve: 0..MS more"
    )
    parser.add_argument(
        "--fail-rate", type=fraction, metavar="F", help="with --serve: answer 500 to this share"
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="with --serve: HTTPS; its CA is in $FETCHVIZ_CACERT, $SSL_CERT_FILE and "
        "$REQUESTS_CA_BUNDLE (with the system's CAs)",
    )
    parser.add_argument(
        "--record",
        type=recording_file,
        metavar="FILE",
        help="write each run's events to FILE (JSON Lines; .gz compresses): fetchviz replay, "
        "fetchviz export",
    )
    add_theme(parser)
    add_keymap(parser)
    return parser


def split(argv: list[str]) -> tuple[list[str], tuple[str, str, tuple[str, ...]] | None]:
    """fetchviz's options, and the program: (kind, target, its arguments)."""
    known = set(parser()._option_string_actions)  # argparse's own table of our flags
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            if i + 1 >= len(argv):
                raise UsageError("-- with nothing after it: name the command to run")
            return argv[:i], ("command", argv[i + 1], tuple(argv[i + 2 :]))
        if word == "-m":
            if i + 1 >= len(argv):
                raise UsageError("-m needs a module name")
            return argv[:i], ("module", argv[i + 1], tuple(argv[i + 2 :]))
        if word.startswith("-m") and len(word) > 2:  # -mhttp.server, as python takes it
            return argv[:i], ("module", word[2:], tuple(argv[i + 1 :]))
        if word.startswith("-") and word != "-":
            flag = word.split("=", 1)[0]
            if flag not in known:
                raise UsageError(
                    f"unrecognized arguments: {flag} (fetchviz trace's options come before "
                    "the program; what follows the program is its own)"
                )
            i += 2 if word in WITH_VALUE else 1
            continue
        return argv[:i], ("script", word, tuple(argv[i + 1 :]))
    return argv, None


def parse(argv: list[str]) -> argparse.Namespace:
    options, program = split(argv)
    args = parser().parse(options)
    if program is None:
        if "-h" in options or "--help" in options:
            return args  # argparse printed the help and exited already
        raise UsageError("name the program: SCRIPT.py, -m MODULE or -- COMMAND")
    served = ("--delay", "--jitter", "--fail-rate", "--tls")
    if not args.serve:
        given = [flag for flag in served if getattr(args, flag[2:].replace("-", "_"))]
        if given:
            raise UsageError(f"{given[0]} shapes the embedded server: add --serve")
    try:
        args.program = Program.of(*program)
    except ProgramError as exc:
        raise UsageError(str(exc)) from None
    return args


def run(args: argparse.Namespace) -> int:
    keys = None if args.headless or args.json else keymap.for_screen(args.keymap)
    with tuning.terminate_as_exit():
        server = None
        if args.serve:
            server = EmbeddedServer(
                DEFAULT_DELAY_MS if args.delay is None else args.delay,
                args.jitter or 0,
                args.fail_rate or 0.0,
                tls=bool(args.tls),
            )
            server.start()
        try:
            if server is not None:
                server.wait_ready()
            if args.headless or args.json:
                return _headless(args, server)
            from fetchviz.ui import launch

            writers: list[RecordingWriter] = []
            try:
                return launch.trace(
                    args.program, server, args.theme, keys, _recorder(args, server, writers)
                )
            finally:
                for writer in writers:  # where its runs went, as the dashboard says it
                    say_written(writer)
        finally:
            if server is not None:
                server.close()


def _recorder(
    args: argparse.Namespace,
    server: EmbeddedServer | None,
    writers: list[RecordingWriter] | None = None,
) -> Callable[[TraceSource], RecordedTrace] | None:
    """--record FILE: what wraps the program's source so that its runs are written (each
    writer made also put in `writers`)."""
    if args.record is None:
        return None
    from fetchviz.records.recording import RecordingWriter
    from fetchviz.trace.recorded import RecordedTrace

    # What a traced run's line says of its settings: only the embedded server's (its URL,
    # latency); the requests are the program's, numbered as they come.
    config = Config(tasks=1, url="", delay_ms=None)
    if server is not None:
        config = Config(
            tasks=1, url=server.url(), delay_ms=server.delay_ms, jitter_ms=server.jitter_ms
        )

    def record(source: TraceSource) -> RecordedTrace:
        writer = RecordingWriter(args.record)
        if writers is not None:
            writers.append(writer)
        return RecordedTrace(source, writer, config)

    return record


def _headless(args: argparse.Namespace, server: EmbeddedServer | None) -> int:
    from fetchviz.trace.report import print_json, print_table, trace_once
    from fetchviz.trace.source import TraceSource

    url = server.url() if server is not None else None
    live = TraceSource(
        args.program,
        live=False,
        url=url,
        stdout=sys.stderr.fileno() if args.json else None,
        cacert=server.cacert if server is not None else None,
        keep_output=args.record is not None,
    )
    record = _recorder(args, server)
    source = record(live) if record is not None else live
    state = asyncio.run(trace_once(source))
    sys.stderr.flush()
    if args.json:
        print_json([state], sys.stdout, url)
    else:
        # On the stream the program's output went to: its last line, unfinished maybe, ends
        # here, and the table starts on a line of its own.
        print()
        print_table(state, sys.stdout)
    return state.exit_code if state.exit_code is not None else 1
