"""The state of a run, rebuilt from its events: what the rows, the summary and the JSON show.

Times are offsets in seconds from the run's start, computed from the stamps the runner took.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from fetchviz.core.events import (
    BEAT_INTERVAL,
    PHASES,
    Event,
    LoopBeat,
    LoopBlocked,
    RunFinished,
    RunStarted,
    SyncSample,
    TaskCancelled,
    TaskFailed,
    TaskFinished,
    TasksQueued,
    TaskStarted,
)

# A loop that went this long without a turn is blocked, not just busy.
BLOCKED = 0.1


class TaskState(enum.Enum):
    QUEUED = "Queued"
    STARTED = "Started"
    FINISHED = "Finished"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


@dataclass(slots=True)
class TaskRow:
    """One fetch. Stamps are absolute perf_counter values; None until they happen."""

    index: int
    queued: float | None = None
    started: float | None = None
    finished: float | None = None
    status: int | None = None
    nbytes: int | None = None
    error: str | None = None
    thread: str | None = None
    cancelled: bool = False  # ended by a cancellation, with no answer
    phases: tuple[float | None, ...] | None = None  # seconds per PHASES; None: unknown
    reused: bool | None = None  # an open connection served it; None: unknown

    @property
    def state(self) -> TaskState:
        if self.finished is not None:
            if self.cancelled:
                return TaskState.CANCELLED
            return TaskState.FAILED if self.error is not None else TaskState.FINISHED
        return TaskState.STARTED if self.started is not None else TaskState.QUEUED

    def shown_state(self, run_done: bool) -> str:
        """Its state as the rows say it: once its run is over, a row still queued never ran
        and one still started was cut off (a cancel, a process that died): "Queued" and
        "Started" under a cancelled run read as if they were still to come."""
        state = self.state
        if run_done and state is TaskState.QUEUED:
            return "Not run"
        if run_done and state is TaskState.STARTED:
            return "Cut off"
        return state.value

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started


@dataclass
class LoopState:
    """The run's event loop, as its heartbeats describe it."""

    last_beat: float | None = None  # None: the loop has not beaten yet
    worst: float = 0.0  # the worst lag so far, seconds
    busy: float = 0.0  # the run's process CPU lately, in cores
    _cpu: tuple[float, float] | None = None  # (wall, cpu) at the last sample

    def lag(self, now: float) -> float:
        """How late the next beat is: it grows live while the loop is stuck."""
        if self.last_beat is None:  # the loop has not started yet: it is not late
            return 0.0
        return max(0.0, now - self.last_beat - BEAT_INTERVAL)

    def observe(self, beat: LoopBeat) -> None:
        self.last_beat, self.worst = beat.at, max(self.worst, beat.worst)
        if self._cpu is None:
            self._cpu = (beat.at, beat.cpu)
        elif (wall := beat.at - self._cpu[0]) >= 0.03:  # beats 10 ms apart are too noisy
            cores = (beat.cpu - self._cpu[1]) / wall
            # A peak that fades: a run busy in bursts (connections opened by the thousand)
            # counts as busy between them too.
            self.busy = max(cores, 0.7 * self.busy)
            self._cpu = (beat.at, beat.cpu)

    def fetching_began(self) -> None:
        """Count the load from here: the set-up before the first request (an SSL context is
        40-120 ms of CPU) says nothing of what the fetches will cost."""
        self.busy, self._cpu = 0.0, None


@dataclass
class RunState:
    """Everything known of one run. Applying an event is O(1): 10,000 tasks stay cheap."""

    run_id: int
    strategy: str
    tasks: list[TaskRow]
    start: float | None = None
    end: float | None = None
    cancelled: bool = False
    error: str | None = None
    loop_lag_max: float | None = None
    connections: int | None = None  # opened by the run, as its process counted them
    cpu: float | None = None  # CPU seconds of the run's process, start to end (RunFinished)
    server_cpu: float | None = None  # and of the embedded server meanwhile
    died: str | None = None  # its process died once every task had reported: how
    timed_phases: bool = False  # some request's client said what happened inside it
    started_count: int = 0
    ok: int = 0
    failed: int = 0
    cancelled_tasks: int = 0
    durations: list[float] = field(default_factory=list)
    loop: LoopState | None = None  # None: the strategy has no event loop
    thread_width: int = 0  # the longest thread name seen, in characters
    where_width: int = 0  # a traced program's: its longest `where` as shown (relative)
    # The sync sample timed after the run (SyncSample), when one was asked for.
    sample_pending: bool = False
    sample: tuple[float, ...] = ()
    sample_error: str | None = None
    targets: tuple[str, ...] = ()  # the URLs, in turn: task i fetches targets[i % k]
    blocked_where: str | None = None  # where the loop was last seen blocked (LoopBlocked)
    _unanswered: int | None = None  # counted once the run has ended (its rows stay so)

    @classmethod
    def new(
        cls,
        run_id: int,
        strategy: str,
        tasks: int,
        has_loop: bool = False,
        sample: bool = False,
        targets: tuple[str, ...] = (),
    ) -> RunState:
        return cls(
            run_id,
            strategy,
            [TaskRow(i) for i in range(tasks)],
            loop=LoopState() if has_loop else None,
            sample_pending=sample,
            targets=targets,
        )

    def url(self, index: int) -> str | None:
        """The URL task `index` was given to fetch."""
        return self.targets[index % len(self.targets)] if self.targets else None

    @property
    def done(self) -> bool:
        return self.end is not None

    @property
    def closed(self) -> bool:
        """Done, and nothing more to come (the sync sample, if one was asked for)."""
        return self.done and not self.sample_pending

    @property
    def finished_count(self) -> int:
        return self.ok + self.failed + self.cancelled_tasks

    @property
    def unreported(self) -> int:
        """Tasks the strategy never gave an answer for, in a run that ended by itself: its
        function returned without fetching them (or without waiting for them)."""
        if not self.done or self.cancelled or self.error:
            return 0
        return len(self.tasks) - self.finished_count

    @property
    def cut_short(self) -> str | None:
        """How many tasks were cancelled mid-flight, and by whom; None if none was."""
        if not self.cancelled_tasks:
            return None
        who = "you cancelled the run" if self.cancelled else "the first failure cancelled them"
        return f"{self.cancelled_tasks} cancelled, cut short: {who}"

    @property
    def comparable(self) -> bool:
        """Ran to its end, fetched something, and gave every task its answer (a failure is
        one): its time means something beside another's. A run whose first failure cancelled
        the rest (a TaskGroup's), or that left tasks unreported, did not do the work: "59.9×
        faster · 1 of 20 ok" was the time to its first failure."""
        return (
            self.done
            and not self.cancelled
            and self.error is None
            and self.ok > 0
            and not self.cut_by_failure
            and not self.unreported
        )

    @property
    def cut_by_failure(self) -> bool:
        """Tasks cancelled after a sibling failed (a TaskGroup's way): the run stopped at
        that failure. Cancelled without one (a strategy's own timeout, a hedged request's
        loser) is a task without an answer, as a failed one is."""
        return bool(self.cancelled_tasks and self.failed)

    @property
    def all_ok(self) -> bool:
        """Every task answered with success."""
        return self.comparable and self.ok == len(self.tasks)

    @property
    def in_full(self) -> bool:
        """Ran to its end with an answer for every task that took an answer's time: its time
        is that of all its requests, as a sync baseline's must be, and as a ranking compares
        (a refused request ends at once: a run with one is quicker than the work)."""
        return self.comparable and not self.unanswered

    @property
    def unanswered(self) -> int:
        """Tasks without an answer that took an answer's time: no answer at all (refused,
        reset, timed out, cut short), an interim 1xx, or an HTTP error quicker than half the
        quickest success (a 429 sent at once). The embedded server's --fail-rate 500 comes
        after the same delay as a 200: a sync run with some is still the time of N requests
        one after another. Counted once when the run has ended (a redraw asks each frame)."""
        if self._unanswered is not None:
            return self._unanswered
        tasks = self.tasks
        answered = [row.duration for row in tasks if row.error is None and row.status is not None]
        quickest = min((d for d in answered if d is not None), default=None)
        floor = None if quickest is None else quickest / 2

        def unanswered(row: TaskRow) -> bool:
            if row.status is None or row.status < 200:
                return True
            took = row.duration
            return row.error is not None and (floor is None or took is None or took < floor)

        count = sum(1 for row in tasks if unanswered(row))
        if self.end is not None:
            self._unanswered = count
        return count

    def apply(self, event: Event) -> None:
        if self.end is not None and not isinstance(event, SyncSample):
            return  # a run that ended (a cancelled one too) stays as it was then
        match event:
            case LoopBeat():
                if self.loop is not None:
                    self.loop.observe(event)
            case TaskStarted(index=i, at=at, thread=thread):
                row = self.tasks[i]
                row.started, row.thread = at, thread
                if row.queued is None:  # a loop reached it and ran it at once
                    row.queued = at
                if self.started_count == 0 and self.loop is not None:
                    self.loop.fetching_began()
                self.started_count += 1
                self.thread_width = max(self.thread_width, len(thread))
            case TaskFinished(index=i) | TaskFailed(index=i) if self.tasks[i].finished is not None:
                pass  # a task ends once: a second end (a strategy's mistake) changes nothing
            case TaskFinished(index=i, at=at, status=status, nbytes=nbytes):
                row = self._ended(event)
                row.status, row.nbytes = status, nbytes
                self.ok += 1
                if row.started is not None:
                    self.durations.append(at - row.started)
            case TaskFailed(index=i, at=at, reason=reason, status=status):
                row = self._ended(event)
                row.error, row.status = reason, status
                self.failed += 1
                if row.started is None:
                    row.started = row.queued = at
            case TaskCancelled(index=i, at=at):
                row = self.tasks[i]
                row.finished, row.cancelled = at, True
                self.cancelled_tasks += 1
                if row.started is None:
                    row.started = row.queued = at
            case TasksQueued(count=count, at=at):
                for row in self.tasks[:count]:
                    row.queued = at
            case RunStarted(at=at):
                self.start = at
            case RunFinished(at=at, cancelled=cancelled, error=error, loop_lag_max=lag):
                self.connections = event.connections
                self.cpu, self.server_cpu, self.died = event.cpu, event.server_cpu, event.died
                if lag is None and self.loop is not None and self.loop.last_beat is not None:
                    lag = self.loop.worst  # cut short: the worst the beats said
                    if cancelled or error:  # or the block it was cut short in (shown live
                        lag = max(lag, self.loop.lag(at))  # as LOOP BLOCKED 2.6 s)
                self.end, self.cancelled, self.error, self.loop_lag_max = at, cancelled, error, lag
                if cancelled:  # cut short by the user: what was in flight says so
                    for row in self.tasks:
                        if row.started is not None and row.finished is None:
                            row.finished, row.cancelled = at, True
                            self.cancelled_tasks += 1
            case LoopBlocked(where=where) if where is not None:
                self.blocked_where = where
            case SyncSample(durations=durations, error=error):
                self.sample, self.sample_error = durations, error
                self.sample_pending = False

    def _ended(self, event: TaskFinished | TaskFailed) -> TaskRow:
        """What a task's end says, answered or not: when, and how far its phases got."""
        row = self.tasks[event.index]
        row.finished = event.at
        row.phases, row.reused = known_phases(event.phases), event.reused
        self.timed_phases = self.timed_phases or event.phases is not None
        return row

    def loop_lag(self, now: float) -> tuple[float, float] | None:
        """(the lag now, the worst so far) of the run's loop; None where it has none."""
        if self.loop is None:
            return None
        if self.done:
            return 0.0, self.loop_lag_max if self.loop_lag_max is not None else self.loop.worst
        current = self.loop.lag(now)
        return current, max(self.loop.worst, current)

    def elapsed(self, now: float) -> float:
        """Seconds since the run started, up to its end; ticks while it runs."""
        if self.start is None:
            return 0.0
        return max(0.0, (self.end if self.end is not None else now) - self.start)

    def offset(self, stamp: float | None) -> float | None:
        return None if stamp is None or self.start is None else stamp - self.start

    def latency(self) -> dict[str, float] | None:
        """Percentiles of the durations of the tasks that finished."""
        if not self.durations:
            return None
        ordered = sorted(self.durations)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

        return {"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99), "max": ordered[-1]}

    def to_json(self) -> dict[str, Any]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        latency = self.latency()
        return {
            "strategy": self.strategy,
            "elapsed": r(self.elapsed(self.end or 0.0)) if self.done else None,
            "comparable": self.comparable,
            "ok": self.ok,
            "failed": self.failed,
            "cancelled_tasks": self.cancelled_tasks,
            "cancelled": self.cancelled,
            "error": self.error,
            "died": self.died,
            "unreported": self.unreported,
            "loop_lag_max": r(self.loop_lag_max),
            "loop_blocked_at": self.blocked_where,
            "connections": self.connections,
            "cpu": r(self.cpu),
            "server_cpu": r(self.server_cpu),
            "latency": {k: r(v) for k, v in latency.items()} if latency else None,
            "tasks": [
                {
                    "index": row.index,
                    "state": row.state.name.lower(),
                    "url": self.url(row.index),
                    "queued": r(self.offset(row.queued)),
                    "started": r(self.offset(row.started)),
                    "finished": r(self.offset(row.finished)),
                    "status": row.status,
                    "bytes": row.nbytes,
                    "error": row.error,
                    "thread": row.thread,
                    "reused": row.reused,
                    "phases": (
                        None
                        if row.phases is None
                        else {
                            name: r(value) for name, value in zip(PHASES, row.phases, strict=False)
                        }
                    ),
                }
                for row in self.tasks
            ],
        }


def known_phases(phases: tuple[float | None, ...] | None) -> tuple[float | None, ...] | None:
    """The phases this version knows (a newer one's recording may carry more)."""
    return None if phases is None else phases[: len(PHASES)]


def fmt_lag(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def blocked_in(where: str) -> str:
    """'strategies.py:25 in fetch_blocking (requests.get)', what it called first: at 80
    columns the panel keeps 36 characters, and the call is what says why."""
    place, _, called = where.partition(" (")
    if not called:
        return f"blocked at {place}"
    return f"in {called.rstrip(')')} · {place.split(' in ')[0]}"


def loop_blocked(worst: float | None, elapsed: float) -> bool:
    """Blocked for most of the run: what `gather-blocking` does, not a slow client set-up."""
    return worst is not None and worst > BLOCKED and worst > 0.5 * elapsed
