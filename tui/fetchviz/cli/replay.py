"""`fetchviz replay FILE`: a recording played back on the dashboard with its recorded timing,
or printed as --headless and --json printed it."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from fetchviz.cli import keymap, recorded
from fetchviz.cli.args import UsageError, add_keymap, add_theme, speed
from fetchviz.core.actions import REPLAY, key_help
from fetchviz.records.recording import Recording

if TYPE_CHECKING:
    from fetchviz.core.config import BaselineKey, Config
    from fetchviz.core.model import RunState

# What print_table advises for an estimated baseline: a replay can only play what it holds.
MEASURE = (
    "the recording holds no sync run: to measure it, record one (fetchviz -s sync … --record FILE)"
)


def parser() -> argparse.ArgumentParser:
    parser = recorded.parser(
        "replay",
        "Play a recording (--record FILE) back: no server, no network.",
        f"Keys: {key_help(REPLAY)}.",
    )
    parser.add_argument(
        "--speed", type=speed, default=1.0, metavar="X", help="0.1 to 10 (default 1)"
    )
    parser.add_argument("--headless", action="store_true", help="no UI: the table")
    parser.add_argument("--json", action="store_true", help="the JSON --json printed")
    add_theme(parser)
    add_keymap(parser)
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    args = parser().parse_args(argv)
    if args.json and args.headless:
        raise UsageError("--json is headless already; give one of the two")
    return args


def run(args: argparse.Namespace) -> int:
    return recorded.offline("replay", lambda: _replay(args))


def _replay(args: argparse.Namespace) -> int:
    recording = recorded.load(args.file)
    if (args.json or args.headless) and recording.runs[0].traced:
        return _traced(recording, args.json)
    if args.json or args.headless:
        from fetchviz.core.baseline import Baselines
        from fetchviz.records.replay import replayed_state
        from fetchviz.runs.headless import print_json, print_table

        # Runs are weighed against the sync baseline of their own settings: a recorded sweep
        # holds N = 1 to 1,000, and each was ranked against the first run's N.
        runs = [replayed_state(run) for run in recording.runs]
        groups: dict[BaselineKey, tuple[Config, list[RunState]]] = {}
        known = Baselines()  # as the session knew it: a sample scales to any N, a sync run not
        for recorded_run, state in zip(recording.runs, runs, strict=True):
            config = recorded_run.config
            groups.setdefault(config.baseline_key(), (config, []))[1].append(state)
            known.record(config, state)
        if args.json:
            print_json(next(iter(groups.values()))[0], runs, sys.stdout, known)
            return 0
        for i, (config, alike) in enumerate(groups.values()):
            if i:
                print(file=sys.stdout)
            # A replay has no -s: a baseline is measured when it is recorded.
            print_table(config, alike, sys.stdout, MEASURE, known)
        return 0
    keys = keymap.for_screen(args.keymap)
    from fetchviz.records.replay import ReplaySource
    from fetchviz.ui import launch  # Textual loads only for the screens

    return launch.replay(ReplaySource(recording, args.speed), theme=args.theme, keymap=keys)


def _traced(recording: Recording, as_json: bool) -> int:
    """A traced program's recording, as fetchviz trace --json or --headless printed it."""
    from fetchviz.core.trace import TraceState
    from fetchviz.records.replay import replayed_state
    from fetchviz.trace.report import print_json, print_table

    states = [replayed_state(run) for run in recording.runs]
    traced = [state for state in states if isinstance(state, TraceState)]
    if as_json:
        print_json(traced, sys.stdout, recording.runs[0].config.url or None)
        return 0
    for i, state in enumerate(traced):
        if i:
            print()
        print_table(state, sys.stdout)
    return 0
