"""`fetchviz keys`: every action, its keys (the keymap's, where it gives them), the modes it
belongs to and what it does, as plain columns. No Textual here: a script can read them."""

from __future__ import annotations

import argparse
import sys

from fetchviz.cli import keymap
from fetchviz.cli.args import Parser, add_keymap, one_line
from fetchviz.core.actions import ACTIONS, KeymapError, remapped, table

HEADER = ("id", "keys", "modes", "what it does")


def parser() -> Parser:
    parser = Parser(
        prog="fetchviz keys",
        description="Every action: its id (for --keymap), keys, modes and what it does.",
    )
    add_keymap(parser)
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    return parser().parse_args(argv)


def run(args: argparse.Namespace) -> int:
    """The table; with a keymap file that cannot apply, the defaults all the same (the ids
    are what it takes to mend the file), the reason on stderr and exit 2."""
    problem = None
    try:
        chosen = keymap.chosen(args.keymap)
    except KeymapError as exc:
        chosen, problem = None, exc
    rows = [HEADER, *table(ACTIONS if chosen is None else remapped(chosen.keys))]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        print("  ".join([*cells, row[-1]]))
    if problem is not None:
        print(one_line(f"fetchviz keys: {problem} (the defaults are shown)"), file=sys.stderr)
        return 2
    return 0
