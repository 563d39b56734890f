"""The command line: read and check the options, start what they ask for, map outcomes to
exit codes (0 done, 2 bad command line, 1 anything else, always with a one-line reason)."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import math
import os
import re
import ssl
import sys
import threading
from typing import Any, NoReturn
from urllib.parse import urlsplit

from fetchviz import __version__
from fetchviz.core.catalog import BY_ID, STRATEGIES, Strategy
from fetchviz.core.config import DEFAULT_DELAY_MS, DEFAULT_TASKS, DEFAULT_TIMEOUT, MAX_TASKS, Config
from fetchviz.core.source import EventSource
from fetchviz.runs import tuning
from fetchviz.runs.certs import SessionCerts
from fetchviz.runs.procs import raise_open_file_limit
from fetchviz.runs.server import (
    MAX_DELAY_MS,
    EmbeddedServer,
    bind,
    listen_error,
    make_app,
    reach_warning,
    serve,
)

EPILOG = (
    "strategies: " + ", ".join(s.id for s in STRATEGIES) + ". Keys in the dashboard: 1-8 pick "
    "and run (9 and 0: your own -s PATH.py:FUNCTION), r again, b sync baseline, a compare all, "
    "s sweep N, c code, f why it failed, +/- N, esc cancel, q quit, ctrl+p every action."
)


class UsageError(Exception):
    """A bad command line: one line on stderr, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _in_range(kind: type[float], low: float, high: float, what: str) -> Any:
    """A parser for a number of `kind` from low to high, both allowed, that says what is
    wrong with any other text."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {what}; use one from {low:g} to {high:g}"
            ) from None
        if not low <= value <= high:  # also rejects nan
            raise argparse.ArgumentTypeError(f"{text} is out of range; use {low:g} to {high:g}")
        return value

    return parse


def _whole(low: int, high: int) -> Any:
    return _in_range(int, low, high, "a whole number")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text} is out of range; use more than 0, up to 3600")
    return value


_fraction = _in_range(float, 0, 1, "a fraction")
_speed = _in_range(float, 0.1, 10, "a speed")


def _url(text: str) -> str:
    if text.startswith("/"):  # a path of the embedded server, e.g. /delay/200: it starts for it
        if not re.fullmatch(r"/(delay/\d{1,6})?", text):
            raise argparse.ArgumentTypeError(
                f"{text!r}: the embedded server answers / and /delay/MS only, e.g. /delay/200"
            )
        return text
    problem = None
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        problem = "is not a valid URL"
    else:
        if parts.scheme not in ("http", "https"):
            problem = "must start with http:// or https://"
        elif not parts.hostname:
            problem = "has no host"
        elif any(ch.isspace() or ord(ch) < 32 for ch in text):
            problem = "contains spaces or control characters"
    if problem:
        raise argparse.ArgumentTypeError(
            f"{text!r} {problem}, e.g. https://example.com/ (or /delay/200: the embedded server)"
        )
    return text


def _strategy(text: str) -> str:
    if text in BY_ID:
        return text
    if ":" in text or text.endswith(".py"):  # the user's own: PATH.py:FUNCTION, checked now
        from fetchviz.runs.user import UserStrategyError, read_function, split_spec

        try:
            read_function(*split_spec(text))
        except UserStrategyError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text
    raise argparse.ArgumentTypeError(
        f"unknown strategy {text!r}; choose from {', '.join(BY_ID)}, or your own PATH.py:FUNCTION"
    )


def _strategies(args: argparse.Namespace) -> list[Strategy]:
    """What -s and --all ask for: built-ins by id; the user's own with the next free keys."""
    from fetchviz.runs.user import KEYS, strategy_from

    chosen: list[Strategy] = list(STRATEGIES) if args.all else []
    taken = set(BY_ID)
    keys = iter(KEYS)
    for spec in args.strategy or ([] if args.all else ["sync"]):
        if spec in BY_ID:
            chosen.append(BY_ID[spec])
            continue
        strategy = strategy_from(spec, taken, next(keys, ""))
        taken.add(strategy.id)
        chosen.append(strategy)
    return chosen


def _targets_file(text: str) -> tuple[str, ...]:
    """--urls FILE: one URL a line; blank lines and # comments are skipped."""
    try:
        with open(text, encoding="utf-8") as file:
            lines = file.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise argparse.ArgumentTypeError(f"{text}: cannot be read ({exc})") from None
    urls = []
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            urls.append(_url(line))
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"{text}, line {number}: {exc}") from None
    if not urls:
        raise argparse.ArgumentTypeError(f"{text}: no URL in it (one a line, # for comments)")
    return tuple(urls)


def _main_parser() -> _Parser:
    parser = _Parser(
        prog="fetchviz",
        usage=(
            "fetchviz [OPTIONS]  |  fetchviz serve|replay|export|tour|sweep|web ...  "
            "(see fetchviz COMMAND --help)"
        ),
        description="Watch N HTTP fetches race under eight concurrency strategies, or yours.",
        epilog=EPILOG + " 'fetchviz serve --help' for the latency server alone.",
    )
    parser.add_argument("--headless", action="store_true", help="no UI: print a table")
    parser.add_argument("--json", action="store_true", help="headless, JSON on stdout")
    parser.add_argument(
        "-n",
        "--tasks",
        type=_whole(1, MAX_TASKS),
        default=DEFAULT_TASKS,
        metavar="N",
        help=f"number of fetch tasks (default {DEFAULT_TASKS})",
    )
    parser.add_argument(
        "-s",
        "--strategy",
        type=_strategy,
        action="append",
        metavar="NAME",
        help="a built-in's name, or your own PATH.py:FUNCTION; repeatable (default sync)",
    )
    parser.add_argument("--all", action="store_true", help="every built-in strategy, in order")
    parser.add_argument(
        "--url",
        type=_url,
        action="append",
        help="a real URL instead of the embedded server; repeatable: task i fetches URL i mod k",
    )
    parser.add_argument(
        "--urls",
        type=_targets_file,
        metavar="FILE",
        help="URLs to fetch, one a line (# comments), as with --url repeated",
    )
    parser.add_argument(
        "--delay",
        type=_whole(0, MAX_DELAY_MS),
        metavar="MS",
        help=f"embedded server latency (default {DEFAULT_DELAY_MS})",
    )
    parser.add_argument(
        "--jitter",
        type=_whole(0, MAX_DELAY_MS),
        metavar="MS",
        help="embedded server: extra random latency 0..MS (default 0)",
    )
    parser.add_argument(
        "--fail-rate",
        type=_fraction,
        metavar="F",
        help="embedded server: answer HTTP 500 to this fraction (default 0)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        default=None,
        help="embedded server: HTTPS, with a certificate made for the session (trusted by "
        "fetchviz's clients for that server only)",
    )
    parser.add_argument(
        "--workers",
        type=_whole(1, 10_000),
        metavar="N",
        help="executor pool size (default: Python's default)",
    )
    parser.add_argument(
        "--limit",
        type=_whole(1, MAX_TASKS),
        metavar="N",
        help="most requests in flight for the async clients (default: N)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=(
            "seconds a request may wait for a connection, or for the server's next bytes: a "
            "limit on silence, the same for every client, not a deadline for the whole "
            f"request (default {DEFAULT_TIMEOUT:g})"
        ),
    )
    parser.add_argument(
        "--loop",
        type=_loop,
        default="asyncio",
        metavar="asyncio|uvloop",
        help="the event loop of the asyncio strategies (default asyncio)",
    )
    parser.add_argument(
        "--record",
        type=_writable,
        metavar="FILE",
        help="write every run's events to FILE (JSON Lines; .gz compresses): fetchviz replay",
    )
    parser.add_argument(
        "--cacert",
        type=_ca_file,
        metavar="FILE",
        help="trust this CA (PEM) for HTTPS targets, in every client alike",
    )
    _add_theme(parser)
    parser.add_argument("--version", action="version", version=f"fetchviz {__version__}")
    return parser


def _theme(text: str) -> str:
    from fetchviz.ui.themes import THEMES

    if text not in THEMES:
        raise argparse.ArgumentTypeError(f"unknown theme {text!r}; choose from {', '.join(THEMES)}")
    return text


def _add_theme(parser: _Parser) -> None:
    parser.add_argument(
        "--theme",
        type=_theme,
        metavar="NAME",
        help="a Textual theme, or high-contrast for a washed-out projector (ctrl+p switches)",
    )


def _loop(text: str) -> str:
    if text not in ("asyncio", "uvloop"):
        raise argparse.ArgumentTypeError(f"unknown loop {text!r}; choose asyncio or uvloop")
    if text == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise argparse.ArgumentTypeError("uvloop is not installed (it has no Windows build)")
    return text


def _writable(text: str) -> str:
    """A file we can create: its folder exists (checked now, not after the first run)."""
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"{text!r}: no folder {folder!r}")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name")
    return text


def _ca_file(text: str) -> str:
    """A file of PEM certificates that OpenSSL can load: checked now, not at the first fetch."""
    try:
        ssl.create_default_context().load_verify_locations(cafile=text)
    except FileNotFoundError:
        raise argparse.ArgumentTypeError(f"{text!r}: no such file") from None
    except (ssl.SSLError, OSError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a PEM certificate file") from None
    return os.path.abspath(text)  # the run's process may not share our working directory


def _serve_parser() -> _Parser:
    parser = _Parser(prog="fetchviz serve", description="Run the latency server alone.")
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_whole(0, 65535), default=0, help="port (default 0: a free one)"
    )
    parser.add_argument(
        "--delay",
        type=_whole(0, MAX_DELAY_MS),
        default=DEFAULT_DELAY_MS,
        metavar="MS",
        help="latency of GET / (default 500)",
    )
    parser.add_argument(
        "--jitter",
        type=_whole(0, MAX_DELAY_MS),
        default=0,
        metavar="MS",
        help="extra random latency, 0..MS (default 0)",
    )
    parser.add_argument(
        "--fail-rate",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="answer HTTP 500 to this fraction of requests, 0 to 1 (default 0)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="HTTPS, with a certificate from a CA made for this session (its file is printed)",
    )
    return parser


def _run_serve(args: argparse.Namespace) -> int:
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        print(listen_error("fetchviz serve", args.host, args.port, exc), file=sys.stderr)
        return 1
    if warning := reach_warning("fetchviz serve", args.host):
        print(warning, file=sys.stderr)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    certs = SessionCerts.make() if args.tls else None
    scheme = "https" if certs else "http"
    print(
        f"fetchviz serve: {scheme}://{shown}:{port}/ answers after {args.delay} ms, "
        f"/delay/{{ms}} after {{ms}} (Ctrl+C stops)",
        flush=True,
    )
    if certs:
        print(f"fetchviz serve: its CA, for --cacert: {certs.ca}", flush=True)
    try:  # uvicorn raises the SIGTERM it caught again once stopped: it unwinds through here
        tls = (certs.cert, certs.key) if certs else None
        with tuning.terminate_as_exit():
            serve(sock, make_app(args.delay, args.jitter, args.fail_rate), tls)
    finally:
        if certs:
            certs.remove()
    return 0


def _config(args: argparse.Namespace, server: EmbeddedServer | None) -> Config:
    # A path (/delay/200) is one of the embedded server's; with no target, its default.
    targets = tuple(
        server.base_url + url if server and url.startswith("/") else url
        for url in args.targets or ((server.url(),) if server else ())
    )
    only_embedded = server is not None and not args.targets
    return Config(
        tasks=args.tasks,
        url=targets[0],
        urls=targets if len(targets) > 1 else (),
        delay_ms=server.delay_ms if server and only_embedded else None,
        jitter_ms=server.jitter_ms if server and only_embedded else 0,
        timeout=args.timeout,
        workers=args.workers,
        limit=args.limit,
        cacert=server.cacert if server and server.cacert else args.cacert,
        loop=args.loop,
    )


def _check(args: argparse.Namespace) -> None:
    if args.all and any(spec in BY_ID for spec in args.strategy or ()):
        raise UsageError(
            "--all runs every built-in already; drop -s NAME (-s PATH.py:FUNCTION adds yours)"
        )
    from fetchviz.runs.user import UserStrategyError

    try:
        args.strategies = _strategies(args)
    except UserStrategyError as exc:
        raise UsageError(str(exc)) from None
    args.targets = (*(args.url or ()), *(args.urls or ()))
    args.embedded = not args.targets or any(url.startswith("/") for url in args.targets)
    if args.tls and args.cacert:
        raise UsageError(
            "--tls trusts a CA made for the embedded server alone, --cacert one of yours: "
            "give one of the two"
        )
    if not args.embedded:
        for flag, value in (
            ("--delay", args.delay),
            ("--jitter", args.jitter),
            ("--fail-rate", args.fail_rate),
            ("--tls", args.tls),
        ):
            if value is not None:
                raise UsageError(
                    f"{flag} shapes the embedded server; it does nothing with --url or --urls "
                    "naming no path of it (/delay/MS)"
                )


def _recording_parser(command: str, description: str) -> _Parser:
    """A command that reads a recording: its FILE first."""
    parser = _Parser(prog=f"fetchviz {command}", description=description)
    parser.add_argument("file", metavar="FILE", help="a recording (.jsonl or .jsonl.gz)")
    return parser


def _replay_parser() -> _Parser:
    parser = _recording_parser(
        "replay", "Play a recording (--record FILE) back: no server, no network."
    )
    parser.add_argument(
        "--speed", type=_speed, default=1.0, metavar="X", help="0.1 to 10 (default 1)"
    )
    parser.add_argument("--headless", action="store_true", help="no UI: the table")
    parser.add_argument("--json", action="store_true", help="the JSON --json printed")
    _add_theme(parser)
    return parser


def _export_parser() -> _Parser:
    parser = _recording_parser("export", "Write a recording in formats other tools open.")
    parser.add_argument("--har", metavar="OUT", help="HAR 1.2: devtools' network panel")
    parser.add_argument("--trace", metavar="OUT", help="Chrome Trace Event JSON: Perfetto")
    parser.add_argument("--csv", metavar="OUT", help="a row per request")
    return parser


SUBCOMMANDS = {"serve": _serve_parser, "replay": _replay_parser, "export": _export_parser}


def _web_parser() -> _Parser:
    parser = _Parser(
        prog="fetchviz web",
        usage="fetchviz web [--host H] [--port P] [DASHBOARD OPTIONS]",
        description="The dashboard in a browser (textual-serve): a dashboard of its own per tab.",
        epilog="Every option of the dashboard is accepted (see fetchviz --help).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_whole(0, 65535), default=0, help="port (default 0: a free one)"
    )
    parser.add_argument("--tour", action="store_true", help="each tab takes the tour")
    return parser


def _parse_web(argv: list[str]) -> argparse.Namespace:
    """web's own options; the rest are the dashboard's, checked now (once, here, rather than
    as a blank page in every tab)."""
    args, rest = _web_parser().parse_known_args(argv)
    for flag in ("--headless", "--json"):
        if flag in rest:
            raise UsageError(f"{flag} has no screen to show in a browser; drop it")
    if any(arg == "--record" or arg.startswith("--record=") for arg in rest):
        raise UsageError(
            "--record: every tab would write the same file; record with fetchviz --record, "
            "then fetchviz web is for live runs"
        )
    if args.tour:
        _parse_tour(rest)
        args.dashboard = ["tour", *rest]
    else:
        _check(_main_parser().parse_args(rest))
        args.dashboard = rest
    return args


def _parse_tour(argv: list[str]) -> argparse.Namespace:
    """Every option of the dashboard, checked as the dashboard checks them; the strategies
    are the tour's own, in the tutorial's order (a user's own joins its compare-all)."""
    parser = _main_parser()
    parser.prog, parser.usage = "fetchviz tour", "fetchviz tour [OPTIONS]"
    parser.description = (
        "The tutorial's story, one key a step: sync, async-sequential, gather-blocking, "
        "executor, httpx, aiohttp, taskgroup, threads, then compare all."
    )
    parser.epilog = "Keys: space or → next step, ← the one before, r again, escape leaves."
    args = parser.parse_args(argv)
    for flag, given in (("--headless", args.headless), ("--json", args.json)):
        if given:
            raise UsageError(f"{flag}: the tour is told on screen; drop it")
    if args.all or any(spec in BY_ID for spec in args.strategy or ()):
        raise UsageError(
            "the tour runs every built-in in its own order; drop --all and -s NAME "
            "(-s PATH.py:FUNCTION adds yours to its compare-all)"
        )
    _check(args)
    return args


def _sweep_parser() -> _Parser:
    from fetchviz.runs.sweep import add_arguments

    parser = _Parser(
        prog="fetchviz sweep",
        usage="fetchviz sweep [OPTIONS] [--tasks 1,10,100,1000] [--json | --csv]",
        description="How time grows with N: each strategy at each size, elapsed on log axes.",
        epilog="Every option of the dashboard is accepted (see fetchviz --help); with no -s "
        "or --all, every built-in strategy.",
        allow_abbrev=False,  # `--t 5` is the dashboard's --timeout, never taken for --tasks
    )
    add_arguments(parser)
    return parser


def _parse_sweep(argv: list[str]) -> argparse.Namespace:
    """sweep's own options (its --tasks is a list of sizes); the rest are the dashboard's,
    checked as the dashboard checks them."""
    own, rest = _sweep_parser().parse_known_args(argv)
    args = _main_parser().parse_args(rest)
    args.sizes, args.csv, args.run_all_sizes = own.sizes, own.csv, own.run_all_sizes
    args.json = own.json or args.json
    if args.json and args.csv:
        raise UsageError("--json or --csv: give one of the two")
    if not args.strategy and not args.all:
        args.all = True  # one strategy's line is no picture: every built-in
    _check(args)
    return args


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line, checked; raises UsageError saying what is wrong."""
    if argv[:1] == ["sweep"]:
        args = _parse_sweep(argv[1:])
        args.command = "sweep"
    elif argv[:1] == ["web"]:
        args = _parse_web(argv[1:])
        args.command = "web"
    elif argv[:1] == ["tour"]:
        args = _parse_tour(argv[1:])
        args.command = "tour"
    elif argv[:1] and argv[0] in SUBCOMMANDS:
        args = SUBCOMMANDS[argv[0]]().parse_args(argv[1:])
        args.command = argv[0]
        if args.command == "export" and not (args.har or args.trace or args.csv):
            raise UsageError("say what to write: --har OUT, --trace OUT and/or --csv OUT")
        if args.command == "replay" and args.json and args.headless:
            raise UsageError("--json is headless already; give one of the two")
    else:
        args = _main_parser().parse_args(argv)
        _check(args)
        args.command = "run"
    return args


def one_line(text: str) -> str:
    """What the user typed may hold newlines or control characters: show them escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = parse(argv)
        if args.command == "serve":
            return _run_serve(args)
        if args.command in ("replay", "export"):
            return _run_offline(args)
        if args.command == "web":
            from fetchviz.ui.web import run_web  # aiohttp and textual-serve: for web alone

            return run_web(args.host, args.port, args.dashboard)
    except UsageError as exc:
        named = argv[:1] and (argv[0] in SUBCOMMANDS or argv[0] in ("web", "tour", "sweep"))
        prog = f"fetchviz {argv[0]}" if named else "fetchviz"
        print(one_line(f"{prog}: error: {exc} (see {prog} --help)"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130

    with tuning.terminate_as_exit():
        return _run(args)


def _run_offline(args: argparse.Namespace) -> int:
    """replay and export: a bad file is bad input (exit 2, one line); no server starts."""
    from fetchviz.records import offline
    from fetchviz.records.recording import RecordingError

    try:
        with tuning.terminate_as_exit():
            return offline.replay(args) if args.command == "replay" else offline.export(args)
    except RecordingError as exc:
        print(one_line(f"fetchviz {args.command}: {exc}"), file=sys.stderr)
        return 2
    except OSError as exc:  # an export that cannot be written
        print(one_line(f"fetchviz {args.command}: {exc}"), file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    raise_open_file_limit()
    strategies = args.strategies
    server = None
    if args.embedded:
        server = EmbeddedServer(
            DEFAULT_DELAY_MS if args.delay is None else args.delay,
            args.jitter or 0,
            args.fail_rate or 0.0,
            tls=bool(args.tls),
        )
    try:
        if server:
            server.start()
        config = _config(args, server)
        if args.command == "sweep":
            from fetchviz.runs.sweep import run_command

            return run_command(args, config, server, _source(args.record, live=False))
        live = not (args.headless or args.json)
        source = _source(args.record, live)
        if not live:
            return _run_headless(config, strategies, server, args.json, source)
        with tuning.dashboard_settings():
            from fetchviz.ui.app import FetchvizApp  # Textual loads only for the dashboard

            app = FetchvizApp(
                config,
                strategies,
                server,
                compare_all=args.all,
                source=source,
                theme=args.theme,
                tour=args.command == "tour",
            )
            app.run()
        return app.return_code or 0
    except KeyboardInterrupt:
        print("fetchviz: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `fetchviz --json | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 1
    except Exception as exc:  # a traceback on the user's screen is a bug: one line instead
        if os.environ.get("FETCHVIZ_DEBUG"):
            raise
        print(f"fetchviz: {exc} (FETCHVIZ_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
    finally:
        if server:
            server.close()


def _source(record: str | None, live: bool) -> EventSource:
    """The live runner, recorded to a file if asked."""
    from fetchviz.runs.runner import Runner

    runner = Runner(live=live)
    if record is None:
        return runner
    from fetchviz.records.recording import RecordingSource, RecordingWriter

    return RecordingSource(runner, RecordingWriter(record))


def _run_headless(
    config: Config,
    strategies: list[Strategy],
    server: EmbeddedServer | None,
    as_json: bool,
    source: EventSource,
) -> int:
    from fetchviz.core.model import RunState
    from fetchviz.runs.headless import print_json, print_table, run_all

    progress = sys.stderr.isatty()  # someone waits at a terminal: say what runs
    done = iter(range(1, len(strategies) + 1))

    def before_each(strategy: Strategy) -> None:
        if progress:
            print(f"fetchviz: {strategy.id} ({next(done)}/{len(strategies)})…", file=sys.stderr)
        restart_a_dead_server()

    def restart_a_dead_server() -> None:
        """As the dashboard does: a run after the server died fetches from a new one."""
        if server is not None and not server.running:
            print("fetchviz: the latency server had stopped: restarting it", file=sys.stderr)
            server.restart()
        if server is not None:
            server.wait_ready()

    runs: list[RunState] = []  # filled as runs start: what finished survives a Ctrl+C
    show = print_json if as_json else print_table
    try:
        asyncio.run(run_all(config, strategies, source, before_each=before_each, runs=runs))
    except KeyboardInterrupt:
        if runs:
            show(config, runs, sys.stdout)  # the interrupted run says it was cancelled
        print("fetchviz: interrupted", file=sys.stderr)
        return 130
    show(config, runs, sys.stdout)
    return 0


def entry() -> NoReturn:
    """The console script: exit promptly, waiting for no thread still going.

    Runs and the server are killed by now, not drained; what threads are left only wait to
    reap them (the kernel may take a second to close 10,000 sockets), and init reaps them as
    well. Everything that matters (the output) is done by now.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    if any(t is not threading.main_thread() and t.is_alive() for t in threading.enumerate()):
        os._exit(code)
    sys.exit(code)
