"""`fetchviz export FILE`: a recording written in formats other tools open (HAR, Chrome
trace, CSV)."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys

from fetchviz.cli import recorded
from fetchviz.cli.args import UsageError


def parser() -> argparse.ArgumentParser:
    parser = recorded.parser("export", "Write a recording in formats other tools open.")
    parser.add_argument("--har", metavar="OUT", help="HAR 1.2: devtools' network panel")
    parser.add_argument("--trace", metavar="OUT", help="Chrome Trace Event JSON: Perfetto")
    parser.add_argument("--csv", metavar="OUT", help="a row per request")
    return parser


def parse(argv: list[str]) -> argparse.Namespace:
    args = parser().parse_args(argv)
    if not (args.har or args.trace or args.csv):
        raise UsageError("say what to write: --har OUT, --trace OUT and/or --csv OUT")
    return args


def run(args: argparse.Namespace) -> int:
    return recorded.offline("export", lambda: _export(args))


def _export(args: argparse.Namespace) -> int:
    from fetchviz.records.export import csv_rows, to_har, to_trace, write_aside

    recording = recorded.load(args.file)
    if args.har:
        write_aside(args.har, json.dumps(to_har(recording), indent=1))
    if args.trace:
        write_aside(args.trace, json.dumps(to_trace(recording)))
    if args.csv:
        text = io.StringIO()
        csv.writer(text).writerows(csv_rows(recording))
        write_aside(args.csv, text.getvalue())
    written = [path for path in (args.har, args.trace, args.csv) if path]
    print(f"fetchviz export: wrote {', '.join(written)}", file=sys.stderr)
    return 0
