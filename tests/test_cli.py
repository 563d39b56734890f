"""The command line as users and scripts call it: JSON fields, table, one-line errors."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from fetchviz.cli import main
from fetchviz.core.actions import ACTIONS
from fetchviz.core.catalog import BY_ID, STRATEGIES
from fetchviz.core.config import Config

BUILT_IN = list(BY_ID)


def fetchviz(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fetchviz", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_headless_json_has_the_documented_fields():
    done = fetchviz(
        "--headless", "--json", "-n", "4", "--delay", "30", "-s", "sync", "-s", "aiohttp"
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["config"]["tasks"] == 4
    assert result["config"]["delay_ms"] == 30
    assert result["config"]["timeout"] == 10.0
    assert result["config"]["loop"] == "asyncio"
    assert result["config"]["url"].startswith("http://127.0.0.1:")
    assert [run["strategy"] for run in result["runs"]] == ["sync", "aiohttp"]
    for run in result["runs"]:
        assert {"strategy", "elapsed", "ok", "failed", "tasks", "loop_lag_max", "latency"} <= set(
            run
        )
        assert (run["ok"], run["failed"]) == (4, 0)
        for index, task in enumerate(run["tasks"]):
            assert task["index"] == index
            assert 0 <= task["queued"] <= task["started"] < task["finished"] <= run["elapsed"]
            assert task["status"] == 200 and task["bytes"] > 0 and task["error"] is None
            assert task["thread"]
    assert result["baseline"]["measured"] is True
    assert result["baseline"]["elapsed"] == result["runs"][0]["elapsed"]


def test_headless_json_estimates_the_baseline_without_a_sync_run():
    done = fetchviz("--json", "-n", "3", "--delay", "30", "-s", "aiohttp")
    assert done.returncode == 0, done.stderr
    baseline = json.loads(done.stdout)["baseline"]
    assert baseline["measured"] is False and baseline["elapsed"] >= 3 * 0.03 * 0.9


def test_runs_that_fetched_nothing_are_not_ranked_or_used_as_a_baseline():
    """Nothing listens on port 9 of loopback: every run is 0 of 2 ok, says so, and none is
    faster than another, nor a baseline."""
    done = fetchviz("--headless", "--all", "-n", "2", "--url", "http://127.0.0.1:9/")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.split(" ")[0] in BUILT_IN]
    assert len(lines) == len(BUILT_IN)
    # The verdict, then any note on the loop (a busy machine can make httpx's set-up, which
    # runs on the loop, read as "loop blocked": true, and not what this test is about).
    verdicts = [line.split("  ")[-1].split(" · ")[0] for line in lines]
    assert verdicts == ["0 of 2 ok: not comparable"] * len(lines), done.stdout
    assert "faster" not in done.stdout
    assert "no sync baseline: sync's run is not a baseline (0 of 2 ok: not comparable)" in (
        done.stdout
    )
    result = json.loads(
        fetchviz("--json", "-s", "sync", "-n", "2", "--url", "http://127.0.0.1:9/").stdout
    )
    assert result["baseline"] == {"elapsed": None, "measured": False, "how": None, "errors": 0}
    assert result["runs"][0]["comparable"] is False


def test_headless_table_names_every_strategy_with_all():
    done = fetchviz("--headless", "--all", "-n", "2", "--delay", "20")
    assert done.returncode == 0, done.stderr
    for strategy in ("sync", "async-sequential", "gather-blocking", "executor", "httpx", "aiohttp"):
        assert f"\n{strategy} " in done.stdout
    assert "baseline" in done.stdout


def test_failed_tasks_are_results_not_errors():
    done = fetchviz(
        "--json", "-n", "2", "--url", "http://127.0.0.1:1/", "-s", "sync", "--timeout", "2"
    )
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)["runs"][0]
    assert (run["ok"], run["failed"]) == (0, 2)
    assert run["tasks"][0]["error"] == "connection refused" and run["tasks"][0]["status"] is None
    assert json.loads(done.stdout)["config"]["delay_ms"] is None


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["-n", "0"], "--tasks"),
        (["-n", "ten"], "--tasks"),
        (["-s", "fibers"], "unknown strategy"),
        # A key as on the board, a start, a capital: what a teacher types (no hint was given).
        (["-s", "3"], "3 is gather-blocking's key on the board: -s gather-blocking"),
        (["-s", "async"], "(did you mean async-sequential?)"),
        (["-s", "Sync"], "(did you mean sync?)"),
        (["--loop", "trio"], "unknown loop"),
        (["--url", "ftp://example.com/"], "http://"),
        (["--url", "not a url"], "http://"),
        (["--delay", "-5"], "--delay"),
        (["--timeout", "0"], "--timeout"),
        (["--timeout", "nan"], "--timeout"),
        (["--workers", "0"], "--workers"),
        (["--limit", "-1"], "--limit"),
        (["--url", "http://127.0.0.1:1/", "--delay", "100"], "--delay"),
        (["--bogus"], "--bogus"),
        (["serve", "--port", "70000"], "--port"),
        # As --cacert and a strategy's file say it (it said "[Errno 2] No such file …: '…'").
        (["--urls", "/nonexistent/urls.txt"], "--urls: /nonexistent/urls.txt: no such file"),
        (["--urls", "/"], "--urls: /: a folder, not a file of URLs"),
    ],
)
def test_bad_command_lines_get_one_line_and_exit_2(args, complaint):
    done = fetchviz(*args, "--headless")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert complaint in lines[0] and "Traceback" not in done.stderr


def test_version_and_help():
    assert fetchviz("--version").stdout.startswith("fetchviz ")
    help_text = fetchviz("--help").stdout
    for option in (
        "--tasks",
        "--strategy",
        "--all",
        "--url",
        "--delay",
        "--jitter",
        "--workers",
        "--limit",
        "--timeout",
        "--json",
        "--headless",
    ):
        assert option in help_text


def test_all_json_carries_queued_thread_and_loop_lag_per_strategy():
    done = fetchviz("--json", "--all", "-n", "3", "--delay", "40")
    assert done.returncode == 0, done.stderr
    runs = {run["strategy"]: run for run in json.loads(done.stdout)["runs"]}
    assert list(runs) == [s.id for s in STRATEGIES]
    sync = runs["sync"]
    assert sync["loop_lag_max"] is None
    assert all(t["queued"] == t["started"] for t in sync["tasks"])
    for name in ("async-sequential", "gather-blocking"):
        assert runs[name]["loop_lag_max"] >= 0.5 * runs[name]["elapsed"]  # the loop was stuck
    gathered = runs["gather-blocking"]["tasks"]
    assert max(t["queued"] for t in gathered) < min(t["started"] for t in gathered[1:])
    threads = {name: {t["thread"] for t in run["tasks"]} for name, run in runs.items()}
    assert all(thread.startswith("asyncio") for thread in threads["executor"])
    for name in ("sync", "async-sequential", "gather-blocking", "httpx", "aiohttp"):
        assert len(threads[name]) == 1 and next(iter(threads[name])).startswith("runner-")
    for run in runs.values():
        latency = run["latency"]
        assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]
        no_loop = run["strategy"] in ("sync", "threads")  # no asyncio at all
        assert isinstance(run["loop_lag_max"], float) or no_loop


def test_jitter_spreads_the_latency_within_its_bounds():
    done = fetchviz("--json", "-s", "aiohttp", "-n", "8", "--delay", "20", "--jitter", "60")
    assert done.returncode == 0, done.stderr
    tasks = json.loads(done.stdout)["runs"][0]["tasks"]
    durations = [t["finished"] - t["started"] for t in tasks]
    assert min(durations) >= 0.02  # never under the delay
    assert max(durations) - min(durations) > 0.005  # spread (8 draws within 5 ms: ~1e-6)
    assert max(durations) < 0.02 + 0.06 + 1.0  # bounded by delay + jitter, with slack


def test_small_things_of_the_command_line():
    assert "serve" in fetchviz("--help").stdout.splitlines()[0]  # the usage line names it
    serve_help = fetchviz("serve", "--help").stdout
    assert "extra random latency" in serve_help and "HTTP 500" in serve_help
    both = fetchviz("--all", "-s", "aiohttp")
    assert both.returncode == 2 and "drop -s NAME" in both.stderr
    elsewhere = fetchviz("serve", "--host", "192.0.2.1")  # TEST-NET-1: never this machine's
    assert elsewhere.returncode == 2 and "not an address of this machine" in elsewhere.stderr
    one = fetchviz("--headless", "-n", "1", "--delay", "0", "-s", "aiohttp")
    assert one.stdout.startswith("1 task · ")


def test_cacert_must_be_a_certificate_file(tmp_path):
    missing = fetchviz("--cacert", str(tmp_path / "nope.pem"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    bad = fetchviz("--cacert", str(junk))
    assert bad.returncode == 2 and "not a PEM certificate file" in bad.stderr


# Keys: the keymap file and `fetchviz keys`

RECORDING = Path(__file__).resolve().parent / "recordings" / "sync.jsonl.gz"
REMAP = 'tour.next = "pagedown"  # unquoted: a TOML table, read as the id tour.next\n'
REMAP += '"tour.previous" = "pageup"\nkeys = "?,f1"\n'
REMAPPED = {"tour.next": "pagedown", "tour.previous": "pageup", "keys": "question_mark,f1"}


def keys_rows(out: str) -> dict[str, list[str]]:
    """`fetchviz keys`' rows by id: its columns, split where two spaces part them."""
    header, *rows = out.splitlines()
    assert header.split() == ["id", "keys", "modes", "what", "it", "does"]
    return {row.split()[0]: re.split(r" {2,}", row) for row in rows}


def test_keys_lists_every_action_with_its_keys_modes_and_help(capsys):
    assert main(["keys"]) == 0
    rows = keys_rows(capsys.readouterr().out)
    assert list(rows) == [action.id for action in ACTIONS]
    assert rows["tour.next"] == ["tour.next", "space,right", "tour", "the tour's next step"]
    assert rows["quit"][2] == "dashboard,tour,replay,sweep,trace"


def test_keys_shows_the_keys_of_a_keymap(tmp_path, capsys):
    keymap = tmp_path / "keys.toml"
    keymap.write_text(REMAP)
    assert main(["keys", "--keymap", str(keymap)]) == 0
    rows = keys_rows(capsys.readouterr().out)
    assert {id_: rows[id_][1] for id_ in REMAPPED} == REMAPPED
    assert rows["tour.leave"][1] == "escape"  # what the keymap leaves out keeps its keys


def test_keys_with_a_broken_keymap_file_still_shows_the_ids_to_mend_it(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "fetchviz").mkdir()
    (tmp_path / "fetchviz" / "keymap.toml").write_text('"tour.nxt" = "pagedown"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["keys"]) == 2
    out, err = capsys.readouterr()
    assert keys_rows(out)["tour.next"][1] == "space,right"  # the defaults, every id
    assert "unknown action 'tour.nxt'" in err and len(err.strip().splitlines()) == 1


def test_the_user_s_keymap_file_is_read_where_no_keymap_is_given(tmp_path, monkeypatch, capsys):
    (tmp_path / "fetchviz").mkdir()
    (tmp_path / "fetchviz" / "keymap.toml").write_text('"tour.next" = "pagedown"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["keys"]) == 0
    assert keys_rows(capsys.readouterr().out)["tour.next"][1] == "pagedown"


@pytest.mark.parametrize(
    "content, complaint",
    [
        ('"tour.nxet" = "x"\n', "unknown action 'tour.nxet'"),
        ('"tour.next" = "pagedwn"\n', "'tour.next': 'pagedwn' is not a key name"),
        ('"rerun" = "b"\n', "'b' is given to both 'rerun' and 'baseline' in the dashboard"),
        ('tour.next = "x"\n"tour.next" = "y"\n', "'tour.next' is given twice"),
        ('"quit" = 5\n', "'quit': give its keys as a string"),
        ("tour.next = \n", "not valid TOML"),
        ('"quit" = ""\n', "'quit': no key given"),
        (
            "tour.next = pagedown\n",
            'not valid TOML (Invalid value (at line 1, column 13)); keys go in quotes: "tour.',
        ),
        (b"\xff\xfe", "not valid TOML"),
        (None, "no such file"),
    ],
)
def test_a_bad_keymap_is_one_line_naming_it_and_exit_2(tmp_path, content, complaint):
    keymap = tmp_path / "bad.toml"
    if isinstance(content, bytes):
        keymap.write_bytes(content)
    elif content is not None:
        keymap.write_text(content)
    for command in (["keys"], ["--json", "-n", "1", "--delay", "0"]):  # headless checks it too
        done = fetchviz(*command, "--keymap", str(keymap))
        assert done.returncode == 2 and done.stdout == ""
        [line] = done.stderr.strip().splitlines()
        assert f"{keymap}: {complaint}" in line, line


def test_a_bad_user_keymap_stops_what_shows_a_screen_and_no_headless_run(tmp_path, monkeypatch):
    (tmp_path / "fetchviz").mkdir()
    keymap = tmp_path / "fetchviz" / "keymap.toml"
    keymap.write_text('"fetch" = "x"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for command in ([], ["keys"], ["tour"], ["sweep"], ["web"], ["replay", str(RECORDING)]):
        done = fetchviz(*command, timeout=30)
        assert done.returncode == 2, (command, done.stderr)
        prog = " ".join(["fetchviz", *command[:1]])
        said = f"{prog}: {keymap}: unknown action 'fetch'; `fetchviz keys` lists them"
        # keys shows the defaults all the same: the ids it takes to mend the file
        shown = " (the defaults are shown)" if command == ["keys"] else ""
        assert done.stderr == f"{said}{shown}\n"
    assert fetchviz("--json", "-n", "1", "--delay", "0", "-s", "aiohttp").returncode == 0
    assert fetchviz("replay", str(RECORDING), "--json").returncode == 0


def test_the_keymap_reaches_every_screen_and_each_tab_of_web(tmp_path, monkeypatch):
    """What launch is given: the keymap's keys as Textual names them; web's tabs, its path
    made absolute (a tab's dashboard may not share this folder)."""
    from fetchviz.ui import launch, web

    given: list[tuple[str, dict[str, object]]] = []

    def stand_in(name: str):
        def shown(*args: object, **kwargs: object) -> int:
            given.append((name, {"args": args, **kwargs}))
            return 0

        return shown

    for name in ("dashboard", "replay", "sweep"):
        monkeypatch.setattr(launch, name, stand_in(name))
    monkeypatch.setattr(web, "run_web", stand_in("web"))
    monkeypatch.setenv("TEXTUAL_DRIVER", "stand-in")  # no terminal here: a driver of its own
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keys.toml").write_text(REMAP)
    quick = ["--keymap", "keys.toml", "-n", "1", "--delay", "0"]
    for argv in ([], ["tour"], ["sweep"]):
        assert main([*argv, *quick]) == 0
    assert main(["replay", str(RECORDING), "--keymap", "keys.toml"]) == 0
    assert main(["web", "--keymap", "keys.toml", "-n", "3"]) == 0
    assert [name for name, _ in given] == ["dashboard", "dashboard", "sweep", "replay", "web"]
    assert all(shown["keymap"] == REMAPPED for _, shown in given[:4])
    assert given[0][1]["tour"] is False and given[1][1]["tour"] is True
    assert given[4][1]["args"][2] == ["-n", "3", "--keymap", str(tmp_path / "keys.toml")]


def test_live_json_replay_json_and_the_recording_say_the_config_with_the_same_keys(tmp_path):
    """One function writes a Config: every setting (jitter_ms and cacert too), everywhere."""
    path = tmp_path / "session.jsonl"
    args = ["-n", "2", "--delay", "20", "--jitter", "5", "-s", "aiohttp", "--record", str(path)]
    live = fetchviz("--json", *args)
    assert live.returncode == 0, live.stderr
    replayed = fetchviz("replay", str(path), "--json")
    assert replayed.returncode == 0, replayed.stderr
    config = json.loads(live.stdout)["config"]
    assert list(config) == list(json.loads(replayed.stdout)["config"])
    assert json.loads(replayed.stdout)["config"] == config
    assert list(config) == [field.name for field in fields(Config)]
    assert (config["jitter_ms"], config["cacert"]) == (5, None)
    run_line = json.loads(path.read_text().splitlines()[1])["run"]  # after the header
    assert list(run_line["config"]) == list(config)


@pytest.mark.parametrize("command", ["keys", "replay"])
def test_a_reader_that_leaves_early_gets_no_traceback(command):
    """`fetchviz keys | head -1`: the pipe closed before fetchviz wrote, as by a reader that
    had read its line. It stops as if killed by SIGPIPE, 141, and says nothing (a replay
    said "fetchviz replay: [Errno 32] Broken pipe" and exit 1)."""
    args = [command, "--headless", str(RECORDING)] if command == "replay" else [command]
    proc = subprocess.Popen(
        [sys.executable, "-m", "fetchviz", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before it has started: its first write finds no reader
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert b"Traceback" not in stderr and not stderr.strip(), stderr


def test_a_mistyped_command_word_names_the_commands(capsys):
    """`fetchviz tracee x.py` said "unrecognized arguments: tracee x.py"."""
    assert main(["tracee", "x.py"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no command 'tracee': did you mean trace? the commands are serve, replay" in err
    assert main(["-n", "5", "bogus"]) == 2  # not the first word: the options' own message
    assert "unrecognized arguments: bogus" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["serve", "web"])
def test_where_a_server_cannot_listen_is_a_bad_command_line(command):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for args, advice in (
            (["--port", port], "try another --port"),
            (["--host", "256.1.1.1"], "try --host 127.0.0.1"),
        ):
            done = fetchviz(command, *args, timeout=30)
            assert done.returncode == 2, done.stderr
            [line] = done.stderr.strip().splitlines()
            assert line.startswith(f"fetchviz {command}: cannot listen on ") and advice in line


def test_a_long_sequential_run_says_how_long_it_will_take_before_it_starts():
    """`fetchviz --headless -n 5000` (sync, 500 ms) said "sync (1/1)…" for 42 minutes."""
    from fetchviz.cli.run import long_wait
    from fetchviz.core.config import Config

    config = Config(tasks=5000, url="http://127.0.0.1:9/", delay_ms=500)
    said = long_wait(BY_ID["sync"], config)
    assert said == ": 5,000 requests one after another, at least 41 min"  # 41.7: at least 41
    assert long_wait(BY_ID["aiohttp"], config) == ""  # all at once: no such floor
    assert long_wait(BY_ID["sync"], Config(tasks=10, url=config.url, delay_ms=500)) == ""
