"""`fetchviz web`: the dashboard in a browser (textual-serve), a dashboard of its own per tab,
its options checked here, once, rather than as a blank page in every tab."""

from __future__ import annotations

import argparse

from fetchviz.cli import keymap, tour
from fetchviz.cli.args import Parser, add_address, add_keymap, add_run_options, check

NO_UI = "a tab shows the dashboard already; drop it (fetchviz --headless runs with no UI)"
# The dashboard's options web has not: its --help does not show them.
REFUSED = {
    "--headless": NO_UI,
    "--json": NO_UI,
    "--record": "every tab would write the same file; record with fetchviz --record, "
    "then fetchviz web is for live runs",
}


def _own(parser: Parser) -> Parser:
    """web's own options."""
    add_address(parser)
    parser.add_argument(
        "--tour", action="store_true", help="each tab takes the tour (-s NAME and --all: no)"
    )
    return parser


def parser() -> Parser:
    """web's own options, then the dashboard's it hands each tab."""
    parser = _own(
        Parser(
            prog="fetchviz web",
            usage="fetchviz web [--host H] [--port P] [--tour] [OPTIONS]",
            description="The dashboard in a browser (textual-serve): a dashboard of its own "
            "per tab, given the dashboard's options below.",
            refused=REFUSED,
        )
    )
    add_run_options(parser, leave_out=REFUSED)
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    """Every option checked now; the dashboard's handed on to each tab as they were typed."""
    args = parser().parse(argv)
    (tour.check if args.tour else check)(args)
    # What is not web's own, verbatim (a unique abbreviation of web's own is web's here too);
    # --keymap is web's: each tab is given its absolute path.
    own = _own(Parser(add_help=False))
    add_keymap(own)
    rest = own.parse_known_args(argv)[1]
    args.dashboard = ["tour", *rest] if args.tour else rest
    return args


def run(args: argparse.Namespace) -> int:
    chosen = keymap.chosen(args.keymap)  # the user's file too: a bad one is exit 2 here
    given = [] if chosen is None else ["--keymap", chosen.path]
    from fetchviz.ui.web import run_web  # aiohttp and textual-serve: for web alone

    return run_web(args.host, args.port, [*args.dashboard, *given])
