"""Recordings: real runs written as they happen read back to the very same results; a bad
file gets one line saying what is wrong with it; a file cut off by a killed process gives
back what it holds."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import config_for
from fetchviz import __version__
from fetchviz.core.catalog import BY_ID
from fetchviz.core.config import Config
from fetchviz.core.events import (
    LoopBeat,
    LoopBlocked,
    RunFinished,
    RunStarted,
    SyncSample,
    TaskFailed,
    TaskFinished,
    TasksQueued,
    TaskStarted,
)
from fetchviz.core.model import RunState
from fetchviz.core.source import RunRequest
from fetchviz.records.recording import (
    SCHEMA,
    Recording,
    RecordingError,
    RecordingSource,
    RecordingWriter,
    read_recording,
)
from fetchviz.runs.headless import result_json, run_all
from fetchviz.runs.runner import Runner
from scripted import ScriptedSource

CONFIG = Config(tasks=3, url="http://recorded.invalid/", delay_ms=None)


def record(path: Path, config: Config, strategies: list[str]) -> list[RunState]:
    """Real runs, each in a process of its own, recorded on their way to the consumer."""
    source = RecordingSource(Runner(live=False), RecordingWriter(path))
    runs = asyncio.run(run_all(config, [BY_ID[s] for s in strategies], source=source))
    assert source.error is None
    return runs


def states(recording: Recording) -> list[RunState]:
    return [run.state() for run in recording.runs]


def refused_url() -> str:
    """A loopback port nothing listens on: every request is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def recorded(server, tmp_path_factory) -> tuple[Config, list[RunState], Path]:
    """sync then aiohttp, recorded once for the tests that cut or read the file."""
    path = tmp_path_factory.mktemp("rec") / "runs.jsonl"
    config = config_for(server)
    return config, record(path, config, ["sync", "aiohttp"]), path


@pytest.mark.parametrize("name", ["runs.jsonl", "runs.jsonl.gz"])
def test_a_recording_reads_back_to_the_same_result_as_the_live_runs(server, tmp_path, name):
    config = config_for(server)
    live = record(tmp_path / name, config, ["sync", "aiohttp"])
    recording = read_recording(tmp_path / name)
    assert (recording.version, recording.schema, recording.truncated) == (__version__, 1, False)
    assert [run.config for run in recording.runs] == [config, config]
    assert result_json(config, states(recording)) == result_json(config, live)
    assert [run.state().to_json() for run in recording.runs] == [run.to_json() for run in live]


def test_a_run_line_says_what_ran_and_where_its_clock_stood(recorded):
    _, live, path = recorded
    sync, aiohttp = read_recording(path).runs
    assert [(run.run_id, run.strategy) for run in (sync, aiohttp)] == [
        (run.run_id, run.strategy) for run in live
    ]
    assert (sync.has_loop, aiohttp.has_loop) == (False, True)
    assert (sync.sample, aiohttp.sample) == (False, False)  # a sync run measured the baseline
    assert sync.source == BY_ID["sync"].source() and "aiohttp" in aiohttp.source
    assert sync.compare and aiohttp.compare  # several strategies headless: a compare-all
    start = next(event for event in sync.events if isinstance(event, RunStarted))
    assert abs(start.at - sync.perf) < 5  # taken as the run began, on the same clock
    assert sync.wall <= aiohttp.wall and sync.perf < aiohttp.perf


def test_a_headless_recording_keeps_the_loops_heartbeat_and_where_it_was_blocked(server, tmp_path):
    """Recorded at home headless, replayed on stage: the replay showed "loop lag 0 ms"
    through a blocked run, and the trace export had no lag counter, for want of beats."""
    path = tmp_path / "blocking.jsonl"
    command = ["--headless", "-s", "gather-blocking", "-n", "3", "--url", server.url(200)]
    done = subprocess.run(
        [sys.executable, "-m", "fetchviz", *command, "--record", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (run,) = read_recording(path).runs
    beats = [event for event in run.events if isinstance(event, LoopBeat)]
    blocked = [event for event in run.events if isinstance(event, LoopBlocked)]
    assert len(beats) >= 2 and beats[-1].worst >= 0.5  # three 200 ms requests on the loop
    assert any("requests.get" in (event.where or "") for event in blocked), blocked
    assert run.state().loop.worst >= 0.5


def test_failed_tasks_read_back_with_their_reasons(tmp_path):
    config = Config(tasks=4, url=refused_url(), delay_ms=None, timeout=2)
    live = record(tmp_path / "failed.jsonl.gz", config, ["aiohttp"])
    recording = read_recording(tmp_path / "failed.jsonl.gz")
    (run,) = states(recording)
    assert run.failed == 4 and {row.error for row in run.tasks} == {"connection refused"}
    assert result_json(config, [run]) == result_json(config, live)
    # a run with no sync run to come asked for a sync sample: it is recorded too
    assert recording.runs[0].sample and isinstance(recording.runs[0].events[-1], SyncSample)


async def test_a_run_cut_short_is_recorded_up_to_its_cancelled_end(server, tmp_path):
    config = config_for(server, tasks=200)
    source = RecordingSource(Runner(live=False), RecordingWriter(tmp_path / "cut.jsonl"))
    runs: list[RunState] = []
    task = asyncio.create_task(run_all(config, [BY_ID["sync"]], source=source, runs=runs))
    while not runs or runs[0].finished_count < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    recording = read_recording(tmp_path / "cut.jsonl")
    (run,) = recording.runs
    assert isinstance(run.events[-1], RunFinished) and run.events[-1].cancelled
    assert run.state().to_json() == runs[0].to_json()
    assert not recording.truncated


def test_a_sweep_beside_the_session_is_recorded_into_its_file(server, tmp_path):
    # The dashboard's sweep (s) ran on a source of its own: `--record` kept none of its runs.
    config = config_for(server, tasks=3)
    session = RecordingSource(Runner(live=False), RecordingWriter(tmp_path / "s.jsonl"))
    quiet = session.quiet()
    assert quiet is not None and quiet.writer is session.writer
    swept = asyncio.run(run_all(config, [BY_ID["aiohttp"]], source=quiet))  # closes quiet
    after = asyncio.run(run_all(config, [BY_ID["sync"]], source=session))  # the file still open
    recording = read_recording(tmp_path / "s.jsonl")
    assert [(run.run_id, run.strategy) for run in recording.runs] == [(1, "aiohttp"), (2, "sync")]
    assert [run.state().to_json() for run in recording.runs] == [
        swept[0].to_json(),
        after[0].to_json(),
    ]
    assert not recording.truncated


def test_a_sweep_closed_after_its_session_says_nothing(tmp_path):
    # On q the session's recorder closes the file first; the sweep's, cancelled after, raised
    # "ValueError: flush of closed file" from a worker.
    session = RecordingSource(Runner(live=False), RecordingWriter(tmp_path / "s.jsonl"))
    quiet = session.quiet()
    assert quiet is not None
    session.close()
    quiet._record(quiet.writer.events, [RunStarted(1, "sync", 1, 0.0)])  # a cut run's last events
    quiet.close()
    assert quiet.error is None and read_recording(tmp_path / "s.jsonl").runs == []


@pytest.mark.parametrize("name", ["every.jsonl", "every.jsonl.gz"])
def test_every_event_type_round_trips_exactly(tmp_path, name):
    events = [
        RunStarted(1, "aiohttp", 3, 1234.567890123456789),
        TasksQueued(1, 3, 1234.5678901234568),
        TaskStarted(1, 0, 0.1 + 0.2, "asyncio_0 · é"),
        LoopBeat(1, 1234.6, 1e-9, 0.015625),
        TaskFinished(1, 0, 1234.7000000000001, 200, 11),
        TaskFailed(1, 1, 1235.0, "HTTP 500", 500),
        TaskFailed(1, 2, 1235.1, "timed out after 10 s"),
        RunFinished(1, 1235.2, cancelled=False, error=None, loop_lag_max=0.004),
        SyncSample(1, 1236.0, (0.1, 0.30000000000000004, 1 / 3)),
    ]
    writer = RecordingWriter(tmp_path / name)
    writer.run_started(1, "aiohttp", CONFIG, True, True, "async def f(job): ...", True)
    writer.events(events)
    writer.close()
    (run,) = read_recording(tmp_path / name).runs
    assert run.events == events
    assert all(type(a) is type(b) for a, b in zip(run.events, events, strict=True))
    assert run.events[-1].durations == events[-1].durations  # a tuple, as it was sent
    assert (run.config, run.has_loop, run.sample, run.compare) == (CONFIG, True, True, True)
    assert run.state().closed


def test_a_run_that_never_finished_is_kept_not_done(tmp_path):
    writer = RecordingWriter(tmp_path / "open.jsonl")
    writer.run_started(1, "sync", CONFIG, False, False, "def sync(job): ...", False)
    writer.events([RunStarted(1, "sync", 3, 10.0), TaskStarted(1, 0, 10.1, "MainThread")])
    writer.close()
    recording = read_recording(tmp_path / "open.jsonl")
    (run,) = states(recording)
    assert not recording.truncated and not run.done
    assert run.tasks[0].started == 10.1 and run.elapsed(11.0) == pytest.approx(1.0)


def header(**fields: object) -> str:
    return json.dumps({"fetchviz": __version__, "schema": SCHEMA, **fields}) + "\n"


RUN_LINE = json.dumps(
    {
        "run": {
            "run_id": 1,
            "strategy": "sync",
            "config": {"tasks": 3, "url": "http://x.invalid/", "delay_ms": None},
            "has_loop": False,
            "sample": False,
            "source": "def sync(job): ...",
            "compare": False,
            "wall": 1.7e9,
            "perf": 100.0,
        }
    }
)


def gzipped(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)  # the same bytes in every xdist worker


def bad_crc(text: str) -> bytes:
    data = bytearray(gzipped(text))
    data[-8] ^= 0xFF  # the trailer's CRC-32
    return bytes(data)


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.jsonl", b"", "{path} is empty: nothing was recorded in it"),
        ("empty.jsonl.gz", gzipped(""), "{path} is empty: nothing was recorded in it"),
        (
            "text.jsonl",
            b"this is not\na recording\n",
            "{path} is not a fetchviz recording (JSON Lines): line 1 is not a JSON object",
        ),
        (
            "pretty.json",
            json.dumps({"fetchviz": "0.1.0", "schema": 1}, indent=2).encode(),
            "{path} is not a fetchviz recording (JSON Lines): line 1 is not a JSON object",
        ),
        (
            "binary.jsonl",
            bytes(range(256)) * 4,
            "{path} is not a fetchviz recording (JSON Lines): line 1 is not a JSON object",
        ),
        (
            "plain.jsonl.gz",
            header().encode(),
            "{path} is not gzip-compressed, though its name ends in .gz: rename it without .gz "
            "if it is a plain recording",
        ),
        (
            "method.jsonl.gz",
            b"\x1f\x8b\x63" + bytes(40),
            "{path} is a corrupt gzip file (Error -3 while decompressing data: unknown "
            "compression method): record it again",
        ),
        (
            "crc.jsonl.gz",
            bad_crc(header()),
            "{path} is a corrupt gzip file (Error -3 while decompressing data: incorrect data "
            "check): record it again",
        ),
        (
            "other.jsonl",
            b'{"log": {"version": "1.2"}}\n',
            "{path} is not a fetchviz recording (it has no fetchviz header line): make one "
            "with --record FILE",
        ),
        (
            "newer.jsonl",
            b'{"fetchviz": "9.3", "schema": 2, "created": "2030-01-01T00:00:00.000+00:00"}\n',
            "{path} was made by fetchviz 9.3 with schema 2; this fetchviz reads schema 1: "
            "upgrade fetchviz",
        ),
        (
            "orphan.jsonl",
            (
                header() + RUN_LINE + '\n{"e": "TaskStarted", "run_id": 7, "index": 0, "at": 1.0, '
                '"thread": "MainThread"}\n'
            ).encode(),
            "{path} line 3: an event of run 7, which the recording never started: the file is "
            "damaged; record it again",
        ),
        (
            "unknown.jsonl",
            (header() + RUN_LINE + '\n{"e": "TaskTeleported", "run_id": 1, "at": 1.0}\n').encode(),
            "{path} line 3: unknown event type 'TaskTeleported': made by a newer fetchviz? "
            "upgrade fetchviz",
        ),
        (
            "index.jsonl",
            (
                header() + RUN_LINE + '\n{"e": "TaskFinished", "run_id": 1, "index": 3, "at": 1.0, '
                '"status": 200, "nbytes": 1}\n'
            ).encode(),
            "{path} line 3: task 3 of run 1, which has 3 tasks: the file is damaged",
        ),
        (
            "field.jsonl",
            (
                header() + RUN_LINE + '\n{"e": "TaskFinished", "run_id": 1, "index": 0, "at": "1", '
                '"status": 200, "nbytes": 1}\n'
            ).encode(),
            "{path} line 3: a bad TaskFinished ('1' is not a number): the file is damaged",
        ),
        (
            "missing.jsonl",
            (header() + RUN_LINE + '\n{"e": "TaskFinished", "run_id": 1, "at": 1.0}\n').encode(),
            "{path} line 3: a TaskFinished event with fields missing: the file is damaged",
        ),
        (
            "middle.jsonl",
            (header() + RUN_LINE + '\n{"e": "RunStar\n{"e": "LoopBeat"}\n').encode(),
            "{path} is not a fetchviz recording (JSON Lines): line 3 is not a JSON object",
        ),
    ],
)
def test_a_bad_file_gets_one_line_saying_what_is_wrong(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RecordingError) as caught:
        read_recording(path)
    assert str(caught.value) == message.format(path=path)
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(RecordingError, match=r"^no such file: .*nowhere\.jsonl$"):
        read_recording(tmp_path / "nowhere.jsonl")


def test_a_directory_is_not_a_recording(tmp_path):
    with pytest.raises(RecordingError, match="is a directory: give a recording file"):
        read_recording(tmp_path)


def assert_cut_short(cut: Recording, whole: Recording) -> None:
    """What a cut recording holds is exactly the start of the whole one, and less of it."""
    assert cut.truncated and cut.runs
    assert [run.run_id for run in cut.runs] == [run.run_id for run in whole.runs][: len(cut.runs)]
    for part, run in zip(cut.runs, whole.runs, strict=False):
        assert part.events == run.events[: len(part.events)]
        assert (part.config, part.source, part.wall) == (run.config, run.source, run.wall)
    assert sum(len(run.events) for run in cut.runs) < sum(len(run.events) for run in whole.runs)


@pytest.mark.parametrize("where", [-5, 0.5, 0.25])
def test_a_recording_cut_mid_line_gives_what_it_holds(recorded, tmp_path, where):
    _, _, path = recorded
    data = path.read_bytes()
    at = where if where < 0 else int(len(data) * where)
    while data[at - 1 : at] == b"\n":  # not between two lines: in one
        at += 1
    (tmp_path / "cut.jsonl").write_bytes(data[:at])
    whole = read_recording(path)
    cut = read_recording(tmp_path / "cut.jsonl")
    assert_cut_short(cut, whole)
    for part in cut.runs:
        part.state()  # what is kept is a model that can be drawn


def test_a_recording_cut_between_lines_is_whole_up_to_there(recorded, tmp_path):
    _, _, path = recorded
    lines = path.read_bytes().splitlines(keepends=True)
    (tmp_path / "lines.jsonl").write_bytes(b"".join(lines[:-3]))
    recording = read_recording(tmp_path / "lines.jsonl")
    assert not recording.truncated  # nothing in it says more was to come
    assert sum(len(run.events) for run in recording.runs) == len(lines) - 3 - 3


@pytest.mark.parametrize("fraction", [0.9, 0.6])
def test_a_gzip_recording_cut_mid_stream_gives_what_it_decoded(recorded, tmp_path, fraction):
    _, _, path = recorded
    whole = read_recording(path)
    data = gzip.compress(path.read_bytes())
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: int(len(data) * fraction)])
    assert_cut_short(read_recording(tmp_path / "cut.jsonl.gz"), whole)


def test_a_gzip_recording_cut_in_its_header_has_nothing_to_give(tmp_path):
    (tmp_path / "head.jsonl.gz").write_bytes(gzipped(header())[:5])
    with pytest.raises(RecordingError, match="was cut off before its header: nothing was"):
        read_recording(tmp_path / "head.jsonl.gz")


def test_a_gzip_file_appended_to_reads_as_one(tmp_path):
    lines = [header(), RUN_LINE + "\n", '{"e": "RunFinished", "run_id": 1, "at": 2.0}\n']
    (tmp_path / "two.jsonl.gz").write_bytes(gzipped("".join(lines[:2])) + gzipped(lines[2]))
    recording = read_recording(tmp_path / "two.jsonl.gz")
    assert not recording.truncated and recording.runs[0].state().done


@pytest.mark.parametrize("name", ["live.jsonl", "live.jsonl.gz"])
def test_flush_if_due_lets_a_reader_see_everything_written(tmp_path, name):
    now = [0.0]
    writer = RecordingWriter(tmp_path / name, clock=lambda: now[0])
    writer.run_started(1, "sync", CONFIG, False, False, "def sync(job): ...", False)
    writer.events([RunStarted(1, "sync", 3, 10.0), TaskStarted(1, 0, 10.1, "MainThread")])
    now[0] = 0.9
    writer.flush_if_due()
    assert read_recording(tmp_path / name).runs == []  # still in a buffer: not due yet
    now[0] = 1.0
    writer.flush_if_due()
    recording = read_recording(tmp_path / name)
    assert [len(run.events) for run in recording.runs] == [2]
    assert recording.truncated == name.endswith(".gz")  # the gzip stream is still open
    writer.close()
    assert not read_recording(tmp_path / name).truncated


def two_steps(start: RunStarted) -> list:
    """A run that reports at once, then goes quiet for longer than any test waits."""
    run_id, t0 = start.run_id, start.at
    return [(0.0, [TasksQueued(run_id, 3, t0)]), (600.0, [RunFinished(run_id, t0 + 600)])]


async def test_a_quiet_second_is_flushed_too_and_close_records_the_last_events(tmp_path):
    path = tmp_path / "quiet.jsonl.gz"
    # A clock that never moves: only the source's own once-a-second flush can flush.
    source = RecordingSource(ScriptedSource(two_steps), RecordingWriter(path, clock=lambda: 0.0))
    delivered: list = []
    source.open(delivered.append)
    source.start(RunRequest(BY_ID["aiohttp"], CONFIG, compare=True))

    def events() -> list:
        runs = read_recording(path).runs
        return runs[0].events if runs else []

    for _ in range(300):
        if len(events()) == 2:  # RunStarted, TasksQueued
            break
        await asyncio.sleep(0.01)
    assert [type(event) for event in events()] == [RunStarted, TasksQueued]
    assert source.now() == pytest.approx(time.perf_counter(), abs=1)  # the inner source's clock
    source.close()
    (run,) = read_recording(path).runs
    assert run.compare and isinstance(run.events[-1], RunFinished) and run.events[-1].cancelled
    assert [event for batch in delivered for event in batch] == run.events
    inner = source.inner
    assert isinstance(inner, ScriptedSource) and inner.deliver is not None
    inner.deliver([TaskStarted(1, 0, 1.0, "late")])  # after close: passed on, not written
    assert delivered[-1] == [TaskStarted(1, 0, 1.0, "late")]
    assert read_recording(path).runs[0].events == run.events


class EagerSource(ScriptedSource):
    """A source that delivers a run's first events from inside start()."""

    def start(self, request):
        run = super().start(replace(request, begin=False))
        assert self.deliver is not None
        started = RunStarted(run.run_id, request.strategy.id, request.config.tasks, 1.0)
        self.deliver([started])
        return run


async def test_events_delivered_during_start_are_written_after_their_run(tmp_path):
    source = RecordingSource(EagerSource(two_steps), RecordingWriter(tmp_path / "eager.jsonl"))
    source.open(lambda batch: None)
    source.start(RunRequest(BY_ID["sync"], CONFIG))
    source.close()
    (run,) = read_recording(tmp_path / "eager.jsonl").runs
    assert isinstance(run.events[0], RunStarted) and run.events[0].at == 1.0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
event_like = st.fixed_dictionaries(
    {"e": st.sampled_from(["TaskStarted", "TaskFinished", "TaskFailed", "RunFinished"])},
    optional={
        "run_id": st.sampled_from([1, 2, True, "1"]),
        "index": st.integers(-2, 4),
        "at": json_values,
        "status": json_values,
        "thread": json_values,
        "reason": json_values,
        "nbytes": json_values,
    },
)


@settings(
    max_examples=200,
    deadline=None,  # what is checked is what it raises; a busy machine is slow, not wrong
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    data=st.binary(max_size=200),
    lines=st.lists(event_like | json_values, max_size=4),  # after a good header and run
    gz=st.booleans(),
)
def test_no_file_makes_the_reader_raise_anything_but_a_recording_error(tmp_path, data, lines, gz):
    text = (
        header() + RUN_LINE + "\n" + "".join(json.dumps(line) + "\n" for line in lines)
    ).encode()
    contents = [data, b"\x1f\x8b" + data, text, text[: len(data)]]
    contents += [gzip.compress(text), gzip.compress(text)[: len(data)]]
    path = tmp_path / ("fuzz.jsonl.gz" if gz else "fuzz.jsonl")
    for content in contents:
        path.write_bytes(content)
        try:
            recording = read_recording(path)
        except RecordingError as error:
            assert "\n" not in str(error)
        else:
            for run in recording.runs:
                run.state()  # whatever was read can be drawn
