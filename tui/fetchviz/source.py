"""Where a consumer's events come from: the one interface the dashboard and the headless mode
take them through. Today the live runner (runner.Runner); a recording read back, or a test's
script, is the same to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from fetchviz.catalog import Strategy
from fetchviz.config import Config
from fetchviz.events import Event

Batch = list[Event]


class Run(Protocol):
    """A run as its consumer holds it."""

    run_id: int

    def begin(self) -> None:
        """Let it go (a run started with begin=False waits for this)."""

    def cancel(self) -> None:
        """End it now. Its end (RunFinished, cancelled) still comes as an event."""


class EventSource(Protocol):
    """Starts runs and passes every batch of their events to the function given to open()."""

    def open(self, deliver: Callable[[Batch], None]) -> None:
        """Called once, on the consumer's running loop, before any run starts."""

    def now(self) -> float:
        """The clock the events are stamped on, as of now: `time.perf_counter()` for a live
        source; a replay's own time (its speed, its pauses) for a recording."""
        ...

    def start(
        self,
        strategy: Strategy,
        config: Config,
        sample: bool = False,
        begin: bool = True,
        compare: bool = False,
    ) -> Run:
        """A new run. `sample`: a SyncSample follows its end. `compare`: it is part of a
        compare-all (a recording says so). Its events, its end included, come through
        `deliver`; so does a SyncSample when one was asked for, whatever happens (empty, with
        a reason, when none could be taken)."""
        ...

    def close(self) -> None:
        """Stop every run, now; nothing of the source's may outlive this."""
