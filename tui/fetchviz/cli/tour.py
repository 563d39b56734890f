"""`fetchviz tour [OPTIONS]`: the tutorial's story on the dashboard, one key a step."""

from __future__ import annotations

import argparse

from fetchviz.cli import run as dashboard_run
from fetchviz.cli.args import Parser, UsageError, add_run_options
from fetchviz.cli.args import check as check_run
from fetchviz.core.actions import TOUR, key_help
from fetchviz.core.catalog import BY_ID

ITS_OWN_ORDER = (
    "the tour runs every built-in in its own order; drop it "
    "(-s PATH.py:FUNCTION adds yours to its compare-all)"
)
ON_SCREEN = "the tour is told on screen; drop it (fetchviz --headless runs strategies with no UI)"
# The dashboard's options the tour has not: its --help does not show them.
REFUSED = {"--headless": ON_SCREEN, "--json": ON_SCREEN, "--all": ITS_OWN_ORDER}


def parser() -> Parser:
    """The dashboard's options, but those the tour refuses; -s adds only the user's own."""
    parser = Parser(
        prog="fetchviz tour",
        usage="fetchviz tour [OPTIONS]",
        description=(
            "The tutorial's story, one key a step: sync, async-sequential, gather-blocking, "
            "executor, httpx, aiohttp, taskgroup, threads, then compare all."
        ),
        epilog=f"Keys: {key_help(TOUR)}.",
        refused=REFUSED,
    )
    add_run_options(
        parser,
        leave_out=REFUSED,
        changes={
            "--strategy": {
                "metavar": "PATH.py:FUNCTION",
                "help": "your own, in the tour's compare-all after the built-ins; repeatable",
            },
        },
    )
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    """Every option of the dashboard the tour has, checked as the dashboard checks them."""
    args = parser().parse(argv)
    check(args)
    return args


def check(args: argparse.Namespace) -> None:
    """The strategies are the tour's own, in the tutorial's order (a user's own joins its
    compare-all); `fetchviz web --tour` checks its options with this too."""
    if args.all:
        raise UsageError(f"--all: {ITS_OWN_ORDER}")
    if any(spec in BY_ID for spec in args.strategy or ()):
        raise UsageError(f"-s NAME: {ITS_OWN_ORDER}")
    check_run(args)


def run(args: argparse.Namespace) -> int:
    return dashboard_run.dashboard(args, tour=True)
