"""Recordings: every run's events in a file, read back as they were, for replays and exports.

JSON Lines, gzip-compressed when the name ends in .gz: a header line, then for each run a line
saying what ran (when it starts), and its events in order, each `{"e": <class>, **fields}`.
Floats are written with repr, so every stamp reads back exactly as it was taken.

Size, measured: a 10,000-task aiohttp run against the embedded server (--delay 100) is 20,004
events: 1.7 MB as JSON Lines, 165 KB gzip-compressed; writing it cost the consumer's loop
80 ms in all, over a 5 s run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gzip
import io
import json
import operator
import os
import time
import typing
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fetchviz import __version__
from fetchviz.core.config import MAX_TASKS, Config
from fetchviz.core.events import (
    Event,
    TaskFailed,
    TaskFinished,
    TasksQueued,
    TaskStarted,
)
from fetchviz.core.model import RunState
from fetchviz.core.source import Batch, EventSource, Feed, Run, RunRequest
from fetchviz.core.trace import TRACED, TraceState

SCHEMA = 1
GZIP_MAGIC = b"\x1f\x8b"
GZIP_WBITS = 16 + zlib.MAX_WBITS  # a gzip header and trailer around the deflate stream
CHUNK = 1 << 20
FLUSH_EVERY = 1.0  # seconds: what a reader of a live recording (or a killed run's) can lose
# zlib's own default. gzip's (9), measured on that 10,000-task run: 3× the CPU (50 vs 16 ms)
# for a file 3% smaller.
COMPRESSLEVEL = 6


class RecordingError(Exception):
    """One line a user can act on: what is wrong with the file."""


Convert = Callable[[Any], Any]
R = typing.TypeVar("R", bound=Run)


def _exact(kind: type) -> Convert:
    def convert(value: Any) -> Any:
        # bool is an int to isinstance, never to a field typed int
        if type(value) is not kind:
            raise ValueError(f"{value!r} is not {kind.__name__}")
        return value

    return convert


def _float(value: Any) -> float:
    if type(value) not in (float, int):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def _converter(hint: Any) -> Convert:
    """What a field accepts from JSON, from its type: new fields need no code here."""
    if hint is float:
        return _float
    if hint in (int, str, bool):
        return _exact(hint)
    args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        item = _converter(args[0])

        def items(value: Any) -> tuple[Any, ...]:
            if not isinstance(value, list):
                raise ValueError(f"{value!r} is not a list")
            return tuple(item(v) for v in value)

        return items
    if type(None) in args and len(args) == 2:
        inner = _converter(next(arg for arg in args if arg is not type(None)))
        return lambda value: None if value is None else inner(value)
    return lambda value: value  # a type this reader does not know: as JSON gave it


def _converters(cls: type) -> dict[str, Convert]:
    hints = typing.get_type_hints(cls)
    return {field.name: _converter(hints[field.name]) for field in dataclasses.fields(cls)}


EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in typing.get_args(Event)}
_FIELDS = {
    cls: tuple(field.name for field in dataclasses.fields(cls)) for cls in typing.get_args(Event)
}
_GET = {cls: operator.attrgetter(*names) for cls, names in _FIELDS.items()}  # all have 2+ fields
_READ = {name: _converters(cls) for name, cls in EVENT_TYPES.items()}
_CONFIG = _converters(Config)
_RUN = {
    "run_id": _exact(int),
    "strategy": _exact(str),
    "has_loop": _exact(bool),
    "sample": _exact(bool),
    "source": _exact(str),
    "compare": _exact(bool),
    "wall": _float,
    "perf": _float,
    "summary": _exact(str),
    "program": _converter(tuple[str, ...]),
    "cwd": _exact(str),
}
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass
class RecordedRun:
    """One run as it was recorded: what ran, where its clock stood, and what it reported."""

    run_id: int
    strategy: str
    config: Config
    has_loop: bool
    sample: bool
    source: str
    compare: bool
    wall: float  # time.time() when it started
    perf: float  # time.perf_counter() at the same moment: maps its stamps to the wall clock
    events: list[Event]
    summary: str = ""  # its one line, as the board said it (recordings before 0.1: none)
    # A traced program's run (strategy "trace"): the program as typed, and its folder. Its
    # config holds only the embedded server's settings: its requests are numbered as they
    # came, not planned.
    program: tuple[str, ...] = ()
    cwd: str = ""

    @property
    def traced(self) -> bool:
        return self.strategy == TRACED

    def state(self) -> RunState:
        """The run as a live consumer saw it: the same model, the same events, the same order."""
        if self.traced:
            traced = TraceState.traced(self.run_id, self.program, self.cwd)
            for event in self.events:
                traced.apply(event)
            return traced
        run = RunState.new(
            self.run_id,
            self.strategy,
            self.config.tasks,
            self.has_loop,
            self.sample,
            self.config.targets,
        )
        for event in self.events:
            run.apply(event)
        return run


@dataclass
class Recording:
    version: str  # the fetchviz that wrote it
    schema: int
    runs: list[RecordedRun]
    truncated: bool  # the file ended mid-line or mid-gzip-stream: its writer was killed
    created: str = ""  # ISO 8601, UTC


class RecordingWriter:
    """Writes a recording as the runs go; flushed at least every second, so that a killed
    process leaves a file that reads back up to its last second."""

    def __init__(
        self, path: str | os.PathLike[str], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = os.fspath(path)
        self._clock = clock
        # Open across the runs, closed by close().
        if self.path.endswith(".gz"):
            self._file: io.BufferedIOBase = gzip.GzipFile(self.path, "wb", COMPRESSLEVEL)
        else:
            self._file = open(self.path, "wb")  # noqa: SIM115
        self._dirty = False
        self._closed = False
        self.runs = 0  # how many runs were written: said on leaving a screen that recorded
        created = datetime.now(UTC).isoformat(timespec="milliseconds")
        self._write([{"fetchviz": __version__, "schema": SCHEMA, "created": created}])
        self.flush()

    def run_started(
        self,
        run_id: int,
        strategy: str,
        config: Config,
        has_loop: bool,
        sample: bool,
        source: str,
        compare: bool,
        summary: str = "",
        program: tuple[str, ...] = (),
        cwd: str = "",
    ) -> None:
        wall, perf = time.time(), time.perf_counter()
        self.runs += 1
        run: dict[str, Any] = {
            "run_id": run_id,
            "strategy": strategy,
            "config": dataclasses.asdict(config),
            "has_loop": has_loop,
            "sample": sample,
            "source": source,
            "compare": compare,
            "wall": wall,
            "perf": perf,
            "summary": summary,
        }
        if strategy == TRACED:
            run |= {"program": list(program), "cwd": cwd}
        self._write([{"run": run}])

    def events(self, batch: Sequence[Event]) -> None:
        records = []
        for event in batch:
            cls = type(event)
            record: dict[str, Any] = {"e": cls.__name__}
            record.update(zip(_FIELDS[cls], _GET[cls](event), strict=True))
            records.append(record)
        self._write(records)

    def _write(self, records: list[dict[str, Any]]) -> None:
        if records:
            lines = "".join(_JSON.encode(record) + "\n" for record in records)
            self._file.write(lines.encode())
            self._dirty = True

    def flush_if_due(self) -> None:
        if self._clock() - self._flushed >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Everything written so far, to the OS: through gzip, a sync flush, which a reader
        decompresses without the stream's end."""
        if self._dirty:
            self._file.flush()
            self._dirty = False
        self._flushed = self._clock()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._file.close()


class Recorder:
    """Any feed, recorded: its runs and every batch of their events go to the file before the
    consumer sees them, and the feed itself knows nothing of it. What starts a run, and what
    its line says, is the subclass's (a strategy's run, a traced program's)."""

    def __init__(self, inner: Feed, writer: RecordingWriter, owns_writer: bool = True) -> None:
        self.inner = inner
        self.writer = writer
        self._owns_writer = owns_writer  # False: another recorder's file, flushed, not closed
        # Why recording stopped (the disk filled up, say): the runs go on regardless.
        self.error: OSError | None = None
        self._recording = True
        self._starting: list[Batch] | None = None  # batches delivered during a start
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def open(self, deliver: Callable[[Batch], None]) -> None:
        def recorded(batch: Batch) -> None:
            try:
                if self._starting is not None:  # its run's line is not written yet
                    self._starting.append(batch)
                else:
                    self._record(self.writer.events, batch)
                    self._record(self.writer.flush_if_due)
            finally:
                deliver(batch)

        self._loop = asyncio.get_running_loop()
        self._timer = self._loop.call_later(FLUSH_EVERY, self._tick)
        self.inner.open(recorded)

    def now(self) -> float:
        return self.inner.now()

    def _tick(self) -> None:
        """A quiet second (a run blocked, or waiting on a slow server) is flushed too."""
        self._record(self.writer.flush)
        if self._recording and self._loop is not None:
            self._timer = self._loop.call_later(FLUSH_EVERY, self._tick)

    def _record(self, write: Callable[..., None], *args: Any) -> None:
        # A shared file (a dashboard's sweep records into the session's) may be closed first,
        # on quitting: what comes after is not recorded, and says nothing.
        if not self._recording or self.writer.closed:
            return
        try:
            write(*args)
        except OSError as error:
            self.error = error
            self._stop()

    def started(self, start: Callable[[], R], line: Callable[[R], tuple[Any, ...]]) -> R:
        """A run started, and its line written (RecordingWriter.run_started's arguments). Its
        id is known only once it started; its events come later, on the loop, unless a source
        delivers some at once: those wait for the run's line."""
        self._starting = []
        try:
            run = start()
        finally:
            early, self._starting = self._starting, None
        self._record(self.writer.run_started, *line(run))
        for batch in early:
            self._record(self.writer.events, batch)
            self._record(self.writer.flush_if_due)
        return run

    def close(self) -> None:
        """The inner feed's last events (its runs' cancelled ends) are recorded, then the
        file is closed: nothing delivered after this is written."""
        try:
            self.inner.close()
        finally:
            self._stop()

    def _stop(self) -> None:
        self._recording = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            if self._owns_writer:
                self.writer.close()
            elif not self.writer.closed:
                self.writer.flush()
        except OSError as error:
            self.error = self.error or error


class RecordingSource(Recorder):
    """An event source, recorded: an event source still."""

    def __init__(
        self, inner: EventSource, writer: RecordingWriter, owns_writer: bool = True
    ) -> None:
        super().__init__(inner, writer, owns_writer)
        self.source = inner

    def quiet(self) -> RecordingSource | None:
        """A sweep's source beside this one (Runner.quiet), recorded into the same file."""
        quiet = getattr(self.source, "quiet", None)
        if quiet is None:
            return None
        return RecordingSource(quiet(), self.writer, owns_writer=False)

    def start(self, request: RunRequest) -> Run:
        strategy = request.strategy
        return self.started(
            lambda: self.source.start(request),
            lambda run: (
                run.run_id,
                strategy.id,
                request.config,
                strategy.is_async,
                request.sample,
                strategy.source(),
                request.compare,
                strategy.summary,
            ),
        )


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """A recording read back whole; a file cut off by a killed process, up to where it stops."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            head = file.read(2)
            if head == GZIP_MAGIC:
                data, cut = _gunzip(name, head, file)
            elif name.endswith(".gz") and head:
                raise RecordingError(
                    f"{name} is not gzip-compressed, though its name ends in .gz: "
                    "rename it without .gz if it is a plain recording"
                )
            else:
                data, cut = head + file.read(), False
    except FileNotFoundError:
        raise RecordingError(f"no such file: {name}") from None
    except IsADirectoryError:
        raise RecordingError(f"{name} is a directory: give a recording file") from None
    except OSError as error:
        raise RecordingError(f"cannot read {name}: {error.strerror or error}") from None
    return _parse(name, data, cut)


def is_recording(path: str | os.PathLike[str]) -> bool:
    """Whether the file begins with a fetchviz recording's header line: read as far as that
    line only, so that a big recording costs no more to tell than a small one."""
    if not os.path.isfile(path):  # a FIFO or a terminal (--csv /dev/stdout): never read
        return False
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            file: typing.BinaryIO = gzip.GzipFile(fileobj=raw) if compressed else raw  # type: ignore[assignment]
            first = file.readline(64 * 1024)
    except (OSError, EOFError, zlib.error):
        return False
    try:
        header = json.loads(first)
    except ValueError:
        return False
    return isinstance(header, dict) and isinstance(header.get("fetchviz"), str)


def _gunzip(name: str, head: bytes, file: typing.BinaryIO) -> tuple[bytes, bool]:
    """The decompressed bytes, and whether the stream was cut off before its end. Chunk by
    chunk: what decoded before a cut is kept (gzip.open would raise EOFError and give none)."""
    out = bytearray()
    decoder, fed = zlib.decompressobj(GZIP_WBITS), False
    chunk = head
    try:
        while chunk or (chunk := file.read(CHUNK)):
            out += decoder.decompress(chunk)
            chunk, fed = b"", True
            if decoder.eof:  # another member may follow: gzip allows appending
                chunk, decoder, fed = decoder.unused_data, zlib.decompressobj(GZIP_WBITS), False
    except zlib.error as error:
        raise RecordingError(f"{name} is a corrupt gzip file ({error}): record it again") from None
    return bytes(out), fed and not decoder.eof


def _parse(name: str, data: bytes, cut: bool) -> Recording:
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the last line was whole
    # Every line the writer writes ends in a newline: a last line without one is where it
    # was killed, kept if it happens to be whole.
    truncated = cut or bool(tail.strip())
    with contextlib.suppress(ValueError):
        _object(tail)
        lines.append(tail)
    numbered = ((number, line) for number, line in enumerate(lines, 1) if line.strip())
    first = next(numbered, None)
    if first is None:
        if data.strip() or cut:
            raise RecordingError(f"{name} was cut off before its header: nothing was recorded")
        raise RecordingError(f"{name} is empty: nothing was recorded in it")
    header = _load(name, *first)
    version, schema = header.get("fetchviz"), header.get("schema")
    if not isinstance(version, str) or type(schema) is not int:
        raise RecordingError(
            f"{name} is not a fetchviz recording (it has no fetchviz header line): "
            "make one with --record FILE"
        )
    if schema > SCHEMA:
        raise RecordingError(
            f"{name} was made by fetchviz {version} with schema {schema}; this fetchviz reads "
            f"schema {SCHEMA}: upgrade fetchviz"
        )
    runs: dict[int, RecordedRun] = {}
    for number, line in numbered:
        record, where = _load(name, number, line), f"{name} line {number}"
        if "e" in record:
            event = _event(where, record)
            run = runs.get(event.run_id)
            if run is None:
                raise RecordingError(
                    f"{where}: an event of run {event.run_id}, which the recording never "
                    "started: the file is damaged; record it again"
                )
            _check_index(where, run, event)
            run.events.append(event)
        elif "run" in record:
            run = _run(where, record["run"])
            if run.run_id in runs:
                raise RecordingError(f"{where}: run {run.run_id} starts twice: the file is damaged")
            runs[run.run_id] = run
        else:
            raise RecordingError(f"{where} is not a fetchviz record: the file is damaged")
    created = header.get("created")
    return Recording(
        version, schema, list(runs.values()), truncated, created if isinstance(created, str) else ""
    )


def _object(line: bytes) -> dict[str, Any]:
    """One JSON object; ValueError for anything else (UnicodeDecodeError is one)."""
    try:
        value = json.loads(line)
    except RecursionError:  # "[[[[…": nested deeper than the parser goes
        raise ValueError("nested too deep") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _load(name: str, number: int, line: bytes) -> dict[str, Any]:
    try:
        return _object(line)
    except ValueError:
        raise RecordingError(
            f"{name} is not a fetchviz recording (JSON Lines): line {number} is not a JSON object"
        ) from None


def _fields(
    where: str, what: str, record: dict[str, Any], known: dict[str, Convert]
) -> dict[str, Any]:
    """The fields this fetchviz knows, checked; fields a later one added are left out."""
    try:
        return {key: known[key](value) for key, value in record.items() if key in known}
    except ValueError as error:
        raise RecordingError(f"{where}: a bad {what} ({error}): the file is damaged") from None


def _event(where: str, record: dict[str, Any]) -> Event:
    kind = record["e"]
    known = _READ.get(kind) if isinstance(kind, str) else None
    if known is None:
        raise RecordingError(
            f"{where}: unknown event type {kind!r}: made by a newer fetchviz? upgrade fetchviz"
        )
    try:
        event: Event = EVENT_TYPES[kind](**_fields(where, kind, record, known))
    except TypeError:  # a field it needs is missing
        raise RecordingError(
            f"{where}: a {kind} event with fields missing: the file is damaged"
        ) from None
    return event


def _check_index(where: str, run: RecordedRun, event: Event) -> None:
    """A task the run does not have would break its model: say so now, not in a replay. (A
    traced program's requests are numbered as they came: its model drops what it lacks.)"""
    if run.traced:
        return
    if isinstance(event, TaskStarted | TaskFinished | TaskFailed):
        if not 0 <= event.index < run.config.tasks:
            raise RecordingError(
                f"{where}: task {event.index} of run {run.run_id}, which has "
                f"{run.config.tasks} tasks: the file is damaged"
            )
    elif isinstance(event, TasksQueued) and not 0 <= event.count <= run.config.tasks:
        raise RecordingError(
            f"{where}: {event.count} tasks queued in run {run.run_id}, which has "
            f"{run.config.tasks}: the file is damaged"
        )


def _run(where: str, record: Any) -> RecordedRun:
    if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
        raise RecordingError(f"{where}: a run line without its settings: the file is damaged")
    values = _fields(where, "run line", record, _RUN)
    settings = _fields(where, "run's settings", record["config"], _CONFIG)
    try:
        run = RecordedRun(config=Config(**settings), events=[], **values)
    except (TypeError, ValueError):
        raise RecordingError(
            f"{where}: a run line with fields missing: the file is damaged"
        ) from None
    if not 1 <= run.config.tasks <= MAX_TASKS:
        raise RecordingError(f"{where}: a run of {run.config.tasks} tasks: the file is damaged")
    return run
