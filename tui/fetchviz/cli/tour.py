"""`fetchviz tour [OPTIONS]`: the tutorial's story on the dashboard, one key a step."""

from __future__ import annotations

import argparse

from fetchviz.cli import run as dashboard_run
from fetchviz.cli.args import UsageError, check, dashboard_parser
from fetchviz.core.actions import TOUR, key_help
from fetchviz.core.catalog import BY_ID


def parse(argv: list[str]) -> argparse.Namespace:
    """Every option of the dashboard, checked as the dashboard checks them; the strategies
    are the tour's own, in the tutorial's order (a user's own joins its compare-all)."""
    parser = dashboard_parser()
    parser.prog, parser.usage = "fetchviz tour", "fetchviz tour [OPTIONS]"
    parser.description = (
        "The tutorial's story, one key a step: sync, async-sequential, gather-blocking, "
        "executor, httpx, aiohttp, taskgroup, threads, then compare all."
    )
    parser.epilog = f"Keys: {key_help(TOUR)}."
    args = parser.parse_args(argv)
    for flag, given in (("--headless", args.headless), ("--json", args.json)):
        if given:
            raise UsageError(f"{flag}: the tour is told on screen; drop it")
    if args.all or any(spec in BY_ID for spec in args.strategy or ()):
        raise UsageError(
            "the tour runs every built-in in its own order; drop --all and -s NAME "
            "(-s PATH.py:FUNCTION adds yours to its compare-all)"
        )
    check(args)
    return args


def run(args: argparse.Namespace) -> int:
    return dashboard_run.dashboard(args, tour=True)
