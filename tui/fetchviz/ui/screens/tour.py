"""`fetchviz tour`: the tutorial's story on the dashboard, one key a step; escape leaves it for
the dashboard as it is."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import SystemCommand
from textual.binding import BindingType

from fetchviz.core.actions import TOUR, keys_of
from fetchviz.core.baseline import Baseline
from fetchviz.core.catalog import Strategy
from fetchviz.core.model import RunState
from fetchviz.core.session import compared
from fetchviz.core.tour import Tour
from fetchviz.ui.keys import bindings
from fetchviz.ui.screens.board import CODE_BESIDE
from fetchviz.ui.screens.dashboard import DashboardScreen

LEAVE_WINDOW = 3.0  # seconds in which a second escape leaves the tour


class TourScreen(DashboardScreen, inherit_bindings=False):
    """The dashboard's runs, with the tour's steps for keys and its captions for a story."""

    MODE: ClassVar[str] = TOUR
    BINDINGS: ClassVar[list[BindingType]] = bindings(TOUR)
    past_the_end = False  # → was pressed at the last step: the description says so
    leave_asked_at: float | None = None  # escape pressed once, when: a second one leaves

    @property
    def tour(self) -> Tour:
        assert self.session.tour is not None
        return self.session.tour

    def mounted(self) -> None:
        super().mounted()
        self.description.add_class("tour")
        self.summary.measure_key = None  # the tour has no b: its sync step measures it
        self.code_frame.display = self.app.size.width >= CODE_BESIDE  # beside the rows
        self.show_code()

    def first_run(self) -> None:
        self.step()

    def step(self) -> None:
        """Show the tour's step: as recorded if it ran (← shows what was seen), else run it."""
        self.workers.cancel_group(self, "start")
        start = self.session.tour_step()
        if start is not None:
            self.start_run(*start)
            return
        self.redraw()

    def show_code(self) -> None:
        """The step's code, with what is new since the step it builds on marked."""
        session, step = self.session, self.tour.step
        if not self.code_shown():
            return
        if step.strategy == session.selected.id:
            since = step.after or ""
            self.code.show(session.selected, session.selected_source, step.changed(), since)
        else:
            self.code.show(session.selected, session.selected_source)

    def board_strategies(self) -> tuple[Strategy, ...]:
        """What the tour runs: the newer clients it never runs stood as three "—" lines, and
        at 80×24 counted in "best first · 1–6 of 11" while the ranking's end was cut off."""
        return tuple(compared(self.session.catalog, tour=True))

    def rows_wanted(self) -> int:
        """Every row of a step's run, up to a screenful: the staircase and the waves are the
        story (at 80×24 the whole board left 5 of the 10). The last step's story is the
        ranking: the whole board, its slowest, which the caption names, too."""
        if self.tour.step.strategy is None:
            return 0
        return min(self.session.current_config.tasks, 12)

    def baseline_for(self, run: RunState | None, now: Baseline | None) -> Baseline | None:
        return self.tour.baseline_for(run, now)

    def description_text(self, baseline: Baseline | None) -> Text:
        """The step, and what to watch in its run or what the run showed, in its own figures."""
        caption = self.tour.caption(baseline)
        return Text.assemble(
            (self.next_run(), "bold yellow"),
            # → at the last step: said on the step's line, not in a toast, which outlived the
            # tour on the dashboard after escape (where escape cancels a run).
            (
                f"{self.leave_key()} again leaves the tour for the dashboard; a step's key stays",
                "bold yellow",
            )
            if self.leave_asked()
            else (
                f"{self.tour.place} is the last: ← goes back, {self.leave_key()} twice leaves the "
                "tour",
                "bold yellow",
            )
            if self.past_the_end
            else (self.tour.header(), "bold"),
            *(f"\n{line}" for line in caption),
            no_wrap=True,
            overflow="ellipsis",
        )

    def leave_key(self) -> str:
        """The key that leaves, as a keymap may have moved it ("esc" says "escape")."""
        key = keys_of("tour.leave", self.fetchviz.actions)
        return "escape" if key == "esc" else key

    def leave_asked(self) -> bool:
        asked = self.leave_asked_at
        return asked is not None and time.monotonic() - asked < LEAVE_WINDOW

    def stay(self) -> None:
        """A step's key (or one of no action) takes back a first escape."""
        self.leave_asked_at = None

    def on_key(self, event: events.Key) -> None:
        if self.leave_asked_at is not None and event.key != "escape":
            self.stay()
            self.redraw()

    def action_rerun(self) -> None:
        """r in the tour runs the step again."""
        self.stay()
        self.past_the_end = False
        strategy = self.tour.step.strategy
        if strategy is None:
            self.action_compare_all()
        else:
            self.run_asked(self.session.by_id[strategy])

    def action_next_step(self) -> None:
        self.stay()
        if self.tour.next():
            self.step()
        else:
            self.past_the_end = True
            self.redraw()

    def action_previous_step(self) -> None:
        self.stay()
        self.past_the_end = False
        if self.tour.previous():
            self.step()

    def action_leave_tour(self, at_once: bool = False) -> None:
        """escape twice in the tour: the dashboard, as it is (a run going on goes on). Once,
        the step's line asks: in a talk, escape is the reflex for "stop this run", and one
        press left the tour for good, its recorded steps with it. `at_once`: the palette's
        "Leave the tour", chosen on purpose."""
        if not at_once and not self.leave_asked():
            self.leave_asked_at = time.monotonic()
            self.redraw()
            self.set_timer(LEAVE_WINDOW, self.redraw)  # the question goes when it lapses
            return
        self.leave_asked_at = None
        self.session.leave_tour()
        # This screen's consumer stops now: the dashboard's takes the queue from its mount.
        self.workers.cancel_group(self, "events")
        dashboard = DashboardScreen(
            self.session, self.server, launch=None, code=self.code_frame.display
        )
        self.app.switch_screen(dashboard)

    def commands(self) -> Iterable[SystemCommand]:
        """No picks in the tour: its steps choose what runs."""
        return ()
