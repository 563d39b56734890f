"""The commands that work from a recording, with no server and no network: replay, export."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys

from fetchviz.records.recording import Recording, RecordingError, read_recording
from fetchviz.runs import tuning


def load(path: str) -> Recording:
    """The recording, or RecordingError with one line to show (exit 2)."""
    recording = read_recording(path)
    if not recording.runs:
        raise RecordingError(f"{path}: the recording holds no run")
    if recording.truncated:
        print(
            f"fetchviz: {path} was cut short (the process writing it was stopped): "
            "it plays what it holds",
            file=sys.stderr,
        )
    return recording


def replay(args: argparse.Namespace) -> int:
    from fetchviz.runs.headless import print_json, print_table

    recording = load(args.file)
    if args.json or args.headless:
        from fetchviz.records.replay import replayed_state

        runs = [replayed_state(run) for run in recording.runs]
        config = recording.runs[0].config
        (print_json if args.json else print_table)(config, runs, sys.stdout)
        return 0
    from fetchviz.records.replay import ReplaySource

    source = ReplaySource(recording, args.speed)
    with tuning.dashboard_settings():
        from fetchviz.ui.app import FetchvizApp  # Textual loads only for the dashboard

        first = recording.runs[0]
        app = FetchvizApp(first.config, source=source, theme=args.theme)
        app.run()
    return app.return_code or 0


def export(args: argparse.Namespace) -> int:
    from fetchviz.records.export import csv_rows, to_har, to_trace, write_aside

    recording = load(args.file)
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
