"""The state of a run, rebuilt from its events: what the rows, the summary and the JSON show.

Times are offsets in seconds from the run's start, computed from the stamps the runner took.
"""

from __future__ import annotations

import enum
import statistics
from dataclasses import dataclass, field
from typing import Any

from fetchviz.events import (
    Event,
    RunFinished,
    RunStarted,
    TaskFailed,
    TaskFinished,
    TasksQueued,
    TaskStarted,
)

# A loop that went this long without a turn is blocked, not just busy.
BLOCKED = 0.1
# The sync estimate's sample: this many durations from each of the last few runs.
ESTIMATE_RUNS = 5
ESTIMATE_SAMPLE = 1000


class TaskState(enum.Enum):
    QUEUED = "Queued"
    STARTED = "Started"
    FINISHED = "Finished"
    FAILED = "Failed"


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

    @property
    def state(self) -> TaskState:
        if self.finished is not None:
            return TaskState.FAILED if self.error is not None else TaskState.FINISHED
        return TaskState.STARTED if self.started is not None else TaskState.QUEUED

    @property
    def duration(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started


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
    started_count: int = 0
    ok: int = 0
    failed: int = 0
    durations: list[float] = field(default_factory=list)

    @classmethod
    def new(cls, run_id: int, strategy: str, tasks: int) -> RunState:
        return cls(run_id, strategy, [TaskRow(i) for i in range(tasks)])

    @property
    def done(self) -> bool:
        return self.end is not None

    @property
    def finished_count(self) -> int:
        return self.ok + self.failed

    def apply(self, event: Event) -> None:
        match event:
            case TaskStarted(index=i, at=at, thread=thread):
                row = self.tasks[i]
                row.started, row.thread = at, thread
                if row.queued is None:  # a loop reached it and ran it at once
                    row.queued = at
                self.started_count += 1
            case TaskFinished(index=i, at=at, status=status, nbytes=nbytes):
                row = self.tasks[i]
                row.finished, row.status, row.nbytes = at, status, nbytes
                self.ok += 1
                if row.started is not None:
                    self.durations.append(at - row.started)
            case TaskFailed(index=i, at=at, reason=reason, status=status):
                row = self.tasks[i]
                row.finished, row.error, row.status = at, reason, status
                self.failed += 1
                if row.started is None:
                    row.started = row.queued = at
            case TasksQueued(count=count, at=at):
                for row in self.tasks[:count]:
                    row.queued = at
            case RunStarted(at=at):
                self.start = at
            case RunFinished(at=at, cancelled=cancelled, error=error, loop_lag_max=lag):
                self.end, self.cancelled, self.error, self.loop_lag_max = at, cancelled, error, lag

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
            "ok": self.ok,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "error": self.error,
            "loop_lag_max": r(self.loop_lag_max),
            "latency": {k: r(v) for k, v in latency.items()} if latency else None,
            "tasks": [
                {
                    "index": row.index,
                    "queued": r(self.offset(row.queued)),
                    "started": r(self.offset(row.started)),
                    "finished": r(self.offset(row.finished)),
                    "status": row.status,
                    "bytes": row.nbytes,
                    "error": row.error,
                    "thread": row.thread,
                }
                for row in self.tasks
            ],
        }


@dataclass(frozen=True, slots=True)
class Baseline:
    elapsed: float
    measured: bool


class Baselines:
    """The sync baseline: measured per configuration, or estimated from what has run."""

    def __init__(self) -> None:
        self._measured: dict[Any, float] = {}
        self._estimate: tuple[Any, Baseline | None] = (None, None)  # (what it came from, it)

    def record(self, key: Any, run: RunState) -> None:
        """Keep a sync run's time if it ran to the end with every task answered."""
        if run.strategy == "sync" and run.done and not run.cancelled and run.error is None:
            self._measured[key] = run.elapsed(0.0)

    def get(self, key: Any, tasks: int, runs: list[RunState]) -> Baseline | None:
        if key in self._measured:
            return Baseline(self._measured[key], measured=True)
        # Called every frame: a bounded sample (the first durations of the last few runs) keeps
        # it O(1) however many tasks ran, and is as good an estimate; and it is computed again
        # only when the sample has changed (a median of 5,000 durations is most of a frame).
        recent = runs[-ESTIMATE_RUNS:]
        source = (tasks, [(id(run), min(len(run.durations), ESTIMATE_SAMPLE)) for run in recent])
        if source != self._estimate[0]:
            durations = [d for run in recent for d in run.durations[:ESTIMATE_SAMPLE]]
            estimate = tasks * statistics.median(durations) if durations else None
            self._estimate = (source, None if estimate is None else Baseline(estimate, False))
        return self._estimate[1]


def compare(elapsed: float, baseline: float) -> str:
    """How a run's time reads beside the sync baseline: '9.7× faster · 89% less time'."""
    if elapsed <= 0 or baseline <= 0:
        return ""
    ratio = baseline / elapsed
    if 0.95 <= ratio <= 1.05:
        return "about the same as sync"
    if ratio > 1:
        return f"{ratio:.1f}× faster · {100 * (1 - elapsed / baseline):.0f}% less time"
    return f"{1 / ratio:.1f}× slower than sync"


def fmt_lag(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def loop_blocked(worst: float | None, elapsed: float) -> bool:
    """Blocked for most of the run: what `gather-blocking` does, not a slow client set-up."""
    return worst is not None and worst > BLOCKED and worst > 0.5 * elapsed
