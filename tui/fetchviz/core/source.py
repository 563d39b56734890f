"""Where a consumer's events come from: the one interface the dashboard and the headless mode
take them through. Today the live runner (runner.Runner); a recording read back, or a test's
script, is the same to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fetchviz.core.catalog import Strategy
from fetchviz.core.config import Config
from fetchviz.core.events import Event

Batch = list[Event]


@dataclass(frozen=True, slots=True)
class RunRequest:
    """A run as a consumer asks for it: one object, whatever the source."""

    strategy: Strategy
    config: Config
    sample: bool = False  # a SyncSample follows the run's end (for the sync estimate)
    compare: bool = False  # part of a compare-all: a recording says so
    begin: bool = True  # False: the run waits for Run.begin() (its rows are drawn first)


class Run(Protocol):
    """A run as its consumer holds it."""

    run_id: int

    def begin(self) -> None:
        """Let it go (a run started with begin=False waits for this)."""

    def cancel(self) -> None:
        """End it now. Its end (RunFinished, cancelled) still comes as an event."""


class Feed(Protocol):
    """Passes every batch of events to the function given to open(), until closed: what the
    App holds, whatever starts the runs (an EventSource, a traced program's source)."""

    def open(self, deliver: Callable[[Batch], None]) -> None:
        """Called once, on the consumer's running loop, before any run starts."""

    def now(self) -> float:
        """The clock the events are stamped on, as of now: `time.perf_counter()` for a live
        source; a replay's own time (its speed, its pauses) for a recording."""
        ...

    def close(self) -> None:
        """Stop every run, now; nothing of the source's may outlive this."""


class EventSource(Feed, Protocol):
    """Starts runs and passes every batch of their events to the function given to open()."""

    def start(self, request: RunRequest) -> Run:
        """A new run. Its events, its end included, come through `deliver`; so does a
        SyncSample when one was asked for, whatever happens (empty, with a reason, when none
        could be taken)."""
        ...

    def close(self) -> None:
        """Stop every run, now; nothing of the source's may outlive this."""
