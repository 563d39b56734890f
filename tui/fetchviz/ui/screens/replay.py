"""`fetchviz replay`: a recording on the dashboard, in its recorded timing, with its own keys
(pause, speed, the end of a run, the runs before and after). It starts no run."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import BindingType

from fetchviz.core.actions import DASHBOARD, REPLAY, Action, keys_of, of_mode
from fetchviz.core.catalog import Strategy
from fetchviz.records.playback import ReplaySession
from fetchviz.ui.keys import bindings
from fetchviz.ui.screens.board import BoardScreen


class ReplayScreen(BoardScreen, inherit_bindings=False):
    """The recorded runs, played one after another as the session went."""

    MODE: ClassVar[str] = REPLAY
    BINDINGS: ClassVar[list[BindingType]] = bindings(REPLAY)

    def __init__(self, session: ReplaySession, actions: tuple[Action, ...]) -> None:
        super().__init__(session)
        self.session: ReplaySession = session
        # The dashboard's keys that would start a run, which a replay cannot: said, not done.
        own = {key for action in of_mode(REPLAY, actions) for key in action.key_list}
        self.live_keys = {
            key
            for action in of_mode(DASHBOARD, actions)
            if action.id not in ("cancel",)
            for key in action.key_list
        } - own

    def mounted(self) -> None:
        super().mounted()
        self.summary.replay = True
        self.call_after_refresh(self._first)

    def _first(self) -> None:
        recording = self.session.replay.recording
        if recording.truncated:
            self.notify(
                "This recording was cut short (its process was stopped): it plays what "
                "it holds, and its last run says where it stops.",
                severity="warning",
                timeout=8,
            )
        sizes = sorted({run.config.tasks for run in recording.runs if not run.traced})
        if len(sizes) > 1:  # a recorded sweep, most likely: its chart is a key away
            key = keys_of("replay.sweep", self.fetchviz.actions)
            self.notify(
                f"Runs at N = {sizes[0]:,} to {sizes[-1]:,}: {key} shows them against N, as the "
                "sweep draws them.",
                timeout=5,
            )
        self._play(0)

    def action_sweep_chart(self) -> None:
        """The recording's runs on the sweep's chart (all of them, played or not)."""
        from fetchviz.records.playback import recorded_sweep
        from fetchviz.ui.screens.sweep import SweepScreen  # plotext: for the sweep alone

        swept = recorded_sweep(self.session.replay.recording)
        if swept is None:
            self.notify(
                "These runs are all at one N: a sweep's chart needs two or more.", timeout=4
            )
            return
        by_id = self.session.by_id
        strategies = [
            by_id.get(name) or Strategy(name, "", "a strategy of the recording", "")
            for name in swept.strategies
        ]
        self.app.push_screen(
            SweepScreen(swept.config, strategies, swept.sizes, recorded=swept.points)
        )

    def _play(self, index: int) -> None:
        said = self.session.play(index)
        if said:
            self.notify(said, timeout=3)
            return
        self.redraw()

    def target_parts(self) -> list[tuple[int, str]]:
        replay = self.session.replay
        parts = super().target_parts()
        if replay.current is None:
            return parts
        paused = " paused" if replay.clock.paused else ""
        place = f"{replay.current.index + 1}/{len(replay.recording.runs)}"
        # At 80 columns "replay 15/16 · 0.5× paused · N 10…" cut N: the delay goes first.
        parts = [(2 if i == 1 else rank, part) for i, (rank, part) in enumerate(parts)]
        return [(0, f"replay {place}"), (0, f"{replay.clock.speed:g}×{paused}"), *parts]

    def on_key(self, event: events.Key) -> None:
        if event.key in self.live_keys:
            self.notify(
                "This is a replay: it starts no run. Run fetchviz without replay for live runs.",
                timeout=4,
            )

    def action_pause(self) -> None:
        self.session.toggle_pause()
        self.redraw()

    def action_slower(self) -> None:
        self.session.change_speed(-1)
        self.redraw()

    def action_faster(self) -> None:
        self.session.change_speed(+1)
        self.redraw()

    def action_skip(self) -> None:
        self.session.skip()
        self.redraw()

    def action_next_run(self) -> None:
        self._step(+1)

    def action_previous_run(self) -> None:
        self._step(-1)

    def _step(self, by: int) -> None:
        said = self.session.step(by)
        if said:
            self.notify(said, timeout=3)
        self.redraw()
