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
    # CPU seconds (user + system, every thread) from the run's start to its end: its own
    # process's, and the embedded server's; None: not measured (cut short, another server).
    cpu: float | None = None
    server_cpu: float | None = None
    died: str | None = None  # its process died after every task had reported: how


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


# A traced program (fetchviz trace): its requests are the run's tasks, numbered as they start,
# whichever of its processes makes them; `pid` says which. Stamped in the program's processes.


@event
class RequestStarted:
    """A traced program's request began: a row, with where it came from."""

    run_id: int
    index: int
    at: float
    method: str  # "" until its request line is sent (a connection opened first)
    url: str
    thread: str
    task: str | None  # the asyncio task's name; None outside a task
    pid: int
    where: str | None  # "path:LINE in function", the first frame of the program's own
    # The number of the task that made it (AsyncTaskSeen.serial); None: a task the program
    # did not make, or none; 0: not said (a recording made before tasks were numbered).
    task_serial: int | None = 0


@event
class RequestNamed:
    """The method and URL of a request whose row began as its connection opened."""

    run_id: int
    index: int
    at: float
    method: str
    url: str


@event
class ProcessSeen:
    """A process of the traced program loaded the tracer."""

    run_id: int
    at: float
    pid: int
    ppid: int
    argv: tuple[str, ...]
    python: str  # its interpreter and version


@event
class ProcessEnded:
    run_id: int
    at: float
    pid: int
    how: str  # "exited", or why its rows stop: "killed", "lost"


@event
class ThreadSeen:
    run_id: int
    at: float
    pid: int
    ident: int
    name: str


@event
class ThreadEnded:
    run_id: int
    at: float
    pid: int
    ident: int


@event
class AsyncTaskSeen:
    """An asyncio task the program made (not those its HTTP client made for itself)."""

    run_id: int
    at: float
    pid: int
    name: str
    thread: str
    # Its number in its process, in the order tasks were made: tasks named alike are told
    # apart by it. 0: not said (a recording made before tasks were numbered).
    serial: int = 0


@event
class AsyncTaskEnded:
    run_id: int
    at: float
    pid: int
    name: str
    state: str  # done, failed, cancelled
    serial: int = 0  # AsyncTaskSeen's


@event
class LoopBlocked:
    """An event loop missed its beat by more than BLOCKED, from `at`, and where it was stuck:
    a traced program's (its watchdog), or a live run's (the alarm that flushes its events)."""

    run_id: int
    at: float
    pid: int
    thread: str
    where: str | None  # "path:LINE in function (what it called)", as its stack said


@event
class LoopUnblocked:
    run_id: int
    at: float
    pid: int
    thread: str
    worst: float | None = None  # set at the loop's end: its worst lag, seconds


@event
class ProgramOutput:
    """A line the traced program wrote, stamped as it arrived (its stdout is line-buffered).
    `partial`: the line it is still writing, as a terminal shows it so far (a progress bar's
    latest drawing, `\r`s and all taken into account); its end comes as a line of its own."""

    run_id: int
    at: float
    stream: str  # stdout or stderr
    text: str
    partial: bool = False


@event
class ProgramExited:
    """The traced program's first process ended; RunFinished follows."""

    run_id: int
    at: float
    exit_code: int  # as a shell would say it: 128 + N for a signal
    how: str  # "exited with 3", "killed by SIGINT", …
    note: str | None = None  # what else to say: it ran untraced, made no request, …


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
    | RequestStarted
    | RequestNamed
    | ProcessSeen
    | ProcessEnded
    | ThreadSeen
    | ThreadEnded
    | AsyncTaskSeen
    | AsyncTaskEnded
    | LoopBlocked
    | LoopUnblocked
    | ProgramOutput
    | ProgramExited
)
