"""`fetchviz trace`'s screen as it looks at 80×24 and 160×50, drawn from scripted events of
a program's run (the tutorial's executor.py: two waves of six threads), not from a live run:
no wall-clock luck.

After a deliberate change of the screen: `pytest tests/test_trace_snapshots.py
--snapshot-update`, then look at the SVGs in tests/__snapshots__ before committing them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from fetchviz.core.actions import ACTIONS
from fetchviz.core.events import (
    Event,
    LoopBlocked,
    LoopUnblocked,
    ProcessSeen,
    ProgramExited,
    ProgramOutput,
    RequestStarted,
    RunFinished,
    RunStarted,
    TaskFinished,
)
from fetchviz.trace.program import Program
from fetchviz.ui.app import FetchvizApp
from fetchviz.ui.screens.trace import TraceScreen

BASE = 1000.0
URL = "http://127.0.0.1:8080/delay/300"
SCRIPT = "examples/tutorial/executor.py"


def executor_run() -> list[Event]:
    """What the tracer says of executor.py's run: ten requests in two waves of six threads."""
    events: list[Event] = [
        RunStarted(1, "trace", 0, BASE),
        ProcessSeen(1, BASE + 0.05, 4242, 4241, (SCRIPT,), "python 3.11.7"),
    ]
    for i in range(10):
        started = BASE + 0.2 + (i // 6) * 0.31 + 0.002 * i
        thread = f"asyncio_{i % 6}"
        events += [
            RequestStarted(1, i, started, "GET", URL, thread, None, 4242, f"{SCRIPT}:23 in get"),
            ProgramOutput(1, started, "stdout", f"Started: {i}"),
        ]
    for i in range(10):
        started = BASE + 0.2 + (i // 6) * 0.31 + 0.002 * i
        ended = started + 0.305
        phases = (0.0, 0.0004, 0.0, 0.304, 0.0002)
        events += [
            TaskFinished(1, i, ended, 200, 11, phases, False),
            ProgramOutput(1, ended, "stdout", f"Finished: {i}"),
        ]
    events += [
        LoopBlocked(1, BASE + 0.12, 4242, "MainThread", f"{SCRIPT}:30 in main (requests.get)"),
        LoopUnblocked(1, BASE + 0.19, 4242, "MainThread", 0.07),
        ProgramOutput(1, BASE + 0.84, "stdout", "took 0.63 s"),
        ProgramExited(1, BASE + 0.85, 0, "exited with 0"),
        RunFinished(1, BASE + 0.85),
    ]
    return events


class ScriptedTrace:
    """A traced program's source that plays `events` when the screen starts the program."""

    def __init__(self, events: list[Event]) -> None:
        self.program = Program("script", SCRIPT, (), "/work")
        self.events = events
        self.current = None
        self.live = True
        self._deliver: Callable[[list[Event]], None] | None = None

    def open(self, deliver: Callable[[list[Event]], None]) -> None:
        self._deliver = deliver

    def now(self) -> float:
        return time.perf_counter()

    def start(self) -> Any:
        assert self._deliver is not None
        self._deliver(self.events)
        return SimpleNamespace(run_id=1)

    def close(self) -> None:
        pass


def scripted_app() -> FetchvizApp:
    source = ScriptedTrace(executor_run())
    screen = TraceScreen(source)  # type: ignore[arg-type]
    return FetchvizApp(lambda: screen, source, None, None, {}, ACTIONS)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_trace_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    async def played(pilot: Any) -> None:
        app = pilot.app
        for _ in range(200):
            screen = app.screen
            if isinstance(screen, TraceScreen) and screen.state and screen.state.done:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.2)

    assert snap_compare(scripted_app(), terminal_size=size, run_before=played)


def test_trace_screen_wide_with_its_output_hidden(snap_compare: Any) -> None:
    """`o` hides the output panel: the table, 160 wide, has room for each request's `where`."""

    async def played(pilot: Any) -> None:
        for _ in range(200):
            screen = pilot.app.screen
            if isinstance(screen, TraceScreen) and screen.state and screen.state.done:
                break
            await pilot.pause(0.02)
        await pilot.press("o")
        await pilot.pause(0.2)

    assert snap_compare(scripted_app(), terminal_size=(160, 30), run_before=played)
