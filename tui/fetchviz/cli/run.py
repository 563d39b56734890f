"""`fetchviz [OPTIONS]`: the dashboard, or with --headless or --json the same runs with no UI.
What every command that runs strategies shares is here too: the embedded server started and
stopped around the runs, and a failure said in one line."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from fetchviz.cli import keymap
from fetchviz.cli.args import checked, config_of, dashboard_parser
from fetchviz.core.catalog import Strategy
from fetchviz.core.config import DEFAULT_DELAY_MS, Config
from fetchviz.core.source import EventSource
from fetchviz.runs import tuning
from fetchviz.runs.procs import raise_open_file_limit
from fetchviz.runs.server import EmbeddedServer

if TYPE_CHECKING:
    from fetchviz.records.recording import RecordingWriter

Work = Callable[[Config, EmbeddedServer | None], int]


def parse(argv: list[str]) -> argparse.Namespace:
    return checked(dashboard_parser(), argv)


def run(args: argparse.Namespace) -> int:
    if args.headless or args.json:  # the user's keymap file is not even read
        return started(args, lambda config, server: _headless(args, config, server))
    return dashboard(args, tour=False)


def dashboard(args: argparse.Namespace, tour: bool) -> int:
    """The dashboard, or the tour, on screen."""
    keys = keymap.for_screen(args.keymap, headless=not tour)  # a bad file: exit 2, at once

    def show(config: Config, server: EmbeddedServer | None) -> int:
        from fetchviz.ui import launch  # Textual loads only for the screens

        events = source(args.record, live=True, server=server)
        try:
            return launch.dashboard(
                config,
                args.strategies,
                server,
                events,
                compare_all=args.all,
                tour=tour,
                theme=args.theme,
                keymap=keys,
            )
        finally:
            say_recorded(events)

    with tuning.collection_deferred():  # the first frame sooner: until it is up, or ends
        return started(args, show)


def started(args: argparse.Namespace, work: Work) -> int:
    """`work` with the runs' settings and the embedded server if they need one, stopped
    after (not drained); SIGTERM unwinds through here too. Returns work's exit code, or 130
    on Ctrl+C, or 1 with a one-line reason."""
    with tuning.terminate_as_exit():
        raise_open_file_limit()
        server = None
        if args.embedded:
            server = EmbeddedServer(
                DEFAULT_DELAY_MS if args.delay is None else args.delay,
                args.jitter or 0,
                args.fail_rate or 0.0,
                tls=bool(args.tls),
            )
        try:
            if server:
                server.start()
            return work(config_of(args, server), server)
        except KeyboardInterrupt:
            print("fetchviz: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # `fetchviz --json | head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
            return 1
        except Exception as exc:  # a traceback on the user's screen is a bug: one line instead
            if os.environ.get("FETCHVIZ_DEBUG"):
                raise
            print(f"fetchviz: {exc} (FETCHVIZ_DEBUG=1 shows the traceback)", file=sys.stderr)
            return 1
        finally:
            if server:
                server.close()


def source(record: str | None, live: bool, server: EmbeddedServer | None = None) -> EventSource:
    """The live runner, recorded to a file if asked; with the embedded server, each run says
    what it cost the server too."""
    from fetchviz.runs.runner import Runner

    runner = Runner(
        live=live,
        server=(lambda: server.pid) if server is not None else None,
        beats=record is not None,
    )
    if record is None:
        return runner
    from fetchviz.records.recording import RecordingSource, RecordingWriter

    return RecordingSource(runner, RecordingWriter(record))


def say_recorded(events: EventSource) -> None:
    """On leaving a screen that recorded, where its runs went (before a talk, nothing said
    that the file was written)."""
    from fetchviz.records.recording import RecordingSource

    if isinstance(events, RecordingSource):
        say_written(events.writer)


def say_written(writer: RecordingWriter) -> None:
    path, runs = writer.path, writer.runs
    played = f": fetchviz replay {path} plays {'it' if runs == 1 else 'them'}" if runs else ""
    print(
        f"fetchviz: {runs} run{'' if runs == 1 else 's'} recorded to {path}{played}",
        file=sys.stderr,
    )


def progress(runs: int) -> Callable[[str], None]:
    """Says on stderr what runs, `what (i/runs)…`, when someone waits at a terminal."""
    shown = sys.stderr.isatty()
    done = iter(range(1, runs + 1))

    def say(what: str) -> None:
        if shown:
            print(f"fetchviz: {what} ({next(done)}/{runs})…", file=sys.stderr)

    return say


def long_wait(strategy: Strategy, config: Config) -> str:
    """For a strategy that fetches one request after another at a known delay, how long it
    will take, where that is long (`-n 5000` of sync: 42 minutes of a silent line)."""
    from fetchviz.runs.sweep import SEQUENTIAL

    if strategy.id not in SEQUENTIAL or config.delay_ms is None:
        return ""
    seconds = config.tasks * config.delay_ms / 1000
    if seconds < 30:
        return ""
    said = f"{seconds // 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
    return f": {config.tasks:,} requests one after another, at least {said}"


def say_caveats(strategies: list[Strategy], config: Config) -> None:
    """On stderr, before the runs: where a client will not keep the rules to the letter."""
    for strategy in strategies:
        caveat = strategy.timeout_caveat(config.timeout)
        if caveat is not None:
            print(f"fetchviz: {caveat}", file=sys.stderr)


def ready(server: EmbeddedServer | None) -> None:
    """Before a run, as the dashboard does: a run after the server died fetches from a new
    one."""
    if server is None:
        return
    if not server.running:
        print("fetchviz: the latency server had stopped: restarting it", file=sys.stderr)
        server.restart()
    server.wait_ready()


def _headless(args: argparse.Namespace, config: Config, server: EmbeddedServer | None) -> int:
    from fetchviz.core.model import RunState
    from fetchviz.runs.headless import print_json, print_table, run_all

    strategies: list[Strategy] = args.strategies
    say_caveats(strategies, config)
    say = progress(len(strategies))

    def before_each(strategy: Strategy) -> None:
        say(strategy.id + long_wait(strategy, config))
        ready(server)

    runs: list[RunState] = []  # filled as runs start: what finished survives a Ctrl+C
    show = print_json if args.json else print_table
    events = source(args.record, live=False, server=server)
    try:
        asyncio.run(run_all(config, strategies, events, before_each=before_each, runs=runs))
    except KeyboardInterrupt:
        if runs:
            show(config, runs, sys.stdout)  # the interrupted run says it was cancelled
        print("fetchviz: interrupted", file=sys.stderr)
        return 130
    show(config, runs, sys.stdout)
    return 0
