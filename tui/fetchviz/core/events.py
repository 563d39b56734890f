"""What a run reports, stamped with time.perf_counter() where it happened, never on arrival.

Plain dataclasses: the run's process, the headless mode and the dashboard share them, and none
of them knows anything about Textual. They cross from the run's process in pickles. Nothing
changes an event once it is made.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, fields
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")

# The phases of a request, in order: a task's `phases` holds their seconds in this order.
PHASES = ("wait", "connect", "tls", "first_byte", "receive")


@dataclass_transform()
def event(cls: type[T]) -> type[T]:
    """A slotted dataclass, pickled as its constructor's arguments.

    Not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__,
    which made a TaskFinished cost 5× as much (2.1 µs against 0.43, best of 5 timeit runs;
    two events a request, in the run's process: with Fetch its own Marks, a request's own
    cost in fetchviz went from 19 to 16 µs). And a slotted dataclass unpickles field by
    field through fields(), which costs more than the event itself at 20,000 events a run."""
    cls = dataclass(slots=True)(cls)
    values = operator.attrgetter(*(field.name for field in fields(cls)))  # type: ignore[arg-type]

    def reduce(self: T) -> tuple[type[T], tuple[Any, ...]]:
        return cls, values(self)

    cls.__reduce__ = reduce  # type: ignore[assignment,method-assign]
    return cls


@event
class RunStarted:
    run_id: int
    strategy: str
    tasks: int
    at: float


@event
class TasksQueued:
    """Tasks 0..count-1 were created at once (gather, run_in_executor) and now wait their turn."""

    run_id: int
    count: int
    at: float


@event
class TaskStarted:
    run_id: int
    index: int
    at: float
    thread: str


@event
class TaskFinished:
    run_id: int
    index: int
    at: float
    status: int
    nbytes: int
    # Seconds per phase (PHASES: wait, connect, tls, first_byte, receive), each None
    # where the client cannot say; None: nothing known of the phases at all.
    phases: tuple[float | None, ...] | None = None
    reused: bool | None = None  # an open connection served it; None: not known


@event
class TaskFailed:
    run_id: int
    index: int
    at: float
    reason: str
    status: int | None = None  # set when a response came, e.g. HTTP 500
    phases: tuple[float | None, ...] | None = None  # as far as it got (see TaskFinished)
    reused: bool | None = None


@event
class TaskCancelled:
    """The task was cancelled mid-request (a TaskGroup whose sibling failed): no answer."""

    run_id: int
    index: int
    at: float


@event
class RunFinished:
    run_id: int
    at: float
    cancelled: bool = False
    error: str | None = None  # why the run itself could not go on, if it could not
    loop_lag_max: float | None = None  # seconds; None for strategies with no event loop
    connections: int | None = None  # opened by the run; None: not counted (cut short)


# The run's event loop beats this often while it can: a beat late by more is lag.
BEAT_INTERVAL = 0.01


@event
class LoopBeat:
    """The run's event loop woke up at `at` (it beats every BEAT_INTERVAL while it can)."""

    run_id: int
    at: float
    worst: float  # the worst lag so far, seconds
    cpu: float  # the run's process CPU time so far, seconds: how busy the run keeps a core


@event
class SyncSample:
    """After the run, outside its time: `requests.get` made one after another, as `sync` makes
    them, timed each. The sync estimate is N × their median. Empty, with `error`, when no
    sample could be taken (a request failed, or the run's process went first)."""

    run_id: int
    at: float
    durations: tuple[float, ...]
    error: str | None = None


Event = (
    RunStarted
    | TasksQueued
    | TaskStarted
    | TaskFinished
    | TaskFailed
    | TaskCancelled
    | RunFinished
    | LoopBeat
    | SyncSample
)
