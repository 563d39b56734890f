"""A traced program's run (`fetchviz trace`): its requests are the rows, as a run's tasks are,
and beside them what only a program has: its processes, threads and asyncio tasks, where its
loop was blocked, its output, and how it exited. Rebuilt from events, like RunState."""

from __future__ import annotations

import collections
import os
import shlex
from dataclasses import dataclass, field
from typing import Any

from fetchviz.core.events import (
    AsyncTaskEnded,
    AsyncTaskSeen,
    Event,
    LoopBlocked,
    LoopUnblocked,
    ProcessEnded,
    ProcessSeen,
    ProgramExited,
    ProgramOutput,
    RequestNamed,
    RequestStarted,
    TaskCancelled,
    TaskFailed,
    TaskFinished,
    ThreadEnded,
    ThreadSeen,
)
from fetchviz.core.model import RunState, TaskRow

TRACED = "trace"  # a traced program's run, where a run of the board has its strategy's id
OUTPUT_LINES = 2000  # the program's last lines kept: a chatty program's memory stays bounded
INTERRUPTED = "interrupted (Ctrl+C, or SIGINT)"  # a request the program's Ctrl+C ended
CLIENTS = "http.client (requests, urllib3, urllib.request), httpx, httpx2 and aiohttp"


@dataclass(slots=True)
class TracedRow(TaskRow):
    """A request of the program: the row, and where it came from."""

    method: str = ""
    url: str = ""
    task: str | None = None
    # The tracer's number of that task in its process (tasks named alike are told apart by
    # it); None: not a task the program made, or a recording made before tasks were numbered.
    task_number: int | None = None
    pid: int = 0
    where: str | None = None


def origin(url: str) -> str:
    """'http://127.0.0.1:8790/delay/100' → 'http://127.0.0.1:8790'."""
    scheme, sep, rest = url.partition("://")
    return scheme + sep + rest.partition("/")[0]


def task_label(name: str, number: int | None) -> str:
    """A task's name with its number (`fetch #2`), where the program named it: asyncio's
    own names, Task-N, are each one's already (`Task-1 #1` said it twice)."""
    if number is None or name.startswith("Task-"):
        return name
    return f"{name} #{number}"


@dataclass(slots=True)
class Span:
    """A thread's or an asyncio task's life, and the requests made in it."""

    name: str
    pid: int
    started: float
    ended: float | None = None
    requests: int = 0
    state: str | None = None  # a task's end: done, failed, cancelled
    thread: str | None = None  # a task's thread
    number: int | None = None  # a task's, in its process (TracedRow.task_number)

    @property
    def label(self) -> str:
        """Its name, and a task's number: `fetch #2`."""
        return task_label(self.name, self.number)


@dataclass(slots=True)
class Blocked:
    """A time the program's event loop could not turn, and where it was stuck."""

    pid: int
    thread: str
    started: float
    where: str | None
    ended: float | None = None


@dataclass(slots=True)
class Process:
    pid: int
    ppid: int
    argv: tuple[str, ...]
    python: str
    seen: float
    ended: float | None = None
    how: str | None = None


@dataclass
class TraceState(RunState):
    """Everything known of one run of a traced program."""

    argv: tuple[str, ...] = ()
    cwd: str = ""
    exit_code: int | None = None
    how: str | None = None  # "exited with 3", "killed by SIGINT"
    note: str | None = None
    processes: dict[int, Process] = field(default_factory=dict)
    # Every thread seen, in order: (pid, ident, n), since a thread's ident is reused once it
    # ends (six short threads showed as four). `running` holds those that have not ended.
    threads: dict[tuple[int, int, int], Span] = field(default_factory=dict)
    running: dict[tuple[int, int], Span] = field(default_factory=dict)
    # By (pid, serial): a program's tasks named alike are each their own. (pid, name) for a
    # recording made before tasks were numbered (serial 0).
    async_tasks: dict[tuple[int, int | str], Span] = field(default_factory=dict)
    blocked: list[Blocked] = field(default_factory=list)
    loop_worst: dict[tuple[int, str], float] = field(default_factory=dict)
    output: collections.deque[tuple[float, str, str]] = field(
        default_factory=lambda: collections.deque(maxlen=OUTPUT_LINES)
    )
    output_count: int = 0  # every line, those no longer kept too
    # Each stream's line still being written (ProgramOutput.partial), the latest last.
    partial: dict[str, str] = field(default_factory=dict)
    in_flight: int = 0
    most_seen: int = 0  # most in flight at once, as the events arrived
    in_tasks: int = 0  # requests made in an asyncio task: their thread's column shows it
    # The servers asked (scheme, host and port), up to two: with more than one, a row whose
    # URL does not fit keeps its host ("GET /delay/100/a" read alike for two servers).
    origins: set[str] = field(default_factory=set)

    @classmethod
    def traced(cls, run_id: int, argv: tuple[str, ...], cwd: str) -> TraceState:
        return cls(run_id, TRACED, [], argv=argv, cwd=cwd)

    @property
    def program(self) -> str:
        return shlex.join(self.argv)  # as a shell would take it: `sh -c 'a; b'`

    def apply(self, event: Event) -> None:
        if self.end is not None:
            return
        match event:
            case RequestStarted(at=at):
                if event.index != len(self.tasks):
                    return  # numbered by the source as they come: a gap is its mistake
                row = TracedRow(
                    event.index,
                    queued=at,
                    started=at,
                    thread=event.thread,
                    method=event.method,
                    url=event.url,
                    task=event.task,
                    task_number=event.task_serial or None,
                    pid=event.pid,
                    where=event.where,
                )
                self.tasks.append(row)
                self.started_count += 1
                self.in_flight += 1
                self.most_seen = max(self.most_seen, self.in_flight)
                self.thread_width = max(self.thread_width, len(self.row_thread(row)))
                self.in_tasks += row.task is not None
                if len(self.origins) < 2:
                    self.origins.add(origin(row.url))
                if (where := self.relative(row.where)) is not None:
                    row.where = where  # once: as the program's folder would write it
                    self.where_width = max(self.where_width, len(where))
                thread = next(
                    (
                        span
                        for span in self.running.values()
                        if span.pid == event.pid and span.name == event.thread
                    ),
                    None,
                )
                if thread is not None:
                    thread.requests += 1
                made_by = event.task_serial or event.task  # None: not a task the program made
                if event.task_serial is not None and made_by is not None:
                    span = self._task(event.pid, made_by)
                    if span is not None:
                        span.requests += 1
            case RequestNamed(index=i, method=method, url=url) if i < len(self.tasks):
                named = self.tasks[i]
                assert isinstance(named, TracedRow)
                named.method, named.url = method, url
            case TaskFinished(index=i) | TaskFailed(index=i) | TaskCancelled(index=i):
                if i < len(self.tasks) and self.tasks[i].finished is None:
                    self.in_flight -= 1
                    super().apply(event)
            case ProcessSeen(at=at, pid=pid):
                self.processes[pid] = Process(pid, event.ppid, event.argv, event.python, at)
            case ProcessEnded(at=at, pid=pid, how=how) if pid in self.processes:
                process = self.processes[pid]
                process.ended, process.how = at, how
            case ThreadSeen(at=at, pid=pid, ident=ident, name=name):
                span = self.running[(pid, ident)] = Span(name, pid, at)
                self.threads[(pid, ident, len(self.threads))] = span
            case ThreadEnded(at=at, pid=pid, ident=ident) if (pid, ident) in self.running:
                self.running.pop((pid, ident)).ended = at
            case AsyncTaskSeen(at=at, pid=pid, name=name, thread=thread, serial=serial):
                self.async_tasks[(pid, serial or name)] = Span(
                    name, pid, at, thread=thread, number=serial or None
                )
            case AsyncTaskEnded(at=at, pid=pid, name=name, state=state, serial=serial):
                if (span := self._task(pid, serial or name)) is not None:
                    span.ended, span.state = at, state
            case LoopBlocked(at=at, pid=pid, thread=thread, where=where):
                self.blocked.append(Blocked(pid, thread, at, where))
                if where is not None:  # JSON's loop_blocked_at, as for fetchviz's own runs
                    self.blocked_where = self.relative(where)
            case LoopUnblocked(at=at, pid=pid, thread=thread, worst=worst):
                for blocked in self.blocked:
                    if blocked.pid == pid and blocked.thread == thread and blocked.ended is None:
                        blocked.ended = at
                if worst is not None:
                    key = (pid, thread)
                    self.loop_worst[key] = max(self.loop_worst.get(key, 0.0), worst)
            case ProgramOutput(at=at, stream=stream, text=text, partial=partial):
                self.partial.pop(stream, None)
                if partial:
                    self.partial[stream] = text
                else:
                    self.output.append((at, stream, text))
                    self.output_count += 1
            case ProgramExited(exit_code=code, how=how, note=note):
                self.exit_code, self.how, self.note = code, how, note
            case _:
                super().apply(event)

    def _task(self, pid: int, key: int | str) -> Span | None:
        return self.async_tasks.get((pid, key))

    def request_title(self) -> str:
        """The requests' column title: with one server, its origin ("request ·
        http://127.0.0.1:8777"), each row its path; else each row says its host."""
        if len(self.origins) == 1:
            return f"request · {next(iter(self.origins))}"
        return "request"

    def thread_title(self) -> str:
        """What the rows' thread column holds: each request's asyncio task where it has one,
        else its thread."""
        if not self.in_tasks:
            return "thread"
        return "task" if self.in_tasks == len(self.tasks) else "thread/task"

    @staticmethod
    def row_thread(row: TaskRow) -> str:
        """What the rows' thread column says: the asyncio task where there is one, with its
        number when the program named it (tasks named alike told apart: `fetch #2`; asyncio's
        own names, Task-N, are each one's already)."""
        if isinstance(row, TracedRow) and row.task is not None:
            return task_label(row.task, row.task_number)
        return row.thread or ""

    def url(self, index: int) -> str | None:
        row = self.tasks[index] if index < len(self.tasks) else None
        return row.url if isinstance(row, TracedRow) else None

    @property
    def loop_lag_worst(self) -> float | None:
        """The worst any of the program's loops was late, seconds; None: it ran no loop."""
        return max(self.loop_worst.values()) if self.loop_worst else None

    def blocked_now(self) -> Blocked | None:
        """The loop blocked at the moment (the latest such), if one is."""
        return next((b for b in reversed(self.blocked) if b.ended is None), None)

    def _in_flight(self, now: float | None) -> tuple[int, float, float]:
        """From the requests' stamps (the events of several processes may arrive out of
        order: these are the times they happened): the most in flight at once, the time
        any was in flight, and their summed time. A request not ended yet counts to the
        program's end, or to `now` while it runs (None: it is in flight still)."""
        edges = []
        for row in self.tasks:
            if row.started is not None:
                finished = row.finished if row.finished is not None else (self.end or now)
                edges.append((row.started, 1))
                if finished is not None:
                    edges.append((max(finished, row.started), -1))
        edges.sort(key=lambda edge: (edge[0], edge[1]))
        most = current = 0
        fetching = summed = 0.0
        last = 0.0
        for at, step in edges:
            summed += current * (at - last)
            if current:
                fetching += at - last
            current += step
            most = max(most, current)
            last = at
        return most, fetching, summed

    def interrupted(self) -> int:
        """Failed requests that the program's Ctrl+C ended (escape stops it so): cut short,
        not failures of the server's or the client's."""
        return sum(row.error == INTERRUPTED for row in self.tasks)

    def most_in_flight(self) -> int:
        """The most requests in flight at once."""
        return self._in_flight(None)[0]

    def fetching(self, now: float) -> float:
        """The time the program had at least one request in flight."""
        return self._in_flight(now)[1]

    def overlap(self, now: float) -> float | None:
        """The requests' summed time over the time any was in flight: 1 is one at a time,
        10 is ten at once on average, however long the program ran without a request (its
        start-up, its imports: over its whole elapsed time, six requests made at once read
        1.8×, and a loop of them 0.8×). None before any request had time."""
        _, fetching, summed = self._in_flight(now)
        return summed / fetching if fetching > 0 else None

    def relative(self, where: str | None) -> str | None:
        """A `where` as the program's folder would write it."""
        if where is None or not self.cwd:
            return where
        path, sep, rest = where.partition(":")
        if os.path.isabs(path) and path.startswith(self.cwd + os.sep):
            return os.path.relpath(path, self.cwd) + sep + rest
        return where

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()

        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        tasks = []
        rows = sorted(self.tasks, key=lambda row: row.started or 0.0)
        by_index = {item["index"]: item for item in data["tasks"]}
        for row in rows:
            assert isinstance(row, TracedRow)
            item = by_index[row.index]
            item.update(
                method=row.method,
                task=row.task,
                task_number=row.task_number,
                pid=row.pid,
                where=self.relative(row.where),
            )
            tasks.append(item)
        data["tasks"] = tasks
        data.update(
            argv=list(self.argv),
            exit_code=self.exit_code,
            how=self.how,
            note=self.note,
            most_in_flight=self.most_in_flight(),
            fetching=r(self.fetching(self.end or 0.0)),
            overlap=r(self.overlap(self.end or 0.0)),
            loop_lag_max=r(self.loop_lag_worst),
            loop_blocked=[
                {
                    "pid": b.pid,
                    "thread": b.thread,
                    "started": r(self.offset(b.started)),
                    "duration": r((b.ended or self.end or b.started) - b.started),
                    "where": self.relative(b.where),
                }
                for b in self.blocked
            ],
            processes=[
                {
                    "pid": p.pid,
                    "ppid": p.ppid,
                    "argv": list(p.argv),
                    "python": p.python,
                    "started": r(self.offset(p.seen)),
                    "ended": r(self.offset(p.ended)),
                    "how": p.how,
                }
                for p in sorted(self.processes.values(), key=lambda p: p.seen)
            ],
            threads=[self._span_json(span) for span in self.threads.values()],
            async_tasks=[self._span_json(span) for span in self.async_tasks.values()],
        )
        return data

    def _span_json(self, span: Span) -> dict[str, Any]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        data: dict[str, Any] = {
            "name": span.name,
            "pid": span.pid,
            "started": r(self.offset(span.started)),
            "ended": r(self.offset(span.ended)),
            "requests": span.requests,
        }
        if span.thread is not None:  # a task
            data.update(thread=span.thread, state=span.state, number=span.number)
        return data
