"""`fetchviz replay` of a traced program's recording (`fetchviz trace --record FILE`): its runs
on the trace screen, in their recorded timing, with a replay's keys (pause, speed, the end of
a run, the runs before and after). It starts no program."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import BindingType
from textual.timer import Timer

from fetchviz.core.actions import REPLAY, of_mode
from fetchviz.core.trace import TraceState
from fetchviz.trace.recorded import TracePlayback
from fetchviz.ui.keys import bindings
from fetchviz.ui.screens.trace import TraceScreen

# The replay's keys that act on the board (its code panel, its failures by reason) or on
# strategies' runs (the sweep's chart): a traced run has none; its rows' details (enter) say
# why a request failed.
BOARD_ONLY = {"toggle_code", "failures", "sweep_chart"}


class TraceReplayScreen(TraceScreen, inherit_bindings=False):
    """The recorded runs of a traced program, played one after another as the session went."""

    MODE: ClassVar[str] = REPLAY
    BINDINGS: ClassVar[list[BindingType]] = [
        b for b in bindings(REPLAY) if getattr(b, "action", None) not in BOARD_ONLY
    ]

    def __init__(self, playback: TracePlayback) -> None:
        super().__init__(playback)
        self.playback = playback
        self.board_keys: set[str] = set()  # on mount, as the keymap has them
        self.next_run: Timer | None = None  # the next recorded run, due after this one's gap
        self.hold_at_end = False  # a run chosen by n or p: paused at its end, as a board's

    def on_mount(self) -> None:
        super().on_mount()
        # A board replay's keys that have nothing here: said, not silently nothing.
        self.board_keys = {
            key
            for action in of_mode(REPLAY, self.fetchviz.actions)
            if action.method in BOARD_ONLY
            for key in action.key_list
        }
        if self.playback.replay.recording.truncated:
            self.notify(
                "This recording was cut short (its process was stopped): it plays what "
                "it holds, and its last run says where it stops.",
                severity="warning",
                timeout=8,
            )

    def on_key(self, event: events.Key) -> None:
        if event.key in self.board_keys:
            self.notify(
                "A traced program's replay has no board, code or sweep: enter on a row says "
                "why a request failed.",
                timeout=4,
            )

    def output_note(self) -> str:
        return "as recorded"

    def start(self) -> None:
        self._cancel_next()
        super().start()

    def status(self, state: TraceState) -> str:
        replay = self.playback.replay
        paused = " · paused" if replay.clock.paused else ""
        place = f"replay {self.playback.index + 1}/{len(self.playback.runs)}"
        return f"{place} · {replay.clock.speed:g}×{paused} · {super().status(state)}"

    def ended(self, state: TraceState) -> None:
        """The session goes on as recorded: the next run plays after the pause the user
        made (held at this end while paused, until space)."""
        if self.next_run is not None or self.playback.held:
            return
        gap = self.playback.gap()
        if gap is None:
            return
        if self.hold_at_end and not self.playback.replay.clock.paused:
            self.playback.toggle_pause()  # it played on into the next run
            self.redraw()
        if self.playback.replay.clock.paused:
            self.playback.held = True
        else:
            self.next_run = self.set_timer(gap, lambda: self._step(+1))

    def _cancel_next(self) -> None:
        if self.next_run is not None:
            self.next_run.stop()
            self.next_run = None

    def action_pause(self) -> None:
        paused = self.playback.toggle_pause()
        if not paused and self.playback.held:
            self._step(+1)
        self.redraw()

    def action_slower(self) -> None:
        self.playback.change_speed(-1)
        self.redraw()

    def action_faster(self) -> None:
        self.playback.change_speed(+1)
        self.redraw()

    def action_skip(self) -> None:
        self.playback.skip()
        self.redraw()

    def action_next_run(self) -> None:
        self._step(+1, hold=True)

    def action_previous_run(self) -> None:
        self._step(-1, hold=True)

    def _step(self, by: int, hold: bool = False) -> None:
        self._cancel_next()
        said = self.playback.go_to(self.playback.index + by)
        if said:
            self.notify(said, timeout=3)
            return
        self.hold_at_end = hold
        self.start()
