"""`fetchviz keys`: every action, its keys (the keymap's, where it gives them), the modes it
belongs to and what it does, as plain columns. No Textual here: a script can read them."""

from __future__ import annotations

import argparse
import sys
import textwrap

from fetchviz.cli import keymap
from fetchviz.cli.args import Parser, add_keymap, one_line
from fetchviz.core.actions import ACTIONS, KeymapError, remapped, table
from fetchviz.core.timeline import terminal_width

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
    # On a terminal narrower than a row (80 columns: every row wrapped, from column 0), what
    # it does goes under the row, indented; a pipe's rows stay whole, for a script to read.
    room = terminal_width(sys.stdout)
    lines = [
        [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)] for row in rows
    ]
    under = room is not None and any(
        len("  ".join([*cells, row[-1]])) > room for cells, row in zip(lines, rows, strict=True)
    )  # decided once: one table, one layout
    for cells, row in zip(lines, rows, strict=True):
        if not under:
            print("  ".join([*cells, row[-1]]))
            continue
        assert room is not None
        print("  ".join(cells).rstrip())
        for part in textwrap.wrap(row[-1], max(20, room - 4)):
            print(f"    {part}")
    if problem is not None:
        print(one_line(f"fetchviz keys: {problem} (the defaults are shown)"), file=sys.stderr)
        return 2
    return 0
