"""Record a session, play it back: the same JSON, the same table, the same screen, through
the same event path, with nothing started and nothing fetched."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import config_for
from fetchviz.cli import main
from fetchviz.cli.replay import MEASURE
from fetchviz.core.catalog import BY_ID
from fetchviz.records.recording import RecordingSource, RecordingWriter, read_recording
from fetchviz.records.replay import ReplaySource
from fetchviz.runs.headless import MEASURE_LIVE, run_all
from fetchviz.runs.runner import Runner
from fetchviz.ui.launch import replay_app
from fetchviz.ui.widgets.board import StrategyBoard
from fetchviz.ui.widgets.code import CodePanel
from fetchviz.ui.widgets.summary import Summary
from test_app import wait_until


def fetchviz(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fetchviz", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, str, str]:
    """A headless session of two strategies, recorded; its JSON and its table."""
    path = tmp_path_factory.mktemp("rec") / "session.jsonl.gz"
    args = ["-n", "4", "--delay", "40", "-s", "sync", "-s", "aiohttp", "--record", str(path)]
    as_json = fetchviz("--json", *args)
    assert as_json.returncode == 0, as_json.stderr
    table_path = path.with_name("table.jsonl")
    table = fetchviz("--headless", *args[:-1], str(table_path))
    assert table.returncode == 0, table.stderr
    return path, as_json.stdout, table.stdout


def test_replay_json_is_the_json_the_run_printed(recorded):
    path, original, _ = recorded
    replayed = fetchviz("replay", str(path), "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout) == json.loads(original)


def test_replay_headless_is_the_table_the_run_printed(recorded):
    path, _, table = recorded
    replayed = fetchviz("replay", str(path.with_name("table.jsonl")), "--headless")
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout == table


def test_a_recorded_sweep_weighs_each_run_against_the_sync_run_of_its_own_n(tmp_path):
    # Every run was ranked against the first run's N: "aiohttp #14 · 1000 · 15.7× faster"
    # beside a sync run of 100, and every sync row said "baseline".
    path = tmp_path / "sweep.jsonl"
    done = fetchviz("sweep", "--headless", "--tasks", "2,6", "-s", "sync", "-s", "aiohttp",
                    "--delay", "30", "--record", str(path))  # fmt: skip
    assert done.returncode == 0, done.stderr
    replayed = fetchviz("replay", str(path), "--headless")
    assert replayed.returncode == 0, replayed.stderr
    tables = re.split(r"\n(?=\d+ tasks · )", replayed.stdout)  # a table for each N
    assert [table.splitlines()[0].split(" · ")[0] for table in tables] == ["2 tasks", "6 tasks"]
    for table in tables:
        rows = {
            line.split()[0]: line for line in table.splitlines() if line[:4] in ("sync", "aioh")
        }
        assert rows["sync"].endswith("baseline") and "faster" in rows["aiohttp"], table
    as_json = json.loads(fetchviz("replay", str(path), "--json").stdout)
    sync_of_2 = next(r for r in as_json["runs"] if r["strategy"] == "sync" and len(r["tasks"]) == 2)
    assert as_json["config"]["tasks"] == 2 and len(as_json["runs"]) == 4
    assert as_json["baseline"]["elapsed"] == pytest.approx(sync_of_2["elapsed"], abs=1e-3)


def test_a_sample_taken_at_one_n_estimates_the_baseline_of_another(server, tmp_path, capsys):
    # As the dashboard weighs a run after `+`: the sample of one request scales to any N. The
    # tables by N drew each baseline from their own runs alone, and said "no sync baseline".
    writer = RecordingWriter(tmp_path / "two_ns.jsonl")
    runner = Runner(live=False)
    first = RecordingSource(runner, writer, owns_writer=False)
    asyncio.run(run_all(config_for(server, tasks=2), [BY_ID["aiohttp"]], source=first))
    second = RecordingSource(runner.quiet(), writer)  # its runs numbered on: #2
    asyncio.run(
        run_all(config_for(server, tasks=6), [BY_ID["aiohttp"]], source=second, sample=False)
    )
    assert main(["replay", str(tmp_path / "two_ns.jsonl"), "--headless"]) == 0
    shown = capsys.readouterr().out
    assert "no sync baseline" not in shown, shown
    assert shown.count("sync baseline estimated at") == 2, shown


def test_the_advice_on_an_estimated_baseline_is_what_the_command_in_use_can_do(tmp_path):
    """Live, add -s sync; a replay has no -s: the recording holds no sync run, record one."""
    path = tmp_path / "no-sync.jsonl"
    args = ["-n", "3", "--delay", "30", "-s", "aiohttp", "--record", str(path)]
    live = fetchviz("--headless", *args)
    assert live.returncode == 0, live.stderr
    assert live.stdout.rstrip().endswith(MEASURE_LIVE)
    replayed = fetchviz("replay", str(path), "--headless")
    assert replayed.returncode == 0, replayed.stderr
    assert "-s sync to measure" not in replayed.stdout
    assert replayed.stdout.rstrip().endswith(MEASURE)
    assert "record one (fetchviz -s sync … --record FILE)" in MEASURE
    assert replayed.stdout.replace(MEASURE, MEASURE_LIVE) == live.stdout  # and nothing else


async def test_the_dashboard_replays_the_recorded_values_and_source(recorded):
    path, original, _ = recorded
    expected = {run["strategy"]: run["elapsed"] for run in json.loads(original)["runs"]}
    recording = read_recording(path)
    recording.runs[1].source = "async def aiohttp_client(job):  # as it ran, that day\n"
    source = ReplaySource(recording, speed=10)
    app = replay_app(source)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_until(
            pilot,
            lambda: app.session.current is not None and app.session.current.strategy == "aiohttp",
        )
        await wait_until(pilot, lambda: app.session.current.closed)
        results = app.session.results()
        assert {s: round(r.elapsed(0), 4) for s, r in results.items()} == expected
        summary = app.screen.query_one(Summary).plain
        assert "measured" in summary  # the recorded sync run is the baseline
        assert "replay 2/2 · 10×" in str(app.screen.query_one(Summary).border_subtitle)
        board = str(app.screen.query_one(StrategyBoard).render())
        assert f"{expected['aiohttp']:6.2f}s" in board
        await pilot.press("c")
        assert "as it ran, that day" in app.screen.query_one(CodePanel).content.code
        await pilot.press("1")  # a live run's key
        await pilot.pause(0.2)
        toasts = " ".join(str(toast.render()) for toast in app.screen.query("Toast"))
        assert "This is a replay" in toasts
        assert app.session.current.strategy == "aiohttp"  # and nothing started
        await pilot.press("a", "r", "1")  # said once while it shows, not stacked over the board
        await pilot.pause(0.2)
        toasts = [str(toast.render()) for toast in app.screen.query("Toast")]
        assert sum("This is a replay" in toast for toast in toasts) == 1, toasts


async def test_replay_keys_pause_change_speed_jump_and_move_between_runs(recorded):
    path, _, _ = recorded
    source = ReplaySource(read_recording(path), speed=0.1)  # slow: there is time to press
    app = replay_app(source)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.session.current is not None)
        await pilot.press("space")
        assert source.clock.paused
        frozen = source.now()
        await pilot.pause(0.1)
        assert source.now() == frozen  # paused: the recording's time stands still
        await pilot.press("space", "right_square_bracket", "right_square_bracket")
        assert not source.clock.paused and source.clock.speed == 0.5
        await pilot.press("left_square_bracket")
        assert source.clock.speed == 0.25
        await pilot.press("right")  # the end of this run, at once, held there to be seen
        await wait_until(pilot, lambda: app.session.current.done)
        assert app.session.current.strategy == "sync" and source.clock.paused
        await pilot.press("space")  # the session goes on
        await wait_until(pilot, lambda: app.session.current.strategy == "aiohttp")
        await pilot.press("right")
        await wait_until(pilot, lambda: app.session.current.done)
        await pilot.press("p")  # the run before, from its start
        await wait_until(pilot, lambda: app.session.current.strategy == "sync")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.session.current.strategy == "aiohttp")


async def test_a_run_chosen_by_p_or_n_is_held_at_its_end(recorded):
    """At 10×, p replayed the run before in a blink and went on to the one after: it seemed
    to do nothing. The chosen run now stops at its end, paused; space goes on."""
    path, _, _ = recorded
    source = ReplaySource(read_recording(path), speed=10)
    app = replay_app(source)
    async with app.run_test(size=(100, 30)) as pilot:
        session = app.session
        await wait_until(pilot, lambda: session.current is not None and session.current.closed)
        await wait_until(pilot, lambda: session.current.strategy == "aiohttp")
        await wait_until(pilot, lambda: session.current.closed)
        await pilot.press("p")
        await wait_until(pilot, lambda: session.current.strategy == "sync")
        await wait_until(pilot, lambda: session.current.closed)
        await pilot.pause(0.3)  # at 10×, long enough for the next run to have begun and ended
        assert session.current.strategy == "sync" and source.clock.paused
        assert "paused" in str(app.screen.query_one(Summary).border_subtitle)
        await pilot.press("space")
        await wait_until(pilot, lambda: session.current.strategy == "aiohttp")


async def test_paused_n_and_p_show_the_chosen_run_at_its_end_and_the_board_as_it_stood(recorded):
    """After → (which pauses), n opened the next run at 0.00 s, every row Queued, though its
    key says "held at its end"; and p back to the first run kept the second's result on the
    board, a result that had not happened yet."""
    path, original, _ = recorded
    expected = {run["strategy"]: run["elapsed"] for run in json.loads(original)["runs"]}
    recording = read_recording(path)
    for run in recording.runs:  # two runs of their own (a compare-all's board is its group's)
        run.compare = False
    source = ReplaySource(recording, speed=0.1)  # slow: nothing ends by itself
    app = replay_app(source)
    async with app.run_test(size=(100, 30)) as pilot:
        session = app.session
        await wait_until(pilot, lambda: session.current is not None)
        await pilot.press("right")  # sync's end, paused
        await wait_until(pilot, lambda: session.current.done)
        await pilot.press("n")
        await wait_until(pilot, lambda: session.current.strategy == "aiohttp")
        await wait_until(pilot, lambda: session.current.done)  # at its end, not at 0.00 s
        assert source.clock.paused
        assert round(session.current.elapsed(0), 4) == expected["aiohttp"]
        assert session.results().keys() == {"sync", "aiohttp"}
        await pilot.press("p")
        await wait_until(pilot, lambda: session.current.strategy == "sync")
        await wait_until(pilot, lambda: session.current.done)
        assert session.results().keys() == {"sync"}  # aiohttp's run came after
        await pilot.pause(0.1)
        board = str(app.screen.query_one(StrategyBoard).render())
        assert f"{expected['aiohttp']:6.2f}s" not in board


async def test_at_80_columns_the_replays_frame_keeps_n_whole(recorded):
    """At 80 columns the frame read "replay 15/16 · 0.5× paused · N 10…", N cut (of 100):
    the delay goes first."""
    path, _, _ = recorded
    source = ReplaySource(read_recording(path), speed=0.1)
    app = replay_app(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.session.current is not None)
        await pilot.press("space")
        await pilot.pause(0.1)
        summary = app.screen.query_one(Summary)
        said = str(summary.border_subtitle)
        assert said == "replay 1/2 · 0.1× paused · N 4", said
        assert len(said) <= summary.size.width - 4  # inside the frame's corners


@pytest.mark.parametrize(
    "content, complaint",
    [
        (None, "no such file"),
        (b"", "empty"),
        (b"\x00\x01garbage\n", "not"),
        (b'{"hello": "world"}\n', "not a fetchviz recording"),
        (b'{"fetchviz": "9.0", "schema": 99, "created": "2030-01-01T00:00:00Z"}\n', "schema"),
    ],
)
def test_a_bad_recording_gets_one_line_and_exit_2(tmp_path, content, complaint):
    path = tmp_path / "bad.jsonl"
    if content is not None:
        path.write_bytes(content)
    for command in (["replay", str(path), "--json"], ["export", str(path), "--csv", "x.csv"]):
        done = fetchviz(*command)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
        assert complaint in done.stderr.lower()


def test_a_recording_cut_short_replays_what_it_holds(recorded, tmp_path):
    path, _, _ = recorded
    lines = path.with_name("table.jsonl").read_bytes().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"".join(lines[: len(lines) // 2]) + lines[len(lines) // 2][:7])
    done = fetchviz("replay", str(cut), "--json")
    assert done.returncode == 0
    assert "cut short" in done.stderr
    assert json.loads(done.stdout)["runs"][0]["strategy"] == "sync"


def test_export_writes_every_format_asked_for(recorded, tmp_path):
    path, _, _ = recorded
    har, trace, rows = tmp_path / "a.har", tmp_path / "a.json", tmp_path / "a.csv"
    done = fetchviz(
        "export", str(path), "--har", str(har), "--trace", str(trace), "--csv", str(rows)
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(har.read_text())["log"]["entries"]) == 8
    assert json.loads(trace.read_text())["traceEvents"]
    assert len(rows.read_text().splitlines()) == 1 + 8
    assert fetchviz("export", str(path)).returncode == 2  # nothing asked for


async def test_a_run_cut_short_ends_where_its_recording_stops(recorded, tmp_path):
    path, _, _ = recorded
    lines = path.with_name("table.jsonl").read_bytes().splitlines(keepends=True)
    cut = tmp_path / "cut.jsonl"
    first_end = next(i for i, line in enumerate(lines) if b'"RunFinished"' in line)
    cut.write_bytes(b"".join(lines[:first_end]))  # the first run's end never written
    source = ReplaySource(read_recording(cut), speed=10)
    app = replay_app(source)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot, lambda: app.session.current is not None and app.session.current.closed
        )
        assert "cut short" in (app.session.current.error or "")
        assert "cut short" in app.screen.query_one(Summary).plain.replace("\n", " ")
