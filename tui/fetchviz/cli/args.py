"""What the commands share: the parser that raises UsageError, the option types that say what
is wrong with a value, and the dashboard's options (which tour, sweep and web take too, each
but those it refuses)."""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import itertools
import math
import os
import re
import ssl
import sys
from collections.abc import Collection, Mapping
from typing import Any, NoReturn
from urllib.parse import urlsplit

from fetchviz import __version__
from fetchviz.cli import keymap
from fetchviz.core.actions import key_help
from fetchviz.core.catalog import BY_ID, CLIENTS_EXTRA, STRATEGIES, Strategy
from fetchviz.core.config import DEFAULT_DELAY_MS, DEFAULT_TASKS, DEFAULT_TIMEOUT, MAX_TASKS, Config
from fetchviz.runs.server import MAX_DELAY_MS, EmbeddedServer

EPILOG = (
    f"strategies: {', '.join(s.id for s in STRATEGIES)}. Keys in the dashboard: "
    f"{key_help('dashboard')}, ctrl+p every action ('fetchviz keys' lists them all, "
    "--keymap FILE changes them)."
)


# What each command word does, for `fetchviz --help` (its own --help says the rest).
COMMANDS_HELP = (
    ("serve", "the latency server alone: GET /delay/{ms} answers after {ms}"),
    ("replay FILE", "play a recording back (made with --record FILE)"),
    ("export FILE", "write a recording as HAR, Chrome trace or CSV"),
    ("sweep", "how each strategy's time grows with N"),
    ("tour", "the tutorial's story, one key a step"),
    ("web", "the dashboard in a browser, a session a tab"),
    ("trace PROGRAM", "your Python program, unmodified: its requests, threads, tasks"),
    ("keys", "every action: its id, keys, modes, and what it does"),
)


class _ParagraphsFormatter(argparse.HelpFormatter):
    """argparse's, but an indented paragraph keeps its lines (the list of commands)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        fill = super()._fill_text
        return "\n\n".join(
            part if part.startswith("  ") else fill(part, width, indent)
            for part in text.split("\n\n")
        )


class UsageError(Exception):
    """A bad command line: one line on stderr, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse's, raising UsageError where it would print the usage and exit.

    An option a command refuses is not one of its options, so its --help never shows it; if
    it is given all the same, `refused` says why and what to do instead (by long flag)."""

    def __init__(self, *args: Any, refused: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused = dict(refused or {})

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)

    def parse(self, argv: list[str]) -> argparse.Namespace:
        """parse_args, with a refused option's own line rather than argparse's 'unrecognized
        arguments'."""
        args, extras = self.parse_known_args(argv)
        for arg in itertools.takewhile(lambda arg: arg != "--", extras):
            flag = arg.split("=", 1)[0]
            if flag in self.refused:
                raise UsageError(f"{flag}: {self.refused[flag]}")
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return args


def one_line(text: str) -> str:
    """What the user typed may hold newlines or control characters: show them escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def in_range(kind: type[float], low: float, high: float, what: str) -> Any:
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


def whole(low: int, high: int) -> Any:
    return in_range(int, low, high, "a whole number")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text} is out of range; use more than 0, up to 3600")
    return value


fraction = in_range(float, 0, 1, "a fraction")
speed = in_range(float, 0.1, 10, "a speed")


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
        if not BY_ID[text].installed:
            raise argparse.ArgumentTypeError(BY_ID[text].not_installed())
        return text
    if ":" in text or text.endswith(".py"):  # the user's own: PATH.py:FUNCTION, checked now
        from fetchviz.runs.user import UserStrategyError, read_function, split_spec

        try:
            read_function(*split_spec(text))
        except UserStrategyError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text
    raise argparse.ArgumentTypeError(
        f"unknown strategy {text!r}{_closest_strategy(text)}; choose from {', '.join(BY_ID)}, "
        "or your own PATH.py:FUNCTION"
    )


def _closest_strategy(text: str) -> str:
    """' (did you mean …?)' for a key typed as on the board (-s 3), a start (-s async), a
    capital or a typo (-s Sync, -s syncc); '' when nothing is close."""
    by_key = [s.id for s in BY_ID.values() if s.key and s.key == text]
    if by_key:
        return f" ({text} is {by_key[0]}'s key on the board: -s {by_key[0]})"
    lower = text.lower()
    close = [id for id in BY_ID if len(lower) >= 3 and id.startswith(lower)]
    close = close or difflib.get_close_matches(lower, BY_ID, n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(close[:2])}?)" if close else ""


def _strategies(args: argparse.Namespace) -> list[Strategy]:
    """What -s and --all ask for: built-ins by id; the user's own with the next free keys."""
    from fetchviz.runs.user import KEYS, strategy_from

    # --all: every built-in that is installed (the clients' extra may not be), and a line on
    # stderr for those left out: a race that drops three clients says so.
    chosen: list[Strategy] = [s for s in STRATEGIES if s.installed] if args.all else []
    missing = [s.id for s in STRATEGIES if not s.installed] if args.all else []
    if missing:
        print(
            f"fetchviz: leaving out {', '.join(missing)} (not installed: {CLIENTS_EXTRA} "
            "adds them)",
            file=sys.stderr,
        )
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
    except FileNotFoundError:
        raise argparse.ArgumentTypeError(f"{text}: no such file") from None
    except IsADirectoryError:
        raise argparse.ArgumentTypeError(f"{text}: a folder, not a file of URLs") from None
    except OSError as exc:
        raise argparse.ArgumentTypeError(
            f"{text}: cannot be read ({exc.strerror or exc})"
        ) from None
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"{text}: not text (UTF-8): one URL a line") from None
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


def dashboard_parser() -> Parser:
    """`fetchviz [OPTIONS]`: the dashboard's options, which are every run's."""
    parser = Parser(
        prog="fetchviz",
        usage=(
            "fetchviz [OPTIONS]  |  fetchviz serve|replay|export|tour|sweep|web|trace|keys ...  "
            "(see fetchviz COMMAND --help)"
        ),
        description="Watch N HTTP fetches race under the concurrency strategies, or yours.",
        epilog=EPILOG
        + "\n\ncommands (fetchviz COMMAND --help says more):\n\n"
        + "\n".join(f"  {word:<14} {what}" for word, what in COMMANDS_HELP),
        formatter_class=_ParagraphsFormatter,
    )
    add_run_options(parser)
    return parser


def add_run_options(
    parser: Parser,
    leave_out: Collection[str] = (),
    changes: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """The dashboard's options, which tour, sweep and web take too, but those in `leave_out`
    (long flags): a command that refuses one does not have it, so its --help does not show
    it, and its field keeps the default, so that every command's namespace has the same
    fields. `changes` says what an option is to this command (help, metavar), by long flag."""

    def option(*flags: str, **settings: Any) -> None:
        name = flags[-1]
        if name in leave_out:
            dest = settings.get("dest", name.lstrip("-").replace("-", "_"))
            unset = False if settings.get("action") == "store_true" else None
            parser.set_defaults(**{dest: settings.get("default", unset)})
            return
        parser.add_argument(*flags, **{**settings, **(changes or {}).get(name, {})})

    option("--headless", action="store_true", help="no UI: print a table")
    option("--json", action="store_true", help="headless, JSON on stdout")
    option(
        "-n",
        "--tasks",
        type=whole(1, MAX_TASKS),
        default=DEFAULT_TASKS,
        metavar="N",
        help=f"number of fetch tasks (default {DEFAULT_TASKS})",
    )
    option(
        "-s",
        "--strategy",
        type=_strategy,
        action="append",
        metavar="NAME",
        help="a built-in's name, or your own PATH.py:FUNCTION; repeatable (default sync)",
    )
    option("--all", action="store_true", help="every built-in strategy, in order")
    option(
        "--url",
        type=_url,
        action="append",
        help="a real URL instead of the embedded server; repeatable: task i fetches URL i mod k",
    )
    option(
        "--urls",
        type=_targets_file,
        metavar="FILE",
        help="URLs to fetch, one a line (# comments), as with --url repeated",
    )
    option(
        "--delay",
        type=whole(0, MAX_DELAY_MS),
        metavar="MS",
        help=f"embedded server latency (default {DEFAULT_DELAY_MS})",
    )
    option(
        "--jitter",
        type=whole(0, MAX_DELAY_MS),
        metavar="MS",
        help="embedded server: extra random latency 0..MS (default 0)",
    )
    option(
        "--fail-rate",
        type=fraction,
        metavar="F",
        help="embedded server: answer HTTP 500 to this fraction (default 0)",
    )
    option(
        "--tls",
        action="store_true",
        default=None,
        help="embedded server: HTTPS, with a certificate made for the session (trusted by "
        "fetchviz's clients for that server only)",
    )
    option(
        "--workers",
        type=whole(1, 10_000),
        metavar="W",
        help="the thread pool's size, of executor and threads (default: Python's, "
        "min(32, cpus + 4))",
    )
    option(
        "--limit",
        type=whole(1, MAX_TASKS),
        metavar="K",
        help="most requests in flight for the async clients: httpx, httpx2, aiohttp, "
        "taskgroup, pyreqwest, curl-cffi (default: the number of tasks)",
    )
    option(
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
    option(
        "--loop",
        type=_loop,
        default="asyncio",
        metavar="asyncio|uvloop",
        help="the event loop of the asyncio strategies (default asyncio)",
    )
    option(
        "--record",
        type=recording_file,
        metavar="FILE",
        help="write every run's events to FILE (JSON Lines; .gz compresses): fetchviz replay",
    )
    option(
        "--cacert",
        type=_ca_file,
        metavar="FILE",
        help="trust this CA (PEM) for HTTPS targets, in every client alike",
    )
    add_theme(parser)
    add_keymap(parser)
    parser.add_argument("--version", action="version", version=f"fetchviz {__version__}")


def add_address(parser: Parser) -> None:
    """Where a command that serves listens: loopback and a free port unless told."""
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=whole(0, 65535), default=0, help="port (default 0: a free one)"
    )


def _theme(text: str) -> str:
    from fetchviz.ui.themes import THEMES  # Textual's: even headless, --theme loads it

    if text not in THEMES:
        raise argparse.ArgumentTypeError(f"unknown theme {text!r}; choose from {', '.join(THEMES)}")
    return text


def add_theme(parser: Parser) -> None:
    parser.add_argument(
        "--theme",
        type=_theme,
        metavar="NAME",
        help="a Textual theme, or high-contrast for a washed-out projector (ctrl+p switches)",
    )


def add_keymap(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keymap",
        type=keymap.option,
        metavar="FILE",
        help='your keys: a TOML file of "action-id" = "key1,key2" (fetchviz keys lists the '
        "ids; without it, $XDG_CONFIG_HOME/fetchviz/keymap.toml if there is one)",
    )


def _loop(text: str) -> str:
    if text not in ("asyncio", "uvloop"):
        raise argparse.ArgumentTypeError(f"unknown loop {text!r}; choose asyncio or uvloop")
    if text == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise argparse.ArgumentTypeError("uvloop is not installed (it has no Windows build)")
    return text


def writable(text: str) -> str:
    """A file we can create: its folder exists (checked now, not after the first run)."""
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"{text!r}: no folder {folder!r}")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file name")
    return text


def recording_file(text: str) -> str:
    """Where --record writes: a new file, or an old recording it replaces; never a file of
    another kind (`--record crawl.py` once wrote over the script it was to trace). An empty
    file holds nothing to lose (one made by mktemp)."""
    text = writable(text)
    from fetchviz.records.recording import is_recording

    if os.path.isfile(text) and os.path.getsize(text) and not is_recording(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} exists and is not a recording: --record would write over it; "
            "give a new file's name"
        )
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


def check(args: argparse.Namespace) -> None:
    """What no single option can say is wrong (and what -s asks for, made: args.strategies)."""
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


def checked(parser: Parser, argv: list[str]) -> argparse.Namespace:
    """The dashboard's options, parsed and checked as a whole."""
    args = parser.parse(argv)
    check(args)
    return args


def config_of(args: argparse.Namespace, server: EmbeddedServer | None) -> Config:
    """The runs' settings: a path (/delay/200) is one of the embedded server's; with no
    target, its default."""
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
