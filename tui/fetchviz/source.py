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

    def start(
        self, strategy: Strategy, config: Config, sample: bool = False, begin: bool = True
    ) -> Run:
        """A new run. `sample`: a SyncSample follows its end. Its events, its end included,
        come through `deliver`; so does a SyncSample when one was asked for, whatever
        happens (empty, with a reason, when none could be taken)."""
        ...

    def close(self) -> None:
        """Stop every run, now; nothing of the source's may outlive this."""
