"""The board, the run panel and the rows: what the dashboard, the tour and a replay show alike.

A board screen draws its session; it consumes the App's queue of events, applies them to the
session and draws the result at most once per frame. The modes' own keys are in their
screens (dashboard.py, tour.py, replay.py); the keys here are those every board mode has.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.widgets import Digits, Footer

from fetchviz.core.baseline import Baseline, verdict
from fetchviz.core.catalog import Strategy
from fetchviz.core.config import DEFAULT_TIMEOUT
from fetchviz.core.model import RunState
from fetchviz.core.session import Applied, Session
from fetchviz.core.source import Batch
from fetchviz.runs import tuning
from fetchviz.ui.dialogs.details import Details, failure_summary, task_details
from fetchviz.ui.pacing import FramePacer
from fetchviz.ui.screens.plain import PlainScreen
from fetchviz.ui.widgets.board import StrategyBoard
from fetchviz.ui.widgets.code import CodePanel
from fetchviz.ui.widgets.layout import Band, Column, Steady, set_titles
from fetchviz.ui.widgets.summary import Summary
from fetchviz.ui.widgets.table import TableHeader, TaskTable

if TYPE_CHECKING:
    from fetchviz.ui.app import FetchvizApp

# Every frame drawn takes CPU from the fetches being measured: draw no more than needed.
FRAME = 1 / 60  # events are applied and drawn at most this often
TICK = 1 / 15  # the clock on screen moves at most this often, while a run goes
CODE_BESIDE = 140  # narrower than this, the code panel takes the rows' place
TOP_LEAST = 8  # a short screen's board and run panel: six lines each, inside their borders
HEADLINE_WIDTH = 150  # from here, the ratio also shows in large type (a projector's back row)
PHASE_LEGEND = (
    "[$text-disabled]░[/]wait [$accent]█[/]connect [$secondary]█[/]tls "
    "[$success]█[/]server [$primary]█[/]body"
)


class BoardScreen(PlainScreen[None], inherit_bindings=False):
    """A session on screen: its board, its run, its rows."""

    MODE: ClassVar[str] = "dashboard"

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.pacer = FramePacer(min_interval=FRAME, tick=TICK)
        # Two clocks: the wall's, for pacing frames; the source's, for what the screen says
        # (a replay's runs at its own speed). The live source's is the wall's.
        self.now: Callable[[], float] = session.source.now
        self.frame_time = self.now()  # the source's clock as the screen shows it
        self.ticked_at = time.perf_counter()  # on the wall's, when it last moved

    @property
    def fetchviz(self) -> FetchvizApp:
        from fetchviz.ui.app import FetchvizApp

        assert isinstance(self.app, FetchvizApp)
        return self.app

    def compose(self) -> ComposeResult:
        # Kept at hand: a DOM query every frame costs more than the frame's own work.
        self.board = StrategyBoard(self.board_strategies(), id="board")
        self.summary = Summary(id="summary")
        self.description = Steady(id="description")
        self.header = TableHeader(id="header")
        self.table = TaskTable(id="table", clock=lambda: self.frame_time)
        self.code = CodePanel(id="source")
        self.code_frame = ScrollableContainer(self.code, id="code")
        self.rows = Column(self.header, self.table, id="rows")
        self.headline = Digits("", id="headline")  # the ratio in large type, on a wide screen
        with Band(id="top"):
            yield self.board
            yield self.summary
            yield self.headline
        yield self.description
        with Band(id="body"):
            yield self.rows
            yield self.code_frame
        yield Footer(compact=True, show_command_palette=False)  # ? says ctrl+p

    def on_mount(self) -> None:
        self.board.border_title = "strategies"
        self.summary.border_title = "run"
        self.headline.display = self.app.size.width >= HEADLINE_WIDTH
        self.code_frame.display = False
        self.top = self.query_one("#top")
        self._fit_top()
        # What is drawn is fitted to the widgets' widths: after each layout (a resize, the code
        # panel shown or hidden), draw again, at the new sizes, even with no run going.
        self.screen_layout_refresh_signal.subscribe(self, lambda _screen: self.redraw())
        if self.session.current is not None:
            self.table.show(self.session.current)
        self.show_code()
        self._consume_events()
        self.mounted()
        self.redraw()

    def mounted(self) -> None:
        """A mode's own start, once the board is up. (Textual calls every class's on_mount
        itself: a mode that defined its own and called super() would mount twice.)"""

    # Events

    @work(group="events")
    async def _consume_events(self) -> None:
        """Apply whatever has arrived and redraw: at most once per frame, and at least once
        per tick while a run goes (elapsed time and growing bars move without events too)."""
        queue = self.fetchviz.event_queue
        next_frame = 0.0
        while True:
            # At most one frame per interval: what arrives meanwhile joins the next one. (A
            # batch is never held across an await: a screen that goes loses none.)
            if (wait := next_frame - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            running = self.session.running
            batches: list[Batch] = []
            if queue.empty():
                timeout = None
                if running:  # until the clock on screen is due to move
                    next_tick = self.ticked_at + self.pacer.tick_interval(self.session.busy())
                    timeout = max(0.0, next_tick - time.perf_counter())
                with contextlib.suppress(TimeoutError):  # the tick came first: draw it
                    batches.append(await asyncio.wait_for(queue.get(), timeout))
            while not queue.empty():
                batches.append(queue.get_nowait())
            applied = self.session.apply(batches)
            self.applied(applied)
            started = time.perf_counter()
            ticked = self.redraw(applied.touched)
            if running:
                next_frame = started + self.pacer.pause(self.session.busy(), ticked)
            else:
                next_frame = started + FRAME

    def applied(self, applied: Applied) -> None:
        """What follows from the events just applied; a mode adds its own."""
        if applied.finished_current:
            tuning.release_memory()

    # Drawing

    def shown(self) -> bool:
        """False once quitting has begun taking the screen down: nothing is left to draw."""
        return self.table.is_attached

    def redraw(self, touched: set[int] | None = None) -> bool:
        """Show the session's state. `touched`: the rows events changed since the last
        redraw (None: any may have). Says whether the clock on screen moved."""
        if not self.shown():
            return False
        self._fit_top()
        session = self.session
        run = session.current
        if run is not None and self.table.run is not run:  # another run is on screen now
            self.table.show(run)
            self.show_code()
            touched = None
        before = self.frame_time
        now = self._tick(run is not None and not run.done)
        # The run on screen is weighed as its mode says (the tour: as it was when that run
        # ended), and the board's rows with it: one screen, one sync figure.
        baseline = self.baseline_for(run, session.baseline())
        running = run.strategy if run is not None and not run.done else None
        self.board.show(
            session.selected,
            running,
            session.results(),
            baseline.elapsed if baseline else None,
            session.best_first,
            estimated=baseline is not None and not baseline.measured,
        )
        title = "compare all · best first" if session.best_first else "strategies"
        if self.board.shown_part:  # "best first · 1–6 of 11" fits a board 80 columns make
            title = f"{'best first' if session.best_first else title} · {self.board.shown_part}"
        set_titles(
            self.board,
            title,
            # The legend, where it costs no line: the phases' shades once a run has them.
            PHASE_LEGEND if run is not None and run.timed_phases else "rows: ░ waiting █ in flight",
        )
        self.description.set_content(self.description_text(baseline))
        thread_width = run.thread_width if run is not None else 0
        self.header.show(
            self.table.scrollable_content_region.width, self.table.scale(), thread_width
        )
        self.summary.show(
            run,
            # The run's clock, unlike the rows' bars, is one line: it shows the time now, so it
            # never reads less than a task that has finished took.
            self.now() if run is not None and not run.done else now,
            baseline,
            self._comparison(run, baseline),
            run.loop_lag(now) if run is not None else None,
        )
        set_titles(self.summary, "run", self.target(max(10, self.summary.size.width - 4)))
        if self.headline.display:
            self._show_headline(run, baseline)
        self.table.refresh_rows(touched)
        return now != before

    def board_strategies(self) -> tuple[Strategy, ...]:
        """The board's lines: the session's catalog (a mode may show fewer)."""
        return self.session.catalog

    def rows_wanted(self) -> int:
        """How many of the run's rows a mode keeps on a short screen, before the board's
        lines: the dashboard none (its board is its menu: whole where the screen has room for
        TOP_LEAST lines at all); the tour its run's."""
        return 0

    def _fit_top(self) -> None:
        """The board's band: a line per strategy and the border (the user's own lengthen
        it), shortened down to TOP_LEAST where the rows the mode wants would not fit."""
        whole = max(10, len(self.board.strategies) + 2)
        # Below the band: the description, the rows' header, the rows, the footer.
        below = (self.description.outer_size.height or 1) + 1 + self.rows_wanted() + 1
        height = max(TOP_LEAST, min(whole, self.size.height - below)) if self.size.height else whole
        if self.top.styles.height is None or self.top.styles.height.value != height:
            self.top.styles.height = height

    def baseline_for(self, run: RunState | None, now: Baseline | None) -> Baseline | None:
        """The baseline the run on screen is weighed against: the session's, now."""
        return now

    def _tick(self, running: bool) -> float:
        """The time this frame shows. Events are drawn on the next frame, but what only moves
        with the clock (elapsed, the bars of requests in flight) moves tick by tick: a line
        redrawn costs the CPU that the run needs."""
        wall = time.perf_counter()
        interval = self.pacer.tick_interval(self.session.busy())
        if not running or wall - self.ticked_at >= interval:
            self.ticked_at, self.frame_time = wall, self.now()
        return self.frame_time

    def _comparison(self, run: RunState | None, baseline: Baseline | None) -> str:
        if run is None:
            return ""
        if not run.done:
            return "measuring the sync baseline…" if run.strategy == "sync" else "running…"
        said = verdict(run, baseline)
        if said == "baseline":  # the sync run that measured it
            said = "this is the sync baseline"
        elif said.startswith("baseline"):  # "the baseline · 8 of 10 ok · f: why" fits 80×24
            said = f"the {said}"
        return f"{said} · f: why" if run.failed or run.error else said

    def _show_headline(self, run: RunState | None, baseline: Baseline | None) -> None:
        """The run's ratio to the sync baseline in large type, once it has one worth saying."""
        ratio, title = "", "vs sync"
        # Only a run whose every request was answered: a partial one's ratio needs its
        # "3 of 4 ok" beside it, which the run panel gives and large type would not.
        if run is not None and run.all_ok and baseline is not None and run.elapsed(0) > 0:
            faster = baseline.elapsed / run.elapsed(0)
            if 0.95 <= faster <= 1.05:  # as compare() says it
                ratio, title = "1.0x", "as fast as sync"
            elif faster > 1:
                ratio, title = f"{faster:.1f}x", "faster than sync"
            else:
                ratio, title = f"{1 / faster:.1f}x", "slower than sync"
        if self.headline.value != ratio:
            self.headline.update(ratio)
        estimated = baseline is not None and not baseline.measured
        set_titles(self.headline, title, "sync estimated" if estimated else "")

    def description_text(self, baseline: Baseline | None) -> Text:
        """Under the board: the strategy and what it shows."""
        shown = self.session.selected
        return Text.assemble(
            (self.next_run(), "bold yellow"),
            (shown.id, "bold"),
            f" · {shown.summary}",
            no_wrap=True,
            overflow="ellipsis",
        )

    def next_run(self) -> str:
        """What + and - changed, said on the description line (a toast per key press took
        a layout of the whole screen, 15-65 ms during a big run, and piled up)."""
        session = self.session
        tasks = session.config.tasks
        if tasks == session.current_config.tasks:
            if session.at_most:
                return f"N = {tasks:,} is the most · "
            return "N = 1 is the least · " if session.at_least else ""
        keeps = (
            f", this compare-all keeps {session.current_config.tasks:,}" if session.pending else ""
        )
        most = " (the most)" if session.at_most else " (the least)" if session.at_least else ""
        return f"next run: N = {tasks:,}{most}{keeps}, r runs it · "

    def target_parts(self) -> list[tuple[int, str]]:
        """The settings of the run on screen, each with its rank: where the panel's frame
        has no room for them all, the highest ranks go first (a default timeout first)."""
        c = self.session.current_config
        if c.delay_ms is not None:
            where = f"{c.delay_ms} ms" + (f" +0..{c.jitter_ms}" if c.jitter_ms else "")
        elif len(c.targets) > 1:
            where = f"{len(c.targets)} URLs in turn"
        else:
            where = c.url
        parts = [(0, f"N {c.tasks}"), (0, where)]
        parts += [(2, f"workers {c.workers}")] if c.workers else []
        parts += [(1, f"limit {c.limit}")] if c.limit else []
        parts += [(1, c.loop)] if c.loop != "asyncio" else []
        return [*parts, (3 if c.timeout == DEFAULT_TIMEOUT else 1, f"timeout {c.timeout:g} s")]

    def target(self, room: int | None = None) -> str:
        """The settings, in `room` columns: `N 10 · 100 ms · limit 3 · timeout…` lost what
        came last; now what matters least goes whole."""
        parts = self.target_parts()
        text = " · ".join(part for _, part in parts)
        while room is not None and len(text) > room and len(parts) > 1:
            least = max(rank for rank, _ in parts)
            if least == 0:
                break
            drop = max(i for i, (rank, _) in enumerate(parts) if rank == least)
            parts = parts[:drop] + parts[drop + 1 :]
            text = " · ".join(part for _, part in parts)
        return text

    # The code panel

    def code_shown(self) -> bool:
        """The code panel is on screen: what it shows is kept up to date only then (it is
        highlighted again when it opens), so a launch pays nothing for it."""
        return self.shown() and self.code_frame.display

    def show_code(self) -> None:
        """The selected strategy's code, as it ran where that is known."""
        if self.code_shown():
            self.code.show(self.session.selected, self.session.selected_source)

    def action_toggle_code(self) -> None:
        self.code_frame.display = not self.code_frame.display
        self.show_code()
        self._fit_code_panel()

    def _fit_code_panel(self, width: int | None = None) -> None:
        """Beside the rows where there is room; in their place on a narrow screen. `width`:
        the screen's new width, on a resize (the app's size may not have caught up yet)."""
        width = self.app.size.width if width is None else width
        self.rows.display = not (self.code_frame.display and width < CODE_BESIDE)
        # The keys go where the eyes are: in the rows' place the code scrolls with ↑↓ and
        # page keys (at 80×24 it shows 7 or 8 lines of a strategy's 10-30); beside them, the
        # rows'.
        if not self.rows.display:
            self.code_frame.focus()
        elif self.focused is self.code_frame or self.focused is None:
            self.table.focus()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_code_panel(event.size.width)
        self.headline.display = event.size.width >= HEADLINE_WIDTH

    # Windows over the board

    def action_failures(self) -> None:
        """Every reason the run on screen, and its tasks, failed: whole, with the rows."""
        if self.session.current is not None:
            self.app.push_screen(Details("why it failed", failure_summary(self.session.current)))

    def action_details(self) -> None:
        self.table.choose()

    def on_task_table_chosen(self, message: TaskTable.Chosen) -> None:
        run = self.session.current
        if run is not None and message.index < len(run.tasks):
            text = task_details(run, run.tasks[message.index])
            self.app.push_screen(Details(f"task {message.index}", text))
