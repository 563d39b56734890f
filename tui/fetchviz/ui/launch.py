"""The UI's entry points: each command that shows a screen calls one of these, with what the
command line made. Textual loads here, and only here."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from fetchviz.core.actions import remapped
from fetchviz.core.catalog import Strategy
from fetchviz.core.config import Config
from fetchviz.core.session import Session, catalog_of, compared
from fetchviz.core.source import EventSource
from fetchviz.core.tour import Tour
from fetchviz.runs import tuning
from fetchviz.runs.server import EmbeddedServer

if TYPE_CHECKING:
    from fetchviz.records.replay import ReplaySource
    from fetchviz.trace.program import Program
    from fetchviz.trace.source import TraceFeed, TraceSource
    from fetchviz.ui.app import FetchvizApp
    from fetchviz.ui.screens.sweep import SweepScreen


def dashboard_app(
    config: Config,
    strategies: Sequence[Strategy] = (),
    server: EmbeddedServer | None = None,
    source: EventSource | None = None,
    *,
    compare_all: bool = False,
    tour: bool = False,
    theme: str | None = None,
    keymap: Mapping[str, str] | None = None,
) -> FetchvizApp:
    """The live dashboard, or the tour, ready to run: its first run starts once it shows."""
    from fetchviz.runs.runner import Runner
    from fetchviz.ui.app import FetchvizApp
    from fetchviz.ui.screens.dashboard import DashboardScreen
    from fetchviz.ui.screens.tour import TourScreen

    source = source if source is not None else Runner()
    keys = dict(keymap or {})
    actions = remapped(keys)
    catalog = catalog_of(strategies, actions)
    session = Session(
        config,
        catalog,
        source,
        selected=strategies[0] if strategies else None,
        tour=Tour(compared=len(compared(catalog, tour=True))) if tour else None,
    )

    def first() -> DashboardScreen:
        if tour:
            return TourScreen(session, server)
        return DashboardScreen(session, server, launch="compare" if compare_all else "run")

    return FetchvizApp(first, source, server, theme, keys, actions, session)


def replay_app(
    source: ReplaySource, theme: str | None = None, keymap: Mapping[str, str] | None = None
) -> FetchvizApp:
    """A recording played back on the dashboard."""
    from fetchviz.records.playback import ReplaySession
    from fetchviz.ui.app import FetchvizApp
    from fetchviz.ui.screens.replay import ReplayScreen

    keys = dict(keymap or {})
    actions = remapped(keys)
    if source.recording.runs and source.recording.runs[0].traced:  # fetchviz trace --record
        from fetchviz.trace.recorded import TracePlayback
        from fetchviz.ui.screens.trace_replay import TraceReplayScreen

        playback = TracePlayback(source)
        screen = TraceReplayScreen(playback)
        return FetchvizApp(lambda: screen, playback, None, theme, keys, actions)
    session = ReplaySession(source, actions)
    return FetchvizApp(
        lambda: ReplayScreen(session, actions), source, None, theme, keys, actions, session
    )


def sweep_app(
    screen: SweepScreen, keymap: Mapping[str, str] | None = None, theme: str | None = None
) -> FetchvizApp:
    """`fetchviz sweep` at a terminal: the sweep's screen alone; q quits."""
    from fetchviz.ui.app import FetchvizApp

    screen.standalone = True  # its escape cancels and stays: q quits
    keys = dict(keymap or {})
    return FetchvizApp(lambda: screen, None, None, theme, keys, remapped(keys))


def sweep(
    config: Config,
    strategies: Sequence[Strategy],
    sizes: Sequence[int],
    run_sequential_up_to: int | None,
    server: EmbeddedServer | None,
    source: EventSource,
    keymap: Mapping[str, str] | None = None,
    theme: str | None = None,
) -> int:
    """`fetchviz sweep` on screen: the chart, drawn as its runs end."""
    from fetchviz.ui.screens.sweep import SweepScreen

    screen = SweepScreen(config, strategies, sizes, run_sequential_up_to, server, lambda: source)
    return run(sweep_app(screen, keymap, theme))


def trace(
    program: Program,
    server: EmbeddedServer | None,
    theme: str | None = None,
    keymap: Mapping[str, str] | None = None,
    record: Callable[[TraceSource], TraceFeed] | None = None,
) -> int:
    """`fetchviz trace` on screen; the exit code is the program's last run's."""
    from fetchviz.trace.source import TraceSource
    from fetchviz.ui.app import FetchvizApp
    from fetchviz.ui.screens.trace import TraceScreen

    keys = dict(keymap or {})
    live = TraceSource(
        program,
        live=True,
        url=server.url() if server is not None else None,
        cacert=server.cacert if server is not None else None,
    )
    source = record(live) if record is not None else live
    screen = TraceScreen(source)
    app = FetchvizApp(lambda: screen, source, server, theme, keys, remapped(keys))
    code = run(app)
    state = screen.state
    if code == 0 and live.quit_code is not None:  # quit mid-run: the program was killed
        return live.quit_code
    if code == 0 and state is not None and state.exit_code is not None:
        return state.exit_code
    return code


def run(app: FetchvizApp) -> int:
    """Run an app with the process tuned for a dashboard; its exit code."""
    with tuning.dashboard_settings():
        app.run()
    return app.return_code or 0


def dashboard(
    config: Config,
    strategies: Sequence[Strategy],
    server: EmbeddedServer | None,
    source: EventSource,
    *,
    compare_all: bool = False,
    tour: bool = False,
    theme: str | None = None,
    keymap: Mapping[str, str] | None = None,
) -> int:
    """The live dashboard (or the tour): returns the exit code."""
    app = dashboard_app(
        config,
        strategies,
        server,
        source,
        compare_all=compare_all,
        tour=tour,
        theme=theme,
        keymap=keymap,
    )
    return run(app)


def replay(
    source: ReplaySource, theme: str | None = None, keymap: Mapping[str, str] | None = None
) -> int:
    """A recording played back on the dashboard."""
    return run(replay_app(source, theme, keymap))
