"""What the tracer in each traced process says (inject/fetchviz_tracer.py), turned into events.

Each process sends messages, each a 4-byte length (little-endian) and a marshal'd tuple
(marshal: plain values only, and it runs no code; what a process cannot say plainly it says as
text): its kind, then its fields.

    hello       pid, ppid, argv, executable, at, python version
    start       id, at, method, url, thread, task, [file, line, function] | null, serial
    named       id, method, url              (a row begun as its connection opened)
    end         id, at, status, bytes, [error class names, message] | null, marks
    thread      ident, name, at             thread_end   ident, at
    task        name, at, thread, serial    task_end     name, at, state, serial
    blocked     thread, at, [file, line, function, called] | null
    unblocked   thread, at                  lag          thread, worst
    note        text                        bye          at
    spawned     pid, argv, at               (a child started through subprocess)

A request's number (its row) is given here, in the order the starts arrive, whichever
process they come from; `marks` are the moments phases.Marks reads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import linecache
import marshal
import time
import tokenize
from typing import Any

from fetchviz.core.events import (
    AsyncTaskEnded,
    AsyncTaskSeen,
    Event,
    LoopBlocked,
    LoopUnblocked,
    ProcessEnded,
    ProcessSeen,
    ProgramOutput,
    RequestNamed,
    RequestStarted,
    TaskCancelled,
    TaskFailed,
    TaskFinished,
    ThreadEnded,
    ThreadSeen,
)
from fetchviz.core.trace import INTERRUPTED
from fetchviz.runs.phases import Marks


def reason(names: list[str], message: str) -> str:
    """A short reason from an error's class names, read as fetchviz reads its own runs'."""

    def named(*parts: str) -> bool:
        return any(part in name for name in names for part in parts)

    if not names:
        return message  # the tracer's own words
    if named("KeyboardInterrupt"):
        return INTERRUPTED
    if named("ConnectionRefused"):
        return "connection refused"
    if named("gaierror", "NameResolution", "DNSError"):
        return "host not found"
    if named("CertVerification"):
        return "certificate verify failed"
    if named("Timeout", "TimeoutError"):
        return "timed out"
    if named("IncompleteRead", "ChunkedEncoding", "ClientPayload", "ContentLength"):
        return "connection closed mid-response"
    if named("RemoteDisconnected", "ServerDisconnected", "ConnectionReset", "RemoteProtocol"):
        return "server closed the connection"
    if named("LineTooLong"):
        return "response header too large"
    if named("TooManyRedirects"):
        return "too many redirects"
    if named("SSLError"):
        return "TLS error"
    text = message.strip().splitlines()[0] if message.strip() else ""
    said = f"{names[0]}: {text}" if text else names[0]
    return said if len(said) <= 60 else said[:59] + "…"


def where_text(where: Any) -> str | None:
    """'path:LINE in function', and what it called there: the callee's name where Python
    shows one, else the line itself ('time.sleep(0.5)')."""
    if not where:
        return None
    path, line, function = where[0], where[1], where[2]
    text = f"{path}:{line} in {function}"
    if len(where) > 3:
        called = where[3]
        if called:
            return f"{text} ({called})"
        source = _without_comment(linecache.getline(path, line).strip())
        if source:
            return f"{text}: {source}"
    return text


def _without_comment(line: str) -> str:
    """A line of source without its comment (tokenize tells a '#' in a string from one that
    starts a comment); a line that does not tokenize alone is kept whole."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                return line[: token.start[1]].rstrip()
    except (tokenize.TokenError, SyntaxError):
        pass
    return line


HEADER = 4


def messages(buffer: bytearray) -> list[Any]:
    """The whole messages at the front of `buffer`, taken off it; a partial one stays."""
    found = []
    while len(buffer) >= HEADER:
        size = int.from_bytes(buffer[:HEADER], "little")
        if len(buffer) < HEADER + size:
            break
        with contextlib.suppress(ValueError, EOFError, TypeError):  # not a tracer's: dropped
            found.append(marshal.loads(bytes(buffer[HEADER : HEADER + size])))
        del buffer[: HEADER + size]
    return found


class Decoder:
    """One run's messages, from all its processes, as events. Not thread-safe: one loop."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.count = 0  # rows so far
        self.open: dict[tuple[int, int], int] = {}  # (pid, id) -> index, of rows not ended
        self.https: dict[int, bool] = {}  # index -> its URL is https
        self.begun: dict[int, float] = {}  # index -> when its row began
        self.pids: set[int] = set()
        self.spawned: dict[int, list[str]] = {}  # pid -> argv, of each child started

    def decode(self, pid: int | None, message: Any) -> tuple[int | None, list[Event]]:
        """The events of one message from the connection of process `pid` (None until its
        hello); returns the pid the connection now belongs to."""
        try:
            kind, fields = message[0], list(message[1:])
        except (IndexError, TypeError, KeyError):
            return pid, []
        run = self.run_id
        if kind == "hello":
            pid, ppid, argv, executable, at, version = fields
            self.pids.add(pid)
            return pid, [ProcessSeen(run, at, pid, ppid, tuple(argv), f"{executable} {version}")]
        if pid is None:
            return pid, []
        match kind:
            case "start":
                rid, at, method, url, thread, task, where, serial = fields
                index = self.count
                self.count += 1
                self.open[(pid, rid)] = index
                self.https[index] = url.startswith("https:")
                self.begun[index] = at
                return pid, [
                    RequestStarted(
                        run, index, at, method, url, thread, task, pid, where_text(where), serial
                    )
                ]
            case "named":
                rid, method, url = fields
                named = self.open.get((pid, rid))
                if named is None:
                    return pid, []
                self.https[named] = url.startswith("https:")
                return pid, [RequestNamed(run, named, time.perf_counter(), method, url)]
            case "end":
                return pid, self._end(pid, *fields)
            case "thread":
                ident, name, at = fields
                return pid, [ThreadSeen(run, at, pid, ident, name)]
            case "thread_end":
                ident, at = fields
                return pid, [ThreadEnded(run, at, pid, ident)]
            case "task":
                name, at, thread, serial = fields
                return pid, [AsyncTaskSeen(run, at, pid, name, thread, serial)]
            case "task_end":
                name, at, state, serial = fields
                return pid, [AsyncTaskEnded(run, at, pid, name, state, serial)]
            case "blocked":
                thread, at, where = fields
                return pid, [LoopBlocked(run, at, pid, thread, where_text(where))]
            case "unblocked":
                thread, at = fields
                return pid, [LoopUnblocked(run, at, pid, thread)]
            case "lag":
                thread, worst = fields
                return pid, [LoopUnblocked(run, time.perf_counter(), pid, thread, worst)]
            case "note":
                return pid, [ProgramOutput(run, time.perf_counter(), "fetchviz", fields[0])]
            case "spawned":
                child, argv, _ = fields
                self.spawned[child] = argv
                return pid, []
            case "bye":
                return pid, [ProcessEnded(run, fields[0], pid, "exited")]
        return pid, []

    def untraced(self) -> list[tuple[int, list[str]]]:
        """The children started that never loaded the tracer: each pid and argv."""
        return [(pid, argv) for pid, argv in self.spawned.items() if pid not in self.pids]

    def _end(
        self,
        pid: int,
        rid: int,
        at: float,
        status: int | None,
        nbytes: int | None,
        error: list[Any] | None,
        marks: list[Any],
    ) -> list[Event]:
        index = self.open.pop((pid, rid), None)
        if index is None:
            return []
        timing = Marks()
        (
            timing.connect_start,
            timing.connected,
            timing.secured,
            timing.sent,
            timing.headers,
            timing.tls_known,
            timing.answers,
        ) = marks
        phases = timing.phases(self.begun.pop(index, at), at, self.https.pop(index, False))
        run = self.run_id
        if error is not None:
            names, message = error
            if "CancelledError" in names[:1]:
                return [TaskCancelled(run, index, at)]
            said = reason(names, message)
            return [TaskFailed(run, index, at, said, status, phases, timing.reused)]
        if status is None:
            return [TaskFailed(run, index, at, "no response", None, phases, timing.reused)]
        if status < 200:
            said = f"interim {status} taken for the answer"
            return [TaskFailed(run, index, at, said, status, phases, timing.reused)]
        if status >= 400:
            return [TaskFailed(run, index, at, f"HTTP {status}", status, phases, timing.reused)]
        return [TaskFinished(run, index, at, status, nbytes or 0, phases, timing.reused)]

    def unfinished(self, pids: set[int] | None, at: float, why: str) -> list[Event]:
        """End the rows still in flight (of `pids`, or all): the program went first."""
        events: list[Event] = []
        for (pid, rid), index in list(self.open.items()):
            if pids is None or pid in pids:
                del self.open[(pid, rid)]
                events.append(TaskFailed(self.run_id, index, at, why))
        return events


def in_start_order(events: list[Event]) -> list[Event]:
    """The same events in the order they happened, their rows numbered in the order the
    requests started. Decoded a process at a time (headless, once the program has ended), a
    child's requests were numbered before its parent's earlier ones; perf_counter is the
    same clock in every process (CLOCK_MONOTONIC), so their stamps order them."""
    events = sorted(events, key=lambda event: event.at)  # stable: a process's own order kept
    starts = [event.index for event in events if isinstance(event, RequestStarted)]
    number = {old: new for new, old in enumerate(starts)}
    return [_numbered(event, number) for event in events]


def _numbered(event: Any, number: dict[int, int]) -> Event:
    index = getattr(event, "index", None)
    if index is None or index not in number or number[index] == index:
        return event  # type: ignore[no-any-return]
    return dataclasses.replace(event, index=number[index])  # type: ignore[no-any-return]
