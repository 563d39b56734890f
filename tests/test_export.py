"""Exports of real recorded runs: HAR a viewer accepts, a trace Perfetto draws, a CSV row per
task; what is not known is left unknown; an export never leaves half a file."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import os
import re
import shutil
import stat
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from conftest import config_for
from fetchviz.cli import main
from fetchviz.core.config import Config
from fetchviz.core.events import (
    BEAT_INTERVAL,
    PHASES,
    LoopBeat,
    RunStarted,
    TasksQueued,
    TaskStarted,
)
from fetchviz.records.export import CSV_HEADER, csv_rows, to_har, to_trace, write_aside
from fetchviz.records.recording import RecordedRun, Recording, RecordingWriter, read_recording
from test_recording import record, refused_url

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
REQUEST = {"method", "url", "httpVersion", "cookies", "headers", "queryString"}
REQUEST |= {"headersSize", "bodySize"}
RESPONSE = {"status", "statusText", "httpVersion", "cookies", "headers", "content"}
RESPONSE |= {"redirectURL", "headersSize", "bodySize"}
TIMINGS = {"blocked", "dns", "connect", "ssl", "send", "wait", "receive"}
RECORDINGS = Path(__file__).resolve().parent / "recordings"


@pytest.fixture(scope="module")
def recording(server, tmp_path_factory) -> Recording:
    """Real runs: a staircase (sync), waves of 2 threads with waits (executor), one loop with
    every request in flight at once (aiohttp); then a run whose every request is refused."""
    folder = tmp_path_factory.mktemp("export")
    record(folder / "ok.jsonl", config_for(server, workers=2), ["sync", "executor", "aiohttp"])
    refused = Config(tasks=3, url=refused_url(), delay_ms=None, timeout=2)
    record(folder / "refused.jsonl", refused, ["aiohttp"])
    ok, failed = read_recording(folder / "ok.jsonl"), read_recording(folder / "refused.jsonl")
    run = failed.runs[0]  # one recording of four runs, as a compare-all makes
    run.run_id, run.events = 9, [replace(event, run_id=9) for event in run.events]
    ok.runs.append(run)
    return ok


@pytest.fixture
def unfinished(tmp_path) -> Recording:
    """A run cut off by a killed process: a task started that never finished, one queued that
    never started."""
    writer = RecordingWriter(tmp_path / "cut.jsonl")
    writer.run_started(
        1, "executor", Config(tasks=2, url="http://x.invalid/"), True, False, "", False
    )
    writer.events(
        [
            RunStarted(1, "executor", 2, 100.0),
            TasksQueued(1, 2, 100.001),
            TaskStarted(1, 0, 100.002, "asyncio_0"),
            LoopBeat(1, 100.01, 0.0, 0.01),
            LoopBeat(1, 100.05, 0.03, 0.02),
        ]
    )
    writer.close()
    return read_recording(tmp_path / "cut.jsonl")


def test_har_has_a_page_per_run_with_the_fields_har_requires(recording):
    log = json.loads(json.dumps(to_har(recording)))["log"]  # plain JSON all the way
    assert log["version"] == "1.2" and log["creator"]["name"] == "fetchviz"
    assert [page["id"] for page in log["pages"]] == [f"run-{run.run_id}" for run in recording.runs]
    for page, run in zip(log["pages"], recording.runs, strict=True):
        assert page["title"] == f"{run.strategy} · {run.config.tasks} tasks"
        assert ISO_MS.match(page["startedDateTime"])
        assert page["pageTimings"]["onContentLoad"] == -1
        assert page["pageTimings"]["onLoad"] == pytest.approx(
            run.state().elapsed(0) * 1000, abs=1e-3
        )


def test_har_has_an_entry_per_started_task_with_every_required_field(recording):
    log = to_har(recording)["log"]
    started = sum(row.started is not None for run in recording.runs for row in run.state().tasks)
    assert len(log["entries"]) == started == 6 * 3 + 3
    pages = {page["id"] for page in log["pages"]}
    for entry in log["entries"]:
        assert entry["pageref"] in pages
        assert ISO_MS.match(entry["startedDateTime"])
        assert datetime.fromisoformat(entry["startedDateTime"]).tzinfo is not None
        assert set(entry["request"]) >= REQUEST and set(entry["response"]) >= RESPONSE
        assert set(entry["response"]["content"]) >= {"size", "mimeType"}
        assert entry["cache"] == {} and set(entry["timings"]) == TIMINGS
        assert entry["request"]["url"].startswith("http://127.0.0.1:")
        assert entry["_thread"]


def test_har_time_is_the_sum_of_the_known_timings_and_unknown_ones_are_minus_one(recording):
    for entry in to_har(recording)["log"]["entries"]:
        timings = entry["timings"]
        assert entry["time"] == pytest.approx(sum(v for v in timings.values() if v >= 0))
        assert (timings["dns"], timings["ssl"], timings["send"]) == (-1, -1, 0)  # plain HTTP
        assert timings["wait"] > 0 and timings["receive"] >= 0  # every task here finished
        assert timings["blocked"] == -1 or timings["blocked"] > 0  # a 0 reads as "stalled"
    # From the phases the clients reported: a new connection's connect, a reused one's -1.
    connects = [entry["timings"]["connect"] for entry in to_har(recording)["log"]["entries"]]
    assert any(value > 0 for value in connects)
    assert all(value > 0 or value == -1 for value in connects)


def test_har_entries_say_what_each_task_did(recording):
    entries = to_har(recording)["log"]["entries"]
    by_page = {page: [e for e in entries if e["pageref"] == page] for page in ("run-1", "run-9")}
    for entry in by_page["run-1"]:
        assert entry["response"]["status"] == 200 and entry["response"]["bodySize"] > 0
        assert entry["timings"]["wait"] > 30  # the server's 40 ms delay, within a margin
        assert "_error" not in entry["response"]
    for entry in by_page["run-9"]:
        response = entry["response"]
        assert (response["status"], response["bodySize"]) == (0, -1)
        assert response["content"]["size"] == 0
        assert response["_error"] == "connection refused"
    executor = recording.runs[1]
    waits = [e["timings"]["blocked"] for e in entries if e["pageref"] == f"run-{executor.run_id}"]
    assert max(waits) >= 2 * 40  # 6 tasks on 2 threads: the last ones waited two turns


def test_har_entries_begin_when_queued_and_end_when_finished(recording):
    run = recording.runs[0]
    state = run.state()
    entries = [e for e in to_har(recording)["log"]["entries"] if e["pageref"] == "run-1"]
    for entry, row in zip(entries, state.tasks, strict=True):
        assert row.queued is not None and row.finished is not None
        begin = datetime.fromisoformat(entry["startedDateTime"]).timestamp()
        assert begin == pytest.approx(run.wall + (row.queued - run.perf), abs=0.001)
        # The phases add up to the task's time but for the few µs between their stamps.
        assert entry["time"] == pytest.approx((row.finished - row.queued) * 1000, abs=0.1)


def test_an_unfinished_task_has_no_wait_and_no_response(unfinished):
    log = to_har(unfinished)["log"]
    assert log["pages"][0]["pageTimings"]["onLoad"] == -1  # the run never ended
    (entry,) = log["entries"]  # task 1 never started
    assert entry["timings"]["wait"] == -1 and entry["response"]["status"] == 0
    assert entry["time"] == pytest.approx(1.0)  # queued → started: all that is known
    assert entry["_state"] == "started"  # as the JSON and the CSV say it
    states = {
        e["args"]["state"]
        for e in to_trace(unfinished)["traceEvents"]
        if "state" in e.get("args", {})
    }
    assert states <= {"queued", "started", "finished", "failed", "cancelled"} and states


def x_events(trace: dict) -> list[dict]:
    return [event for event in trace["traceEvents"] if event["ph"] == "X"]


def test_trace_events_have_the_fields_the_format_requires(recording):
    trace = json.loads(json.dumps(to_trace(recording)))
    assert trace["displayTimeUnit"] == "ms"
    for event in trace["traceEvents"]:
        assert {"name", "ph", "ts", "pid", "tid"} <= set(event)
        if event["ph"] == "X":
            assert event["dur"] >= 0 and event["cat"] in {"request", "wait"}
    names = {
        event["pid"]: event["args"]["name"]
        for event in trace["traceEvents"]
        if event["name"] == "process_name"
    }
    assert names == {run.run_id: f"{run.strategy} · run {run.run_id}" for run in recording.runs}


def test_trace_has_a_slice_per_started_task_on_a_track_named_for_its_thread(recording):
    trace = to_trace(recording)
    threads = {
        (event["pid"], event["tid"]): event["args"]["name"]
        for event in trace["traceEvents"]
        if event["name"] == "thread_name"
    }
    requests = [event for event in x_events(trace) if event["cat"] == "request"]
    assert len(requests) == 6 * 3 + 3
    for run in recording.runs:
        rows = {row.index: row for row in run.state().tasks}
        for event in (e for e in requests if e["pid"] == run.run_id):
            row = rows[int(event["name"].removeprefix("task "))]
            assert threads[event["pid"], event["tid"]].split(" · ")[0] == row.thread
            assert event["args"]["status"] == row.status and event["args"]["error"] == row.error
            assert event["dur"] == pytest.approx((row.finished - row.started) * 1e6, abs=0.01)

    def tracks(run: RecordedRun) -> list[str]:
        tids = {e["tid"] for e in requests if e["pid"] == run.run_id}
        return sorted(threads[run.run_id, tid] for tid in tids)

    sync, executor, aiohttp, _ = recording.runs
    assert len(tracks(sync)) == 1  # one thread, one request at a time
    assert len(tracks(executor)) == 2  # two threads, one request at a time each
    # one loop, every request in flight at once: a track each, all named for the loop's thread
    (loop,) = {row.thread for row in aiohttp.state().tasks}
    assert tracks(aiohttp) == [loop] + [f"{loop} · {n}" for n in range(2, 7)]


def test_trace_slices_on_one_track_never_overlap(recording):
    """Perfetto drops slices that overlap without nesting: none of ours even nest."""
    tracks: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for event in x_events(to_trace(recording)):
        tracks.setdefault((event["pid"], event["tid"]), []).append(
            (event["ts"], event["ts"] + event["dur"])
        )
    for spans in tracks.values():
        spans.sort()
        for (_, end), (begin, _) in itertools.pairwise(spans):
            assert begin >= end - 0.002  # rounding to the nanosecond


def test_trace_times_count_from_the_first_runs_start(recording):
    events = x_events(to_trace(recording))
    first = [e for e in events if e["pid"] == recording.runs[0].run_id]
    assert 0 <= min(e["ts"] for e in first) < 50_000  # µs: the first request, soon after start
    later = [e for e in events if e["pid"] == recording.runs[-1].run_id]
    assert min(e["ts"] for e in later) > max(e["ts"] + e["dur"] for e in first)


def test_trace_shows_the_waits_and_the_loop_lag(recording, unfinished):
    trace = to_trace(recording)
    executor = recording.runs[1]
    waits = [e for e in x_events(trace) if e["cat"] == "wait" and e["pid"] == executor.run_id]
    assert len(waits) >= 4  # 6 tasks, 2 threads: at least 4 waited
    lag = [e for e in to_trace(unfinished)["traceEvents"] if e["ph"] == "C"]
    assert [e["name"] for e in lag] == ["loop lag (ms)"]
    assert lag[0]["args"]["lag"] == pytest.approx((0.04 - BEAT_INTERVAL) * 1000)
    unfinished_task = [e for e in x_events(to_trace(unfinished)) if e["cat"] == "request"]
    assert unfinished_task[0]["dur"] == pytest.approx((100.05 - 100.002) * 1e6)  # to its last


# The CSV's columns, as README (Record, replay, export) lists them.
CSV_COLUMNS = ["run", "strategy", "index", "queued", "started", "finished", "status", "bytes"]
CSV_COLUMNS += ["error", "thread", "state", "url", "reused", "phase_wait", "phase_connect"]
CSV_COLUMNS += ["phase_tls", "phase_first_byte", "phase_receive"]
TRACED_COLUMNS = ["method", "task", "pid", "where"]  # a traced program's: empty on the board's
CSV_COLUMNS += TRACED_COLUMNS


def test_csv_has_a_row_per_task_with_every_field_of_its_json(recording):
    rows = csv_rows(recording)
    assert rows[0] == CSV_HEADER == CSV_COLUMNS
    body = rows[1:]
    assert len(body) == sum(run.config.tasks for run in recording.runs)

    def cell(value: object) -> object:
        if isinstance(value, bool):
            return str(value).lower()
        return "" if value is None else value

    expected = []
    for run in recording.runs:
        for task in run.state().to_json()["tasks"]:
            phases = task.pop("phases") or dict.fromkeys(PHASES)
            task |= {f"phase_{name}": value for name, value in phases.items()}
            # every field of the JSON, no other
            assert sorted(task) == sorted(set(CSV_COLUMNS[2:]) - set(TRACED_COLUMNS))
            values = [task.get(column) for column in CSV_COLUMNS[2:]]
            expected.append([run.run_id, run.strategy, *map(cell, values)])
    assert body == expected
    refused = [row for row in body if row[0] == 9]
    assert {(row[6], row[7], row[8]) for row in refused} == {("", "", "connection refused")}
    assert {row[10] for row in refused} == {"failed"}
    assert {row[12] for row in body} <= {"true", "false", ""}
    assert any(row[12] == "false" for row in body)  # a new connection, as the client said
    text = io.StringIO()
    csv.writer(text).writerows(rows)  # it is something the csv module writes
    assert len(list(csv.reader(io.StringIO(text.getvalue())))) == len(rows)


@pytest.fixture(scope="module")
def two_urls(server, tmp_path_factory) -> Path:
    """A real run over two targets, task i fetching target i mod 2, recorded."""
    path = tmp_path_factory.mktemp("urls") / "two.jsonl"
    targets = (server.url(10), server.url(30))
    record(path, config_for(server, tasks=4, url=targets[0], urls=targets), ["aiohttp"])
    return path


def exported(argv: list[str], capsys) -> tuple[int, str]:
    code = main(["export", *argv])
    return code, capsys.readouterr().err


def test_a_csv_row_says_its_url_and_its_phases_as_the_json_does(two_urls, tmp_path, capsys):
    code, said = exported([str(two_urls), "--csv", str(tmp_path / "two.csv")], capsys)
    assert code == 0 and said == f"fetchviz export: wrote {tmp_path / 'two.csv'}\n"
    with open(tmp_path / "two.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert main(["replay", str(two_urls), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    targets = result["config"]["urls"]
    assert len(targets) == 2
    assert [row["url"] for row in rows] == [targets[i % 2] for i in range(4)]
    assert rows[0]["url"] != rows[1]["url"]  # the rows of a run can be told apart
    (run,) = result["runs"]
    assert len(rows) == len(run["tasks"]) == 4
    for row, task in zip(rows, run["tasks"], strict=True):
        assert row["url"] == task["url"] and int(row["index"]) == task["index"]
        assert row["state"] == task["state"] == "finished"
        assert task["phases"]["first_byte"] > 0  # aiohttp says what happened inside it
        for name, value in task["phases"].items():
            assert row[f"phase_{name}"] == ("" if value is None else str(value))
            assert value is None or float(row[f"phase_{name}"]) == value


@pytest.fixture
def at_home(tmp_path, monkeypatch) -> Path:
    """A copy of a real recording in a folder of its own, the current one."""
    shutil.copy(RECORDINGS / "sync.jsonl.gz", tmp_path / "x.jsonl.gz")
    os.symlink("x.jsonl.gz", tmp_path / "link.jsonl.gz")
    os.link(tmp_path / "x.jsonl.gz", tmp_path / "hard.jsonl.gz")
    shutil.copy(RECORDINGS / "sync.jsonl.gz", tmp_path / "other.jsonl.gz")
    (tmp_path / "plain.jsonl").write_bytes(gzip.decompress((tmp_path / "x.jsonl.gz").read_bytes()))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "argv, complaint",
    [
        (["x.jsonl.gz", "--csv", "x.jsonl.gz"], "--csv x.jsonl.gz is the recording itself"),
        (["x.jsonl.gz", "--har", "a.har", "--csv", "./x.jsonl.gz"], "is the recording itself"),
        (["link.jsonl.gz", "--trace", "x.jsonl.gz"], "--trace x.jsonl.gz is the recording"),
        (["x.jsonl.gz", "--har", "a.har", "--trace", "link.jsonl.gz"], "is the recording"),
        (["x.jsonl.gz", "--csv", "hard.jsonl.gz"], "--csv hard.jsonl.gz is the recording"),
        (["x.jsonl.gz", "--har", "o.json", "--trace", "./o.json"], "are the same file"),
        (["x.jsonl.gz", "--har", "a.har", "--csv", "no/c.csv"], "--csv no/c.csv: there is no"),
        (["x.jsonl.gz", "--csv", "."], "--csv . is a folder"),
        # Another recording, compressed or not: export wrote a HAR over one.
        (["x.jsonl.gz", "--har", "other.jsonl.gz"], "--har other.jsonl.gz is a recording"),
        (["x.jsonl.gz", "--csv", "c.csv", "--har", "plain.jsonl"], "plain.jsonl is a recording"),
    ],
)
def test_an_export_that_would_overwrite_its_recording_or_cannot_be_written_writes_nothing(
    at_home, argv, complaint, capsys
):
    before = sorted(os.listdir(at_home))
    original = {name: (at_home / name).read_bytes() for name in before}
    code, said = exported(argv, capsys)
    assert code == 2
    [line] = said.splitlines()
    assert complaint in line and ".tmp" not in line, line
    assert sorted(os.listdir(at_home)) == before  # none of the outputs, nothing beside them
    assert {name: (at_home / name).read_bytes() for name in before} == original
    assert read_recording(at_home / "link.jsonl.gz").runs


def test_an_output_that_is_a_pipe_is_written_not_read(at_home, capsys):
    # Telling whether an output is a recording read it: a FIFO (or --csv /dev/stdout at a
    # terminal) waited forever for a byte.
    os.mkfifo(at_home / "out.fifo")
    read: list[bytes] = []
    reader = threading.Thread(target=lambda: read.append((at_home / "out.fifo").read_bytes()))
    reader.start()
    code, said = exported(["x.jsonl.gz", "--csv", "out.fifo"], capsys)
    reader.join(timeout=30)
    assert code == 0 and said == "fetchviz export: wrote out.fifo\n"
    assert read and read[0].startswith(b"run,strategy")


def test_an_output_that_cannot_be_written_names_the_path_given(at_home, capsys):
    # /sys takes no new file, even from root (as CI runs): chmod would not stop root.
    assert os.path.isdir("/sys"), "a Linux machine: /sys is where nobody may write"
    code, said = exported(["x.jsonl.gz", "--csv", "/sys/c.csv"], capsys)
    assert code == 1
    # Permission denied, or a read-only file system where a container mounts /sys so.
    assert said.startswith("fetchviz export: cannot write /sys/c.csv: ") and said.count("\n") == 1


def test_write_aside_writes_the_file_and_nothing_else(tmp_path):
    write_aside(tmp_path / "out.har", "first\n")
    write_aside(tmp_path / "out.har", "second · é\r\n")
    assert (tmp_path / "out.har").read_bytes() == "second · é\r\n".encode()
    assert os.listdir(tmp_path) == ["out.har"]


def test_write_aside_leaves_the_old_file_when_the_swap_fails(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text("the good one")

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        write_aside(target, "the new one")
    assert target.read_text() == "the good one"
    assert os.listdir(tmp_path) == ["out.json"]


def test_write_aside_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "out.csv"
    target.write_text("the good one")

    def fail(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="Input/output error"):
        write_aside(target, "half")
    assert target.read_text() == "the good one"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_write_aside_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    target = tmp_path / "shared.csv"
    target.write_text("old")
    target.chmod(0o640)
    write_aside(target, "new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_write_aside_into_a_missing_folder_fails_cleanly(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_aside(tmp_path / "nowhere" / "out.har", "x")
    assert os.listdir(tmp_path) == []


def test_every_export_of_a_real_recording_is_valid_json_on_disk(recording, tmp_path: Path):
    write_aside(tmp_path / "x.har", json.dumps(to_har(recording)))
    write_aside(tmp_path / "x.json", json.dumps(to_trace(recording)))
    assert json.loads((tmp_path / "x.har").read_text())["log"]["entries"]
    assert json.loads((tmp_path / "x.json").read_text())["traceEvents"]
