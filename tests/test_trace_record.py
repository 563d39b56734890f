"""A traced program's runs recorded (`fetchviz trace --record FILE`), then read back as any
recording is: replayed headless and as JSON, on the trace screen, and exported."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path
from typing import Any
from unittest import mock

from test_trace import ROOT, TRACED, fetchviz, line_of, traced_json
from test_trace_snapshots import executor_run

from fetchviz.core.config import Config
from fetchviz.core.events import Event, ProgramOutput
from fetchviz.core.trace import TRACED as TRACE_STRATEGY
from fetchviz.core.trace import TraceState
from fetchviz.records.recording import RecordingWriter, read_recording
from fetchviz.records.replay import ReplaySource
from fetchviz.runs.server import EmbeddedServer
from fetchviz.ui.launch import replay_app
from fetchviz.ui.screens.trace_replay import TraceReplayScreen


def test_a_recorded_trace_replays_as_its_json_said(server: EmbeddedServer, tmp_path: Path) -> None:
    """The JSON a replay prints is the JSON the live trace printed: the same events, the
    same model."""
    record = tmp_path / "pool.jsonl.gz"
    live, _, code = traced_json(
        "--record", str(record), str(TRACED / "thread_pool.py"), server.url()
    )
    assert code == 0
    recording = read_recording(record)
    (run,) = recording.runs
    assert run.traced and run.strategy == TRACE_STRATEGY
    assert run.program == ("python", str(TRACED / "thread_pool.py"), server.url())
    assert run.cwd == str(ROOT) and not recording.truncated
    replayed = fetchviz("replay", "--json", str(record))
    assert replayed.returncode == 0, replayed.stderr
    again = json.loads(replayed.stdout)
    assert again["runs"] == live["runs"]
    assert again["exit_code"] == live["exit_code"] == 0
    assert len(again["runs"][0]["tasks"]) == 8


def test_a_recorded_trace_headless_and_exported(server: EmbeddedServer, tmp_path: Path) -> None:
    record = tmp_path / "gather.jsonl"
    script = TRACED / "aiohttp_gather.py"
    done = fetchviz("trace", "--headless", "--record", str(record), str(script), server.url(), "6")
    assert done.returncode == 0, done.stderr
    table = fetchviz("replay", "--headless", str(record))
    assert table.returncode == 0, table.stderr
    summary = table.stdout.splitlines()[:2]
    assert "exited with 0" in summary[0] and summary[1].startswith("6 requests: 6 ok")
    assert "\n".join(summary) in done.stdout  # the live run's own table said the same
    where = f"tests/traced/aiohttp_gather.py:{line_of(script, 'session.get(url)')} in fetch"
    assert where in table.stdout

    har, trace, sheet = tmp_path / "t.har", tmp_path / "t.json", tmp_path / "t.csv"
    exported = fetchviz(
        "export", str(record), "--har", str(har), "--trace", str(trace), "--csv", str(sheet)
    )
    assert exported.returncode == 0, exported.stderr
    log = json.loads(har.read_text())["log"]
    assert log["pages"][0]["title"].endswith("· 6 requests")
    assert "aiohttp_gather.py" in log["pages"][0]["title"]
    assert len(log["entries"]) == 6
    assert {e["request"]["url"] for e in log["entries"]} == {server.url()}
    assert {e["request"]["method"] for e in log["entries"]} == {"GET"}
    assert all(e["response"]["status"] == 200 for e in log["entries"])
    slices = [e for e in json.loads(trace.read_text())["traceEvents"] if e["ph"] == "X"]
    assert len(slices) == 6 and {s["args"]["where"] for s in slices} == {where}
    assert {s["args"]["task"] for s in slices} == {f"fetch-{i}" for i in range(6)}
    rows = list(csv.DictReader(sheet.open()))
    assert len(rows) == 6
    assert {row["strategy"] for row in rows} == {"trace"}
    assert {row["where"] for row in rows} == {where}
    assert {row["task"] for row in rows} == {f"fetch-{i}" for i in range(6)}


def test_a_headless_recording_keeps_the_programs_output_and_passes_it_on(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    """tracing.md: a replay plays the output panel too; recorded headless, it was empty."""
    record = tmp_path / "progress.jsonl"
    done = fetchviz(
        "trace", "--headless", "--record", str(record), str(TRACED / "progress.py"), server.url()
    )
    assert done.returncode == 0, done.stderr
    # On the terminal as written (its `\r`s read as line ends here: text mode).
    assert done.stdout.startswith("phase1\n\n[b]phase2 1/3\n[b]phase2 2/3\n[b]phase2 3/3\n")
    assert done.stderr == "oops\n"
    (run,) = read_recording(record).runs
    said = [
        (e.stream, e.text) for e in run.events if isinstance(e, ProgramOutput) and not e.partial
    ]
    assert said == [
        ("stdout", "phase1"),
        ("stdout", "[b]phase2 3/3"),  # the other stream's line came: this one is put first
        ("stderr", "oops"),
        ("stdout", "[done] 3/3"),  # never ended: kept at exit
    ], said


def test_record_needs_a_folder_that_exists(tmp_path: Path) -> None:
    done = fetchviz(
        "trace", "--record", str(tmp_path / "nope" / "x.jsonl"), str(TRACED / "no_requests.py")
    )
    assert done.returncode == 2 and "no folder" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_record_never_writes_over_a_file_that_is_not_a_recording(tmp_path: Path) -> None:
    # `--record crawl.py crawl.py` wrote the recording over the script, then traced that.
    script = tmp_path / "crawl.py"
    script.write_text("print('mine')\n")
    done = fetchviz("trace", "--headless", "--record", str(script), str(script))
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "exists and is not a recording" in line and "give a new file's name" in line
    assert script.read_text() == "print('mine')\n"


def test_record_replaces_an_old_recording_or_fills_an_empty_file(tmp_path: Path) -> None:
    program = str(TRACED / "no_requests.py")
    for name in ("old.jsonl", "empty.jsonl"):
        (tmp_path / name).touch()  # empty: as mktemp leaves one
        first = fetchviz("trace", "--headless", "--record", str(tmp_path / name), program)
        assert first.returncode == 0, first.stderr
        again = fetchviz("trace", "--headless", "--record", str(tmp_path / name), program)
        assert again.returncode == 0, again.stderr
        assert len(read_recording(tmp_path / name).runs) == 1


def write(path: Path, runs: list[list[Event]], traced: bool = True) -> None:
    """A recording of scripted runs: each run's events, with its run line."""
    writer = RecordingWriter(path)
    for events in runs:
        run_id = events[0].run_id
        program = ("python", "examples/tutorial/executor.py")
        # The run line's clock is the events' (perf_counter's, in a real recording): stamped
        # at the run's start, not at this machine's uptime, which a replay would wait out.
        started = mock.patch.object(time, "perf_counter", return_value=events[0].at)
        with started:
            writer.run_started(
                run_id,
                TRACE_STRATEGY if traced else "sync",
                Config(tasks=10, delay_ms=None),
                False,
                False,
                "",
                False,
                "",
                program,
                "/work",
            )
        writer.events(events)
    writer.close()


def second_run(first: list[Event], gap: float = 0.3) -> list[Event]:
    """The same run again, as if r was pressed `gap` seconds after it ended."""
    import dataclasses

    shift = max(event.at for event in first) + gap - first[0].at
    return [dataclasses.replace(e, run_id=2, at=e.at + shift) for e in first]


def test_a_mixed_recording_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    write(path, [executor_run()])
    other = tmp_path / "other.jsonl"
    write(other, [second_run(executor_run())], traced=False)
    path.write_bytes(path.read_bytes() + b"".join(other.read_bytes().splitlines(True)[1:]))
    done = fetchviz("replay", "--json", str(path))
    assert done.returncode == 2 and "both a traced program's runs" in done.stderr


async def wait_for(pilot: Any, check: Any, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await pilot.pause(0.05)
    raise AssertionError("not reached in time")


async def test_replayed_on_the_trace_screen_run_after_run(tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    first = executor_run()
    write(path, [first, second_run(first)])
    source = ReplaySource(read_recording(path), speed=4.0)
    # Paused from the start, then held at the first run's end: a busy machine's slow look at
    # it, played on (or paused a moment late), found the second run already playing.
    source.toggle_pause()
    app = replay_app(source, None, {})
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, TraceReplayScreen)

        def state() -> TraceState:
            assert screen.state is not None
            return screen.state

        await wait_for(pilot, lambda: screen.state is not None)
        await pilot.press("right")
        await wait_for(pilot, lambda: state().done)
        assert state().run_id == 1 and len(state().tasks) == 10
        assert state().exit_code == 0 and state().output_count == 21
        assert "Started: 0" in "\n".join(str(line) for line in screen.output.lines)
        assert "replay 1/2" in str(screen.summary.border_subtitle)
        # Played on, the next run plays by itself after the recorded pause.
        await pilot.press("space")
        await wait_for(pilot, lambda: state().run_id == 2 and state().done)
        assert "replay 2/2" in str(screen.summary.border_subtitle)
        await pilot.press("n")  # past the last run: said, nothing else
        await pilot.pause()
        assert state().run_id == 2
        await pilot.press("space")  # paused
        await pilot.pause()
        assert "paused" in str(screen.summary.border_subtitle)
        await pilot.press("p")  # the run before, from its start, paused there
        await wait_for(pilot, lambda: state().run_id == 1)
        await pilot.pause(0.3)
        assert not state().tasks
        await pilot.press("right")  # its end, held there
        await wait_for(pilot, lambda: state().done)
        await pilot.pause(0.5)
        assert state().run_id == 1  # held: not on to the next while paused
        await pilot.press("space")
        await wait_for(pilot, lambda: state().run_id == 2)
        # Played on (not paused), a run chosen by p still stops at its end: it rolled on into
        # the next run, as a board's replay no longer does.
        await wait_for(pilot, lambda: state().done)
        await pilot.press("p")
        await wait_for(pilot, lambda: state().run_id == 1 and state().done)
        await wait_for(pilot, lambda: "paused" in str(screen.summary.border_subtitle))
        await pilot.pause(1.0)  # past the recorded pause between the two, at 4×
        assert state().run_id == 1
        await pilot.press("s")  # a board replay's sweep chart: said, not silently nothing
        await wait_for(
            pilot, lambda: any("has no board" in str(n.message) for n in app._notifications)
        )
        bound = {binding.action for binding in screen.BINDINGS if hasattr(binding, "action")}
        assert {"pause", "skip", "next_run", "previous_run"} <= bound
        assert not bound & {"toggle_code", "failures", "rerun", "stop"}
    assert app.return_code in (0, None)
