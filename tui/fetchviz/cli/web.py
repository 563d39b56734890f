"""`fetchviz web`: the dashboard in a browser (textual-serve), a dashboard of its own per tab,
its options checked here, once, rather than as a blank page in every tab."""

from __future__ import annotations

import argparse

from fetchviz.cli import keymap, tour
from fetchviz.cli.args import Parser, UsageError, add_keymap, checked, dashboard_parser, whole


def parser() -> Parser:
    parser = Parser(
        prog="fetchviz web",
        usage="fetchviz web [--host H] [--port P] [DASHBOARD OPTIONS]",
        description="The dashboard in a browser (textual-serve): a dashboard of its own per tab.",
        epilog="Every option of the dashboard is accepted (see fetchviz --help).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=whole(0, 65535), default=0, help="port (default 0: a free one)"
    )
    parser.add_argument("--tour", action="store_true", help="each tab takes the tour")
    add_keymap(parser)  # web's own: each tab is given its absolute path
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    """web's own options; the rest are the dashboard's, checked now."""
    args, rest = parser().parse_known_args(argv)
    for flag in ("--headless", "--json"):
        if flag in rest:
            raise UsageError(f"{flag} has no screen to show in a browser; drop it")
    if any(arg == "--record" or arg.startswith("--record=") for arg in rest):
        raise UsageError(
            "--record: every tab would write the same file; record with fetchviz --record, "
            "then fetchviz web is for live runs"
        )
    if args.tour:
        tour.parse(rest)
        args.dashboard = ["tour", *rest]
    else:
        checked(dashboard_parser(), rest)
        args.dashboard = rest
    return args


def run(args: argparse.Namespace) -> int:
    chosen = keymap.chosen(args.keymap)  # the user's file too: a bad one is exit 2 here
    given = [] if chosen is None else ["--keymap", chosen.path]
    from fetchviz.ui.web import run_web  # aiohttp and textual-serve: for web alone

    return run_web(args.host, args.port, [*args.dashboard, *given])
