"""The live dashboard: pick a strategy with a key, watch its fetches as live rows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import ClassVar

from textual import work
from textual.app import SystemCommand
from textual.binding import BindingType

from fetchviz.core.actions import DASHBOARD
from fetchviz.core.catalog import Strategy
from fetchviz.core.config import Config
from fetchviz.core.session import Applied, Session
from fetchviz.runs import tuning
from fetchviz.runs.server import EmbeddedServer
from fetchviz.runs.user import check
from fetchviz.ui.keys import bindings
from fetchviz.ui.screens.board import BoardScreen


class DashboardScreen(BoardScreen, inherit_bindings=False):
    """Live runs, one on screen at a time; the first starts once the first frame is up."""

    MODE: ClassVar[str] = DASHBOARD
    BINDINGS: ClassVar[list[BindingType]] = bindings(DASHBOARD)

    def __init__(
        self,
        session: Session,
        server: EmbeddedServer | None = None,
        launch: str | None = "run",
        code: bool = False,
    ) -> None:
        super().__init__(session)
        self.server = server
        # "run" the selected strategy, "compare" all; None: the session goes on as it is (the
        # tour just left), its run let go if it had not been yet.
        self.launch = launch
        self.code_at_start = code
        self.caveats_said: set[str] = set()  # each said once: a rerun need not repeat it

    def mounted(self) -> None:
        super().mounted()
        # The first run starts once the first frame is up: drawing a whole screen for the
        # first time costs enough CPU to skew what the run measures.
        if self.code_at_start:
            self.action_toggle_code()
        if self.launch is not None:
            self.call_after_refresh(self.first_run)
        else:
            self.session.begin()

    def first_run(self) -> None:
        if self.launch == "compare":
            self.action_compare_all()
        else:
            self.start_run(self.session.selected)

    def applied(self, applied: Applied) -> None:
        super().applied(applied)
        if applied.start_next is not None:
            self.start_run(*applied.start_next)

    # Runs

    @work(exclusive=True, group="start")
    async def start_run(self, strategy: Strategy, config: Config | None = None) -> None:
        """Cancel what runs, make sure the target answers, start the new run."""
        session = self.session
        session.cancel_current()
        source = None
        if strategy.path is not None:  # the user's file, read again: an edit shows now
            problem = check(strategy)
            if problem:  # the run goes on, and fails saying the same: a result, not a crash
                self.notify(problem, title=f"{strategy.id} cannot run", severity="error", timeout=8)
            source = strategy.source()
        session.select(strategy, source)
        self.show_code()
        if not await self._server_answers():
            return
        tuning.settle_memory()
        self.pacer.reset()
        session.start(strategy, config, source)
        caveat = strategy.timeout_caveat(session.current_config.timeout)
        if caveat is not None and caveat not in self.caveats_said:
            self.caveats_said.add(caveat)
            self.notify(caveat, severity="warning", timeout=6)
        if self.shown():
            self.table.show(session.current)
        self.redraw()
        # The new rows are drawn first (a screenful at once): the run does not share the CPU
        # with that frame. Its time starts in its own process, when it is told to go.
        self.call_after_refresh(session.begin)

    async def _server_answers(self) -> bool:
        """The embedded server, restarted if it died; False when there is none to be had."""
        server = self.server
        if server is not None and not server.running:
            self.notify("The latency server had stopped: restarting it…", timeout=3)
            try:
                server.restart()  # from this thread: the server dies with it
                await asyncio.to_thread(server.wait_ready)
            except (RuntimeError, OSError) as exc:
                self.notify(str(exc), title="latency server", severity="error", timeout=10)
                self.session.close()
                return False
        elif server is not None and self.session.current is None:
            try:  # the first run: the CLI spawned the server, it may not answer yet
                await asyncio.to_thread(server.wait_ready)
            except RuntimeError as exc:
                self.app.exit(return_code=1, message=f"fetchviz: {exc}")
                return False
        return True

    def run_asked(self, strategy: Strategy) -> None:
        """A run the user asked for: it ends any compare-all in progress."""
        self.session.asked()
        self.start_run(strategy)

    # Actions

    def action_pick(self, strategy_id: str) -> None:
        strategy = self.session.by_id[strategy_id]
        if not strategy.installed:
            self.notify(strategy.not_installed() + ", then start fetchviz again.", timeout=6)
            return
        self.run_asked(strategy)

    def action_pick_own(self, place: int) -> None:
        own = self.own_strategies()
        if place < len(own):
            self.run_asked(own[place])
        else:
            have = f"{len(own)} of yours" if own else "none of yours"
            self.notify(
                f"There is no strategy of yours number {place + 1} ({have}): add one with "
                "-s PATH.py:FUNCTION.",
                timeout=4,
            )

    def own_strategies(self) -> list[Strategy]:
        return [strategy for strategy in self.session.catalog if strategy.path is not None]

    def action_rerun(self) -> None:
        self.run_asked(self.session.selected)

    def action_baseline(self) -> None:
        self.run_asked(self.session.by_id["sync"])

    def action_compare_all(self) -> None:
        self.start_run(*self.session.compare_all())

    def action_more(self) -> None:
        self.session.more()
        self.redraw()

    def action_fewer(self) -> None:
        self.session.fewer()
        self.redraw()

    def action_cancel(self) -> None:
        self.session.cancel()
        # A run about to start (waiting for the server to answer) is cancelled too.
        self.workers.cancel_group(self, "start")
        self.redraw()

    def action_sweep(self) -> None:
        """Every strategy at N = 1, 10, 100, 1,000, on log axes: how each one's time grows.
        What runs is cancelled first: the sweep has the machine to itself."""
        self.action_cancel()
        from fetchviz.ui.screens.sweep import SweepScreen  # plotext: for the sweep alone

        # The session's source, quiet: its runs are recorded with the session's (--record).
        quiet = getattr(self.fetchviz.source, "quiet", None)
        self.app.push_screen(
            SweepScreen(
                self.session.config,
                [strategy for strategy in self.session.catalog if strategy.installed],
                server=self.server,
                source=quiet,
            )
        )

    def commands(self) -> Iterable[SystemCommand]:
        """The palette's entries for a user's own strategies (the table has the built-ins)."""
        for strategy in self.session.catalog:
            if strategy.path is not None:
                yield SystemCommand(
                    f"Run {strategy.id}",
                    f"({strategy.key}) {strategy.summary}" if strategy.key else strategy.summary,
                    lambda s=strategy: self.action_pick(s.id),
                )
