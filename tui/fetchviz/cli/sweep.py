"""`fetchviz sweep`: how time grows with N, each strategy at each size; the chart on screen,
or with --json, --csv or --headless, on stdout."""

from __future__ import annotations

import argparse
import asyncio
import sys

from fetchviz.cli import keymap
from fetchviz.cli.args import Parser, UsageError, add_run_options, check
from fetchviz.cli.run import progress, ready, say_caveats, say_recorded, source, started
from fetchviz.core.catalog import Strategy
from fetchviz.core.config import MAX_TASKS, Config
from fetchviz.runs.server import EmbeddedServer
from fetchviz.runs.sweep import (
    DEFAULT_SIZES,
    RUN_SEQUENTIAL_UP_TO,
    SEQUENTIAL,
    Point,
    plan,
    print_csv,
    print_json,
    print_table,
    sweep,
)


def parse_sizes(text: str) -> tuple[int, ...]:
    """`--tasks 1,10,100`: the sizes, each from 1 to MAX_TASKS, smallest first (the
    estimates scale the largest size run below them)."""
    sizes = set()
    for part in text.split(","):
        try:
            size = int(part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a list of whole numbers; e.g. 1,10,100,1000"
            ) from None
        if not 1 <= size <= MAX_TASKS:
            raise argparse.ArgumentTypeError(f"{size} is out of range; use 1 to {MAX_TASKS:,}")
        sizes.add(size)
    return tuple(sorted(sizes))


def parser() -> Parser:
    """The sweep's own options, and the dashboard's but its --tasks (the sweep's is a list)."""
    parser = Parser(
        prog="fetchviz sweep",
        usage="fetchviz sweep [OPTIONS] [--tasks 1,10,100,1000] [--headless | --json | --csv]",
        description="How time grows with N: each strategy at each size, elapsed on log axes.",
        epilog="With no -s or --all, every built-in strategy.",
    )
    parser.add_argument(
        "-n",
        "--tasks",
        dest="sizes",
        type=parse_sizes,
        default=DEFAULT_SIZES,
        metavar="N,N,...",
        help="the sizes to run each strategy at (default 1,10,100,1000)",
    )
    parser.add_argument("--csv", action="store_true", help="no UI: CSV on stdout")
    parser.add_argument(
        "--run-all-sizes",
        action="store_true",
        help=(
            "run the sequential strategies (sync, async-sequential, gather-blocking) at every "
            f"size too; by default they are estimated past N = {RUN_SEQUENTIAL_UP_TO}"
        ),
    )
    add_run_options(
        parser,
        leave_out={"--tasks"},
        changes={
            "--strategy": {
                "help": "a built-in's name, or your own PATH.py:FUNCTION; repeatable "
                "(default: every built-in)"
            },
        },
    )
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    """Checked as the dashboard checks its options."""
    args = parser().parse(argv)
    if args.json and args.csv:
        raise UsageError("--json or --csv: give one of the two")
    if not args.strategy and not args.all:
        args.all = True  # one strategy's line is no picture: every built-in
    check(args)
    # Past N = 100 a sequential strategy is estimated from its largest run below: with no
    # size there, `-n 500 -s sync` ran nothing and said "—", exit 0. Refused where nothing
    # else would run; beside other strategies, said on stderr (they run; it is "—").
    sequential = [s.id for s in args.strategies if s.id in SEQUENTIAL]
    if sequential and not args.run_all_sizes and min(args.sizes) > RUN_SEQUENTIAL_UP_TO:
        sizes = ",".join(str(n) for n in args.sizes)
        them = "it" if len(sequential) == 1 else "them"
        said = (
            f"{', '.join(sequential)}: past N = {RUN_SEQUENTIAL_UP_TO} the sweep estimates "
            f"{them} from a run at a smaller N, and -n {sizes} has none: add one "
            f"(-n 10,{sizes}), or --run-all-sizes to run {them} in full"
        )
        if len(sequential) == len(args.strategies):
            raise UsageError(said)
        print(f"fetchviz sweep: {said}", file=sys.stderr)
    return args


def run(args: argparse.Namespace) -> int:
    up_to = None if args.run_all_sizes else RUN_SEQUENTIAL_UP_TO
    if args.json or args.csv or args.headless:
        return started(args, lambda config, server: _printed(args, config, server, up_to))
    keys = keymap.for_screen(args.keymap)  # a bad file: exit 2, before any server starts

    def chart(config: Config, server: EmbeddedServer | None) -> int:
        from fetchviz.ui import launch  # Textual loads only for the screens

        events = source(args.record, live=False, server=server)
        try:
            return launch.sweep(
                config,
                args.strategies,
                args.sizes,
                up_to,
                server,
                events,
                keymap=keys,
                theme=args.theme,
            )
        finally:
            say_recorded(events)

    return started(args, chart)


def _printed(
    args: argparse.Namespace,
    config: Config,
    server: EmbeddedServer | None,
    up_to: int | None,
) -> int:
    """On stdout; an embedded server that died is started again before the next run."""
    strategies: list[Strategy] = args.strategies
    say_caveats(strategies, config)
    say = progress(sum(not step.estimated for step in plan(strategies, args.sizes, up_to)))

    def before_each(strategy: Strategy, n: int) -> None:
        say(f"{strategy.id} at N = {n:,}")
        ready(server)

    def show(points: list[Point]) -> None:
        if args.json:
            print_json(config, args.sizes, points, up_to, sys.stdout)
        elif args.csv:
            print_csv(points, sys.stdout)
        else:
            print_table(config, args.sizes, points, sys.stdout)

    points: list[Point] = []  # filled as they come: what was measured survives a Ctrl+C
    try:
        events = source(args.record, live=False, server=server)
        asyncio.run(sweep(config, strategies, args.sizes, events, up_to, before_each, None, points))
    except KeyboardInterrupt:
        show(points)
        print("fetchviz: interrupted", file=sys.stderr)
        return 130
    show(points)
    return 0
