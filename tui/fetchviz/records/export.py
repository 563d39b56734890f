"""A recording, exported for the tools people already have: HAR for a browser's network panel
and HAR viewers, Chrome's trace format for Perfetto and chrome://tracing, CSV for a sheet.

What a recording does not know (DNS, headers, the phases a client did not report) is left
unknown as each format says (-1, empty), never made up.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import secrets
import stat
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from fetchviz import __version__
from fetchviz.core.events import BEAT_INTERVAL, PHASES, LoopBeat
from fetchviz.core.model import RunState, TaskRow
from fetchviz.core.trace import TracedRow, TraceState
from fetchviz.records.recording import RecordedRun, Recording

# A row per task: its run, then every field its task has in the JSON (RunState.to_json), with
# the same values; the first ten columns as they always were, the others after them, and the
# phases flattened, one column each. README (Record, replay, export) lists them.
CSV_HEADER = ["run", "strategy", "index", "queued", "started", "finished", "status", "bytes"]
CSV_HEADER += ["error", "thread", "state", "url", "reused"]
CSV_HEADER += [f"phase_{name}" for name in PHASES]
CSV_HEADER += ["method", "task", "pid", "where"]  # a traced program's request's (trace --record)
UNKNOWN = -1  # HAR's word for a timing it does not have


def _wall(run: RecordedRun, stamp: float) -> float:
    """A stamp of the run's perf_counter, on the wall clock its start was recorded with."""
    return run.wall + (stamp - run.perf)


def _iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _url(run: RecordedRun, state: RunState, index: int) -> str:
    """The target of task `index`: task i of k targets fetches target i mod k; a traced
    program's request, the URL it asked for."""
    if run.traced:
        return state.url(index) or ""
    return run.config.target(index)


def _method(row: TaskRow) -> str:
    return getattr(row, "method", "") or "GET"  # a traced request's own; every strategy's GET


def _title(run: RecordedRun, state: RunState) -> str:
    if run.traced:
        return f"{' '.join(run.program)} · {len(state.tasks)} requests"
    return f"{run.strategy} · {run.config.tasks} tasks"


def _start(run: RecordedRun, state: RunState) -> float:
    return state.start if state.start is not None else run.perf


def to_har(recording: Recording) -> dict[str, Any]:
    """HAR 1.2: a page per run, an entry per task that started."""
    pages: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for run in recording.runs:
        state = run.state()
        page = f"run-{run.run_id}"
        pages.append(
            {
                "startedDateTime": _iso(_wall(run, _start(run, state))),
                "id": page,
                "title": _title(run, state),
                "pageTimings": {
                    "onContentLoad": UNKNOWN,
                    "onLoad": _ms(state.elapsed(0.0)) if state.done else UNKNOWN,
                },
            }
        )
        entries.extend(
            _entry(run, state, page, row) for row in state.tasks if row.started is not None
        )
    return {
        "log": {
            "version": "1.2",
            "creator": {
                "name": "fetchviz",
                "version": __version__,
                "comment": f"recorded by fetchviz {recording.version}",
            },
            "pages": pages,
            "entries": entries,
        }
    }


def _timings(row: TaskRow, queue: float) -> dict[str, float]:
    """HAR's timings, from the phases where the client reported them (phases.py); what is not
    known, or did not happen (no wait, a reused connection's connect), is -1. A wait of 0 is
    -1 too: DevTools reads a 0 there as a request stalled from end to end."""
    assert row.started is not None
    phases = dict(zip(PHASES, row.phases, strict=False)) if row.phases else {}
    known = row.finished is not None and phases.get("first_byte") is not None
    blocked = queue + ((phases.get("wait") or 0.0) if known else 0.0)
    timings: dict[str, float] = {
        "blocked": _ms(blocked) if blocked > 0 else UNKNOWN,
        "dns": UNKNOWN,
        "connect": UNKNOWN,
        "ssl": UNKNOWN,
        "send": 0,
        "wait": _ms(row.finished - row.started) if row.finished is not None else UNKNOWN,
        "receive": 0,
    }
    if known and row.reused is False and phases.get("connect") is not None:
        tls = phases.get("tls")
        timings["connect"] = _ms((phases["connect"] or 0.0) + (tls or 0.0))  # HAR: with ssl
        timings["ssl"] = _ms(tls) if tls else UNKNOWN
    if known:
        timings["wait"] = _ms(phases["first_byte"] or 0.0)
        timings["receive"] = _ms(phases.get("receive") or 0.0)
    return timings


def _entry(run: RecordedRun, state: RunState, page: str, row: TaskRow) -> dict[str, Any]:
    assert row.started is not None
    # The entry begins when the task was queued: HAR's `blocked` is the wait in a queue, and
    # the timings, in order from startedDateTime, add up to `time`.
    begin = row.queued if row.queued is not None else row.started
    queue = row.started - row.queued if row.queued is not None else 0.0
    timings = _timings(row, queue)
    response: dict[str, Any] = {
        "status": row.status or 0,
        "statusText": "",
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": [],
        "content": {"size": row.nbytes or 0, "mimeType": ""},
        "redirectURL": "",
        "headersSize": UNKNOWN,
        "bodySize": row.nbytes if row.nbytes is not None else UNKNOWN,
    }
    if row.error is not None:
        response["_error"] = row.error
    return {
        "pageref": page,
        "startedDateTime": _iso(_wall(run, begin)),
        # HAR's connect includes ssl: the time is the sum of the others.
        "time": round(sum(v for k, v in timings.items() if v >= 0 and k != "ssl"), 3),
        "request": {
            "method": _method(row),
            "url": _url(run, state, row.index),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [],
            "queryString": [],
            "headersSize": UNKNOWN,
            "bodySize": UNKNOWN,
        },
        "response": response,
        "cache": {},
        "timings": timings,
        "_thread": row.thread,
        "_state": row.state.name.lower(),  # as the JSON and the CSV write it
    }


class _Tracks:
    """Tracks (trace tids) for one run's process. Slices on one track must nest, which
    overlapping requests never do: a thread that has n requests in flight at once (one event
    loop running 1,000) gets n tracks, each named for it; a thread that runs one at a time,
    one track."""

    def __init__(self) -> None:
        self._free: dict[str, list[tuple[float, int]]] = {}  # per name: (free from, lane)
        self._lanes: dict[str, int] = {}  # per name: how many lanes it has

    def place(self, name: str, begin: float, end: float) -> tuple[str, int]:
        """Slices must come in order of `begin`: the first free lane is then always good."""
        free = self._free.setdefault(name, [])
        if free and free[0][0] <= begin:
            _, lane = heapq.heappop(free)
        else:
            lane = self._lanes.get(name, 0)
            self._lanes[name] = lane + 1
        heapq.heappush(free, (end, lane))
        return name, lane

    def tids(self) -> dict[tuple[str, int], int]:
        """A tid for every lane, numbered so that a thread's lanes sit together."""
        numbers = itertools.count(1)
        return {
            (name, lane): next(numbers)
            for name, count in self._lanes.items()
            for lane in range(count)
        }


def to_trace(recording: Recording) -> dict[str, Any]:
    """Chrome's Trace Event Format: a process per run, a track per thread, a slice per task
    (and per wait before one), the loop's lag as a counter; time from the first run's start."""
    events: list[dict[str, Any]] = []
    states = [(run, run.state()) for run in recording.runs]
    origin = _wall(states[0][0], _start(*states[0])) if states else 0.0
    for run, state in states:
        events.extend(_run_trace(run, state, origin))
    return {"traceEvents": events, "displayTimeUnit": "ms"}


def _run_trace(run: RecordedRun, state: RunState, origin: float) -> list[dict[str, Any]]:
    pid, shift = run.run_id, run.wall - origin  # this run's start, from the first's

    def us(stamp: float) -> float:
        return round((shift + (stamp - run.perf)) * 1e6, 3)

    started = sorted((row for row in state.tasks if row.started is not None), key=_started)
    end = state.end if state.end is not None else _last_stamp(run)
    tracks = _Tracks()
    slices: list[tuple[tuple[str, int], dict[str, Any]]] = []
    for row in started:
        assert row.started is not None
        finished = row.finished if row.finished is not None else end
        place = tracks.place(row.thread or "?", row.started, finished)
        args = {"url": _url(run, state, row.index), "status": row.status, "bytes": row.nbytes}
        args |= {"error": row.error, "state": row.state.name.lower()}
        label = f"task {row.index}"
        if isinstance(row, TracedRow) and isinstance(state, TraceState):
            label = f"{row.method} {row.index}"
            args |= {"where": state.relative(row.where), "task": row.task, "pid": row.pid}
        slices.append((place, _slice(label, "request", row.started, finished, args)))
    for row in sorted((row for row in started if _waited(row)), key=_queued):
        assert row.queued is not None and row.started is not None
        place = tracks.place("queued", row.queued, row.started)
        slices.append((place, _slice(f"task {row.index}", "wait", row.queued, row.started, {})))
    tids = tracks.tids()
    name = " ".join(run.program) if run.traced else run.strategy
    trace = [_meta("process_name", pid, 0, f"{name} · run {run.run_id}")]
    for (name, lane), tid in tids.items():
        trace.append(_meta("thread_name", pid, tid, name if lane == 0 else f"{name} · {lane + 1}"))
        trace.append(_meta("thread_sort_index", pid, tid, tid))
    for place, event in slices:
        event |= {"pid": pid, "tid": tids[place], "ts": us(event["ts"])}
        event["dur"] = round(event["dur"] * 1e6, 3)
        trace.append(event)
    trace.extend(_lag(pid, us, run.events))
    return trace


def _last_stamp(run: RecordedRun) -> float:
    """Where a run that never ended stops: its last event (unfinished slices end there)."""
    return max((event.at for event in run.events), default=run.perf)


def _started(row: TaskRow) -> float:
    return row.started if row.started is not None else 0.0


def _queued(row: TaskRow) -> float:
    return row.queued if row.queued is not None else 0.0


def _waited(row: TaskRow) -> bool:
    return row.queued is not None and row.started is not None and row.started > row.queued


def _slice(name: str, cat: str, begin: float, end: float, args: dict[str, Any]) -> dict[str, Any]:
    """A complete slice; ts and dur still in the run's seconds (ts absolute, dur relative)."""
    return {"name": name, "cat": cat, "ph": "X", "ts": begin, "dur": end - begin, "args": args}


def _meta(kind: str, pid: int, tid: int, value: str | int) -> dict[str, Any]:
    key = "sort_index" if kind.endswith("sort_index") else "name"
    return {"name": kind, "ph": "M", "ts": 0, "pid": pid, "tid": tid, "args": {key: value}}


def _lag(pid: int, us: Callable[[float], float], events: Iterable[object]) -> list[dict[str, Any]]:
    """The loop's lag at each beat: how much later than BEAT_INTERVAL it came."""
    beats = [event.at for event in events if isinstance(event, LoopBeat)]
    return [
        {
            "name": "loop lag (ms)",
            "ph": "C",
            "ts": us(at),
            "pid": pid,
            "tid": 0,
            "args": {"lag": _ms(max(0.0, at - before - BEAT_INTERVAL))},
        }
        for before, at in itertools.pairwise(beats)
    ]


def csv_rows(recording: Recording) -> list[list[object]]:
    """A row per task of every run, as the JSON says it (times in seconds from its run's
    start); empty where the JSON has null."""
    rows: list[list[object]] = [list(CSV_HEADER)]
    for run in recording.runs:
        for task in run.state().to_json()["tasks"]:
            phases = task.pop("phases") or {}
            task |= {f"phase_{name}": phases.get(name) for name in PHASES}
            task |= {"run": run.run_id, "strategy": run.strategy}
            rows.append([_cell(task.get(column)) for column in CSV_HEADER])
    return rows


def _cell(value: object) -> object:
    """What a sheet reads: nothing for null, and a boolean as JSON writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def write_aside(path: str | os.PathLike[str], text: str) -> None:
    """Write beside the file, then swap it in: a failure leaves the old file as it was, and a
    crash never leaves half a file where a good one was. Not a file (a pipe): written to."""
    target = os.fspath(path)
    if os.path.exists(target) and not os.path.isfile(target):
        # A pipe, a terminal, /dev/stdout: written to, never swapped (a swap would put a file
        # in the place of /dev/stdout, or of the FIFO a reader waits on).
        with open(target, "wb") as stream:
            stream.write(text.encode())
        return
    folder, name = os.path.split(os.path.abspath(target))
    temp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}.tmp")
    # 0o666 and the umask, as open() would make it: mkstemp's 0o600 would stay after the swap
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(text.encode())
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileNotFoundError):  # an existing file keeps its mode
            os.chmod(temp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
