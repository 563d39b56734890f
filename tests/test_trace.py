"""`fetchviz trace`: programs fetchviz has never seen (tests/traced/, examples/tutorial/), run
unmodified under the real tracer, against the embedded server, through the real command."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from faulty import faulty_server
from fetchviz.runs.server import EmbeddedServer

ROOT = Path(__file__).resolve().parent.parent
TRACED = ROOT / "tests" / "traced"


def fetchviz(*args: str, cwd: Path = ROOT, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from fetchviz.cli import entry; entry()", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def traced_json(*args: str, cwd: Path = ROOT) -> tuple[dict[str, Any], str, int]:
    done = fetchviz("trace", "--json", *args, cwd=cwd)
    assert done.stdout.strip(), done.stderr
    return json.loads(done.stdout), done.stderr, done.returncode


def line_of(path: Path, text: str) -> int:
    """The line of `path` that holds `text` (the first)."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


def body_size(url: str) -> int:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return len(response.read())


def tasks_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    (run,) = result["runs"]
    tasks: list[dict[str, Any]] = run["tasks"]
    return tasks


def test_a_thread_pool_each_request_with_its_thread_and_where(server: EmbeddedServer) -> None:
    script = TRACED / "thread_pool.py"
    result, _, code = traced_json(str(script), server.url())
    assert code == 0 and result["exit_code"] == 0
    tasks = tasks_of(result)
    assert len(tasks) == 8
    assert {task["state"] for task in tasks} == {"finished"}
    assert all(task["thread"].startswith("ThreadPoolExecutor") for task in tasks)
    assert len({task["thread"] for task in tasks}) > 1  # four workers shared them
    fetch_line = next(
        n
        for n, line in enumerate(script.read_text().splitlines(), 1)
        if ".get(" in line and "def" not in line
    )
    assert {task["where"] for task in tasks} == {
        f"tests/traced/thread_pool.py:{fetch_line} in fetch"
    }
    assert all(task["method"] == "GET" and task["task"] is None for task in tasks)
    assert all(task["status"] == 200 and task["bytes"] == body_size(server.url()) for task in tasks)
    assert {task["pid"] for task in tasks} == {result["runs"][0]["processes"][0]["pid"]}
    run = result["runs"][0]
    assert 2 <= run["most_in_flight"] <= 4  # four workers, never more
    assert 1 < run["overlap"] <= 4  # on average while fetching, as many as were at work
    assert [t["started"] for t in tasks] == sorted(t["started"] for t in tasks)
    phases = tasks[0]["phases"]
    assert phases is not None and phases["first_byte"] > 0.5 * server.delay_ms / 1000


def test_aiohttp_tasks_are_named_and_overlap(server: EmbeddedServer) -> None:
    script = TRACED / "aiohttp_gather.py"
    result, _, code = traced_json(str(script), server.url(), "20")
    assert code == 0
    tasks = tasks_of(result)
    assert len(tasks) == 20 and all(t["state"] == "finished" for t in tasks)
    assert {t["task"] for t in tasks} == {f"fetch-{i}" for i in range(20)}
    assert {t["thread"] for t in tasks} == {"MainThread"}
    where = f"tests/traced/aiohttp_gather.py:{line_of(script, 'session.get(url)')} in fetch"
    assert {t["where"] for t in tasks} == {where}
    run = result["runs"][0]
    assert run["most_in_flight"] >= 10  # gathered: they were in flight together
    # Their own overlap, over the time any was in flight (over the program's whole life, its
    # start-up and imports included, 20 requests at once read 1.8×, and a loop 0.8×).
    span = max(t["finished"] for t in tasks) - min(t["started"] for t in tasks)
    summed = sum(t["finished"] - t["started"] for t in tasks)
    assert run["fetching"] == pytest.approx(span, abs=0.002)  # one stretch: all at once
    assert run["overlap"] == pytest.approx(summed / span, rel=0.01)
    assert run["overlap"] > 5
    names = {task["name"] for task in run["async_tasks"]}
    assert {f"fetch-{i}" for i in range(20)} <= names
    assert all(t["bytes"] == body_size(server.url()) for t in tasks)


def test_httpx_async_and_sync_where_the_task_was_made(server: EmbeddedServer) -> None:
    script = TRACED / "httpx_async.py"
    result, _, code = traced_json(str(script), server.url(), "5")
    assert code == 0
    tasks = tasks_of(result)
    assert len(tasks) == 6 and all(t["state"] == "finished" for t in tasks)
    in_tasks = [t for t in tasks if t["task"] is not None]
    assert len(in_tasks) == 5
    gather = line_of(script, "asyncio.gather")
    assert {t["where"] for t in in_tasks} == {f"tests/traced/httpx_async.py:{gather} in main"}
    (last,) = [t for t in tasks if t["task"] is None]
    assert (
        last["where"] == f"tests/traced/httpx_async.py:{line_of(script, 'httpx.get(')} in <module>"
    )
    # httpx's own tasks (anyio's connection attempts) are not the program's
    assert not any("anyio" in task["name"] for task in result["runs"][0]["async_tasks"])


def test_httpx_streamed_answers_run_as_without_fetchviz(server: EmbeddedServer) -> None:
    size = body_size(server.url())
    result, output, code = traced_json(str(TRACED / "httpx_stream.py"), server.url())
    assert code == 0, output
    assert f"sync: {size}, async: {size}" in output
    tasks = tasks_of(result)
    assert [(t["state"], t["status"], t["bytes"]) for t in tasks] == [("finished", 200, size)] * 2


def test_urllib_request(server: EmbeddedServer) -> None:
    result, _, code = traced_json(str(TRACED / "urllib_plain.py"), server.url())
    assert code == 0
    tasks = tasks_of(result)
    assert [(t["state"], t["status"], t["bytes"]) for t in tasks] == [
        ("finished", 200, body_size(server.url()))
    ] * 2
    assert tasks[0]["finished"] <= tasks[1]["started"]  # one after the other
    assert result["runs"][0]["overlap"] == pytest.approx(1.0)  # said so: one at a time


def test_an_uncaught_http_error_is_its_answer(server: EmbeddedServer) -> None:
    """urllib's HTTPError, uncaught, ends the program with the 404's body unread: the row
    is the 404 it was, not a request the process ended before."""
    result, _, code = traced_json(str(TRACED / "urllib_404_uncaught.py"), server.url())
    assert code == 1
    assert [(t["state"], t["status"], t["error"]) for t in tasks_of(result)] == [
        ("finished", 200, None),
        ("failed", 404, "HTTP 404"),
    ]


def test_aiohttp_urls_with_base_url_and_params(server: EmbeddedServer) -> None:
    result, _, code = traced_json(str(TRACED / "aiohttp_params.py"), server.url())
    assert code == 0
    origin = server.url().split("/delay")[0]
    assert [t["url"] for t in tasks_of(result)] == [
        f"{origin}/delay/10?page=2",
        f"{origin}/delay/10?inline=1",
    ]


def test_threads_that_reuse_an_ended_ones_id_are_each_seen(server: EmbeddedServer) -> None:
    result, _, code = traced_json(str(TRACED / "short_threads.py"), server.url())
    assert code == 0
    names = sorted(thread["name"] for thread in result["runs"][0]["threads"])
    assert names == [f"Thread-{i} (work)" for i in range(1, 7)]
    requests = {t["name"]: t["requests"] for t in result["runs"][0]["threads"]}
    assert sum(requests.values()) == 3


def test_tasks_named_alike_are_each_their_own(server: EmbeddedServer) -> None:
    result, _, code = traced_json(str(TRACED / "same_names.py"), server.url())
    assert code == 0
    run = result["runs"][0]
    workers = [task for task in run["async_tasks"] if task["name"] == "worker"]
    assert len(workers) == 3  # not one span for the three
    assert [task["requests"] for task in workers] == [2, 2, 2]
    assert all(task["state"] == "done" and task["ended"] is not None for task in workers)
    others = [task for task in run["async_tasks"] if task["name"] != "worker"]
    assert [task["requests"] for task in others] == [1]  # main(), asyncio.run's task
    assert len(run["tasks"]) == 7
    # Each request names its task's number, and the numbers link them: two a worker.
    numbers = [task["number"] for task in workers]
    assert len(set(numbers)) == 3 and all(isinstance(n, int) for n in numbers)
    per_worker = Counter(r["task_number"] for r in run["tasks"] if r["task"] == "worker")
    assert per_worker == dict.fromkeys(numbers, 2)


def test_a_blocked_loop_says_where(server: EmbeddedServer) -> None:
    script = TRACED / "blocking_loop.py"
    result, _, code = traced_json(str(script), server.url())
    assert code == 0
    blocked = result["runs"][0]["loop_blocked"]
    sleep = f"tests/traced/blocking_loop.py:{line_of(script, 'time.sleep(0.5)')} in crunch"
    assert any(b["where"].startswith(sleep) and b["duration"] >= 0.3 for b in blocked), blocked
    assert all(b["thread"] == "MainThread" for b in blocked)
    assert result["runs"][0]["loop_lag_max"] >= 0.3
    assert result["runs"][0]["loop_blocked_at"] == blocked[-1]["where"]  # as a run's says it


def test_a_lone_loop_gets_no_thread_of_ours_and_its_block_is_seen(
    server: EmbeddedServer,
) -> None:
    """One asyncio loop and nothing else: no sender thread (an idle one costs such a program
    4-5 %), the heartbeat sends, and the alarm says where the loop was blocked."""
    script = TRACED / "lone_loop.py"
    result, printed, code = traced_json(str(script), server.url())
    assert code == 0, printed
    assert "threads ['MainThread']" in printed
    assert f"SIGURG {signal.SIG_DFL}" in printed  # as without fetchviz
    run = result["runs"][0]
    assert [t["state"] for t in run["tasks"]] == ["finished"]
    sleep = f"tests/traced/lone_loop.py:{line_of(script, 'time.sleep(0.3)')} in main"
    assert any(b["where"].startswith(sleep) for b in run["loop_blocked"]), run["loop_blocked"]


def test_a_lone_loop_watched_by_a_thread_if_asked(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FETCHVIZ_TRACE_THREAD=1: no signal, the watchdog thread, the same block found."""
    monkeypatch.setenv("FETCHVIZ_TRACE_THREAD", "1")
    script = TRACED / "lone_loop.py"
    result, printed, code = traced_json(str(script), server.url())
    assert code == 0, printed
    assert "'fetchviz-tracer'" in printed
    sleep = f"tests/traced/lone_loop.py:{line_of(script, 'time.sleep(0.3)')} in main"
    assert any(b["where"].startswith(sleep) for b in result["runs"][0]["loop_blocked"])


@pytest.mark.parametrize("watched_by", ["alarm", "thread"])
def test_a_block_that_is_two_calls_is_said_as_two(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch, watched_by: str
) -> None:
    """requests.get then time.sleep, the loop blocked throughout: the request's time at its
    line, the rest at the sleep's, not all of it as the request's."""
    if watched_by == "thread":
        monkeypatch.setenv("FETCHVIZ_TRACE_THREAD", "1")
    script = TRACED / "block_in_two.py"
    result, printed, code = traced_json(str(script), server.url(400))
    assert code == 0, printed
    blocked = result["runs"][0]["loop_blocked"]
    at = f"tests/traced/block_in_two.py:{line_of(script, 'requests.get')} in main (requests.get)"
    then = f"tests/traced/block_in_two.py:{line_of(script, 'time.sleep')} in main: time.sleep"
    assert [b["where"] for b in blocked] == [at, then + "(1.0)"], blocked
    assert blocked[0]["duration"] < 0.9 < blocked[1]["duration"]  # 0.4 s, then 1 s
    # one after the other, no gap: the second begins as the request ends
    assert abs(blocked[0]["started"] + blocked[0]["duration"] - blocked[1]["started"]) < 0.01


def test_a_program_that_handles_sigurg_keeps_it(server: EmbeddedServer) -> None:
    script = TRACED / "own_sigurg.py"
    result, printed, code = traced_json(str(script), server.url())
    assert code == 0, printed
    assert "its handler ran 1 times" in printed  # its own signal, and none of the alarm's
    run = result["runs"][0]
    sleep = f"tests/traced/own_sigurg.py:{line_of(script, 'time.sleep(0.3)')} in main"
    assert any(b["where"].startswith(sleep) for b in run["loop_blocked"]), run["loop_blocked"]
    assert [t["state"] for t in run["tasks"]] == ["finished"]


def test_uvloops_own_sigurg_is_its_own(server: EmbeddedServer) -> None:
    """uvloop keeps its own copy of signal.signal: its SIGURG is still the program's."""
    script = TRACED / "uvloop_sigurg.py"
    result, printed, code = traced_json(str(script), server.url())
    assert code == 0, printed
    assert "its handler ran 1 times" in printed
    run = result["runs"][0]
    sleep = f"tests/traced/uvloop_sigurg.py:{line_of(script, 'time.sleep(0.3)')} in main"
    assert any(b["where"].startswith(sleep) for b in run["loop_blocked"]), run["loop_blocked"]


def test_uvloop_its_tasks_and_where_it_blocked(server: EmbeddedServer) -> None:
    script = TRACED / "uvloop_blocking.py"
    result, _, code = traced_json(str(script), server.url())
    assert code == 0
    run = result["runs"][0]
    assert len(run["tasks"]) == 6 and {t["state"] for t in run["tasks"]} == {"finished"}
    sleep = f"tests/traced/uvloop_blocking.py:{line_of(script, 'time.sleep(0.5)')} in main"
    assert any(b["where"].startswith(sleep) for b in run["loop_blocked"]), run["loop_blocked"]
    named = {task["name"]: task for task in run["async_tasks"]}
    assert named["last"]["requests"] == 1 and named["last"]["state"] == "done"
    assert sum(task["requests"] for task in named.values()) == 6
    assert run["tasks"][-1]["task"] == "last"


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_children_are_traced(server: EmbeddedServer, method: str) -> None:
    result, _, code = traced_json(str(TRACED / "multi_proc.py"), server.url(), "4", method)
    assert code == 0
    run = result["runs"][0]
    tasks = tasks_of(result)
    assert len(tasks) == 4 and all(t["state"] == "finished" for t in tasks)
    main = run["processes"][0]["pid"]
    assert main not in {t["pid"] for t in tasks}  # the pool's processes made them
    assert len(run["processes"]) >= 3


def test_the_table_tells_tasks_named_alike_and_processes_apart(server: EmbeddedServer) -> None:
    done = fetchviz("trace", "--headless", str(TRACED / "same_names.py"), server.url())
    assert done.returncode == 0, done.stderr
    workers = [line for line in done.stdout.splitlines() if " worker #" in line]
    assert len(workers) == 6  # two requests a worker, each worker its number
    assert len({line.split(" worker #")[1].split()[0] for line in workers}) == 3
    assert "process" not in done.stdout.splitlines()[4]  # one process: no column for it
    done = fetchviz("trace", "--headless", str(TRACED / "multi_proc.py"), server.url(), "4")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    (head,) = [line for line in lines if line.lstrip().startswith("#")]
    assert " process thread " in head  # no asyncio task among them: threads
    rows = [line.split() for line in lines if " GET /" in line]
    assert len(rows) == 4 and all(row[9].isdigit() for row in rows), rows


def test_a_subprocess_is_traced_too(server: EmbeddedServer) -> None:
    result, _, code = traced_json(str(TRACED / "sub_proc.py"), server.url())
    assert code == 0
    tasks = tasks_of(result)
    assert len(tasks) == 2 and len({t["pid"] for t in tasks}) == 2


def test_children_that_load_no_tracer_are_named_and_rows_are_in_start_order(
    server: EmbeddedServer,
) -> None:
    result, _, code = traced_json(str(TRACED / "untraced_children.py"), server.url())
    assert code == 0
    run = result["runs"][0]
    tasks = tasks_of(result)
    assert len(tasks) == 2 and len(run["processes"]) == 2  # the -I child's request is unseen
    main, child = (process["pid"] for process in run["processes"])
    # Numbered as they started, across processes: the parent's first, then the child's.
    assert [(t["index"], t["pid"]) for t in tasks] == [(0, main), (1, child)]
    assert tasks[0]["started"] < tasks[1]["started"]
    note = run["note"]
    assert note.startswith("untraced (not Python, or a Python that did not load the tracer")
    assert " -I -c " in note and "(true)" in note


def test_exit_codes_are_the_programs(server: EmbeddedServer) -> None:
    result, stderr, code = traced_json(str(TRACED / "exits3.py"), server.url())
    assert code == 3 and result["exit_code"] == 3
    assert "bye" in stderr  # with --json, the program's stdout goes to stderr
    result, stderr, code = traced_json(str(TRACED / "raises.py"), server.url())
    assert code == 1
    assert "RuntimeError: boom from the program" in stderr  # its own traceback, as its own
    assert "fetchviz" not in stderr.split("Traceback")[1]
    assert len(tasks_of(result)) == 1


def test_a_failed_requests_traceback_has_none_of_the_tracers_frames(server: EmbeddedServer) -> None:
    # The tracer's wrappers stood between the program's call and the library's raise: on
    # stage, "fetchviz_tracer.py, line 448, in call" in the program's own traceback.
    result, stderr, code = traced_json(str(TRACED / "refused_uncaught.py"), server.url())
    assert code == 1
    assert "Exception in thread fetcher" in stderr  # the thread's, as threading prints it
    assert stderr.count("Traceback (most recent call last)") >= 2
    assert stderr.count('refused_uncaught.py", line 14, in fetch') >= 2
    assert "Connection refused" in stderr
    assert "fetchviz_tracer" not in stderr
    assert [t["state"] for t in tasks_of(result)] == ["failed", "failed"]
    # A TaskGroup's: the group's members too.
    result, stderr, code = traced_json(str(TRACED / "refused_taskgroup.py"), server.url())
    assert code == 1 and "ExceptionGroup" in stderr and "in fetch" in stderr, stderr
    assert "fetchviz_tracer" not in stderr


def test_a_traceback_the_program_prints_itself_has_none_of_the_tracers_frames(
    server: EmbeddedServer,
) -> None:
    # traceback.print_exc() and logging's exception() format through TracebackException,
    # which no excepthook sees: "fetchviz_tracer.py, line …, in call" was in both.
    # And one made by keyword (exc_value=...), which the hook first refused with a TypeError.
    result, stderr, code = traced_json(str(TRACED / "refused_logged.py"), server.url())
    assert code == 0, stderr
    assert stderr.count('refused_logged.py", line 18, in <module>') == 1  # print_exc()'s
    assert "ERROR:root:the fetch failed" in stderr  # logging's, with its traceback
    assert 'refused_logged.py", line 26, in main' in stderr
    assert stderr.count('refused_logged.py", line 35, in <module>') == 1  # the keyword one's
    assert "TypeError" not in stderr
    assert "fetchviz_tracer" not in stderr
    assert [t["state"] for t in tasks_of(result)] == ["failed"] * 3


def test_the_headless_table_starts_on_a_line_of_its_own(tmp_path: Path) -> None:
    script = tmp_path / "partial.py"
    script.write_text('print("no newline", end="")\n', encoding="utf-8")
    done = fetchviz("trace", "--headless", str(script), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("no newline\n")
    assert "partial.py  ·  exited with 0" in done.stdout.splitlines()[1]


def test_the_headless_table_keeps_the_end_of_a_long_url(
    tmp_path: Path, server: EmbeddedServer
) -> None:
    # It cut the end, where a program's URLs differ: "GET http://127.0.0.1:34023/delay/10/pa…".
    script = tmp_path / "pages.py"
    script.write_text(
        "import sys, urllib.request\n"
        "for page in (1, 2):\n"
        "    url = f'{sys.argv[1]}/delay/10/a/long/way/down/to/page/{page}'\n"
        "    urllib.request.urlopen(url).read()\n",
        encoding="utf-8",
    )
    origin = server.url().split("/delay")[0].rstrip("/")
    done = fetchviz("trace", "--headless", str(script), origin, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if " GET " in line]
    assert len(rows) == 2
    for page, row in zip((1, 2), rows, strict=True):
        assert f"/delay/10/a/long/way/down/to/page/{page} " in row, row
    # One rule for every row: a short URL was shown whole, a long one as its path. One
    # server's requests are each a path, its origin in the column's title.
    script.write_text(
        "import sys, urllib.request\n"
        "urllib.request.urlopen(sys.argv[1] + '/delay/10?q=0').read()\n"
        "urllib.request.urlopen(sys.argv[1] + '/delay/10/a/long/way/down/to/the/end').read()\n",
        encoding="utf-8",
    )
    done = fetchviz("trace", "--headless", str(script), origin, cwd=tmp_path)
    lines = done.stdout.splitlines()
    (head,) = [line for line in lines if line.lstrip().startswith("#")]
    assert f" request · {origin} " in head, head
    rows = [line for line in lines if " GET " in line]
    assert " GET /delay/10?q=0 " in rows[0] and " GET /delay/10/a/long/" in rows[1], rows


def test_a_sigint_sent_to_fetchviz_alone_stops_the_program(server: EmbeddedServer) -> None:
    """A supervisor's `kill -INT` (no terminal: stdin is not one) is passed on to the program,
    which ends as Ctrl+C would end it: 130, and nothing of it left."""
    entry = [sys.executable, "-c", "from fetchviz.cli import entry; entry()"]
    command = [*entry, "trace", "--headless", str(TRACED / "slow_loop.py"), server.url()]
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "done 0"  # the program runs
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "done 49" not in out


def test_the_program_runs_as_without_fetchviz(server: EmbeddedServer, tmp_path: Path) -> None:
    script = TRACED / "echo_args.py"
    plain = subprocess.run(
        [sys.executable, str(script), server.url()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    done = fetchviz("trace", "--headless", str(script), server.url(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(plain.stdout.splitlines()[0]) == json.loads(done.stdout.splitlines()[0])
    assert "1 request: 1 ok" in done.stdout


def test_a_script_runs_under_the_python_of_the_environment_activated(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    """`python crawl.py` in an activated venv is that venv's Python, with its packages: run
    under fetchviz's own (pipx's, say), `import` of the program's packages failed."""
    venv = tmp_path / "theirs"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = venv.glob("lib/python*/site-packages")
    (site / "only_theirs.py").write_text(
        "import os, sys, urllib.request\n"
        "def fetch(): return urllib.request.urlopen(os.environ['FETCHVIZ_URL']).read()\n"
        "if __name__ == '__main__': fetch(); print('module', sys.prefix, file=sys.stderr)\n"
    )
    script = tmp_path / "crawl.py"
    script.write_text("import sys, only_theirs\nonly_theirs.fetch()\nprint(sys.prefix)\n")
    activated = {**os.environ, "VIRTUAL_ENV": str(venv)}
    for program in ([str(script)], ["-m", "only_theirs"]):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "fetchviz",
                "trace",
                "--json",
                "--serve",
                "--delay",
                "10",
                *program,
            ],
            cwd=tmp_path,
            env=activated,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert done.returncode == 0, done.stderr
        assert str(venv) in done.stderr  # its sys.prefix: the venv's
        (task,) = tasks_of(json.loads(done.stdout))
        assert task["state"] == "finished"
    # Not activated: fetchviz's own Python, which has no such module (said as -m would).
    alone = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    done = subprocess.run(
        [sys.executable, "-m", "fetchviz", "trace", "--json", "-m", "only_theirs"],
        cwd=tmp_path,
        env=alone,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 2 and "no module named 'only_theirs'" in done.stderr


def test_an_activated_python_too_old_to_trace_is_one_line(tmp_path: Path) -> None:
    """Python 3.7 cannot load the tracer: the program ran untraced, and the note said it was
    started with `python -I`. No 3.7 here: a `python` that says it is one, as the check asks."""
    venv = tmp_path / "old"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text("#!/bin/sh\necho 3.7\n")
    python.chmod(0o755)
    script = tmp_path / "crawl.py"
    script.write_text("print('never')\n")
    done = subprocess.run(
        [sys.executable, "-m", "fetchviz", "trace", "--headless", str(script)],
        env={**os.environ, "VIRTUAL_ENV": str(venv)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "never" not in done.stdout
    assert done.stderr.count("\n") == 1 and "is Python 3.7, too old to trace" in done.stderr


def test_a_program_with_no_request_says_so() -> None:
    result, _, code = traced_json(str(TRACED / "no_requests.py"))
    assert code == 0
    assert "made no HTTP request" in result["runs"][0]["note"]
    assert "aiohttp" in result["runs"][0]["note"]


def test_requests_in_flight_at_exit_say_so(server: EmbeddedServer) -> None:
    slow = server.url(5000)
    result, _, code = traced_json(str(TRACED / "in_flight_exit.py"), slow)
    assert code == 0
    (task,) = tasks_of(result)
    assert task["state"] == "failed" and "ended before the answer" in task["error"]


@pytest.mark.parametrize(
    ("how", "client"), [("SIGTERM", "requests"), ("SIGKILL", "requests"), ("SIGKILL", "aiohttp")]
)
def test_killed_straight_after_its_answer_the_request_finished(
    server: EmbeddedServer, how: str, client: str
) -> None:
    """No Python runs after SIGKILL (nor after SIGTERM's default): a blocking client's end,
    and an async one's when it was the last in flight, is handed over as it happens, not at
    the sender's next wake-up or the loop's next beat."""
    number = getattr(signal, how)
    program = str(TRACED / "killed_after_answer.py")
    for _ in range(3):  # it was lost one run in two or three
        result, _, code = traced_json(program, server.url(), how, client)
        assert code == 128 + number
        (task,) = tasks_of(result)
        assert task["state"] == "finished", task
        assert task["status"] == 200


def test_cancelled_requests_are_counted_and_said(server: EmbeddedServer) -> None:
    done = fetchviz("trace", "--headless", str(TRACED / "cancelled.py"), server.url(5000))
    assert done.returncode == 0, done.stderr
    assert "4 requests: 0 ok, 1 failed, 3 cancelled" in done.stdout
    rows = [line for line in done.stdout.splitlines() if "/delay/5000" in line and "GET" in line]
    assert len(rows) == 3 and all(" cancelled " in row for row in rows), done.stdout


@pytest.mark.parametrize("mode", ["redirect", "redirect-kept"])
def test_each_hop_of_a_redirect_is_a_row_for_every_client(mode: str) -> None:
    """A redirect is two requests on the wire: requests showed two rows, httpx and aiohttp
    one (the first hop's URL, the last one's status, no connect nor first byte)."""
    with faulty_server(mode) as url:
        result, stderr, code = traced_json(str(TRACED / "redirects.py"), url)
    assert code == 0, stderr
    tasks = tasks_of(result)
    lines = [task["where"] for task in tasks]
    assert len(tasks) == 12, [(task["url"], task["status"]) for task in tasks]
    for first, second in zip(tasks[::2], tasks[1::2], strict=True):
        assert first["where"] == second["where"]  # the program's line that asked
        assert (first["url"], first["status"]) == (url, 301 if mode == "redirect" else 302)
        assert (second["url"], second["status"]) == (url + "final", 200)
        assert {first["state"], second["state"]} == {"finished"}
        assert first["phases"]["connect"] is not None and first["phases"]["first_byte"] is not None
        assert second["phases"]["first_byte"] is not None
        if mode == "redirect":  # a connection each
            assert second["phases"]["connect"] is not None
        assert second["bytes"] == 2
        assert second["reused"] == (mode == "redirect-kept")
    assert len(set(lines)) == 6


def test_an_aiohttp_request_ends_when_its_body_came_not_when_released(
    server: EmbeddedServer,
) -> None:
    result, _, code = traced_json(str(TRACED / "aiohttp_work_inside.py"), server.url(50))
    assert code == 0
    (task,) = tasks_of(result)
    assert task["state"] == "finished" and task["bytes"] > 0
    assert task["finished"] - task["started"] < 0.6  # 50 ms answered, then 1 s of the program's


def test_a_chunked_body_is_counted_by_every_client_over_http_client() -> None:
    """No Content-Length to go by: requests and urllib3 (through _safe_read), urllib and
    http.client (read in pieces, the last one closing the response) said 0 B, or less."""
    from faulty import CHUNKED_BODY

    with faulty_server("chunked") as url:
        result, stderr, code = traced_json(str(TRACED / "chunked.py"), url)
    assert code == 0, stderr
    printed = [int(line) for line in stderr.split()]
    assert printed == [len(CHUNKED_BODY)] * 5  # what each client read, as the program says
    assert [task["bytes"] for task in tasks_of(result)] == printed


def test_serve_gives_the_program_a_url() -> None:
    done = fetchviz("trace", "--json", "--serve", "--delay", "50", "examples/tutorial/executor.py")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    tasks = tasks_of(result)
    assert len(tasks) == 10 and all(t["state"] == "finished" for t in tasks)
    assert tasks[0]["url"].endswith("/delay/50")
    # A pool thread's stack holds none of the program's frames: where it was handed over.
    script = ROOT / "examples" / "tutorial" / "executor.py"
    handed = f"examples/tutorial/executor.py:{line_of(script, 'await loop.run_in_executor')} in get"
    assert {t["where"] for t in tasks} == {handed}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["nosuch.py"], "no such script"),
        (["tests"], "tests is a folder with no __main__.py"),
        (["-m", "no_such_module_here"], "no module named"),
        (["--"], "nothing after it"),
        (["--", "no-such-command-here"], "no such command"),
        ([], "name the program"),
        (["--delay", "10", "x.py"], "add --serve"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], said: str) -> None:
    done = fetchviz("trace", *args)
    assert done.returncode == 2
    assert said in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_looking_for_a_module_runs_none_of_the_programs_code(tmp_path: Path) -> None:
    # `-m crawl.py` (a script typed as a module) ran crawl.py in fetchviz's own process, with
    # fetchviz's argv and no FETCHVIZ_URL, to find "crawl.py" in it; `-m pkg.nosuch` ran
    # pkg/__init__.py there.
    ran = tmp_path / "ran"
    (tmp_path / "crawl.py").write_text(f"open({str(ran)!r}, 'a').write('crawl')\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(f"open({str(ran)!r}, 'a').write('pkg')\n")
    for module, said in [
        (
            "crawl.py",
            "no module named 'crawl.py' (as python -m would look for it): for a "
            "script, leave out -m (fetchviz trace crawl.py)",
        ),
        ("pkg.nosuch", "no module named 'pkg.nosuch'"),
        ("crawl.x", "no module named 'crawl.x'"),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "fetchviz", "trace", "--headless", "-m", module],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and said in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert not ran.exists(), ran.read_text()


def test_a_module_and_a_command(server: EmbeddedServer) -> None:
    result, _, code = traced_json("-m", "traced.urllib_plain", server.url(), cwd=ROOT / "tests")
    assert code == 0 and len(tasks_of(result)) == 2
    argv = result["runs"][0]["processes"][0]["argv"]
    assert argv == ["-m", "traced.urllib_plain", server.url()]  # the module named, not lost
    result, _, code = traced_json(
        "--", sys.executable, str(TRACED / "urllib_plain.py"), server.url()
    )
    assert code == 0 and len(tasks_of(result)) == 2


def test_a_shell_that_starts_python(server: EmbeddedServer) -> None:
    """`-- sh -c '…'`: the shell is not Python, the Python it starts is traced, and the
    note and the heading say so as a shell would write it."""
    command = f"{sys.executable} {TRACED / 'urllib_plain.py'} {server.url()} >/dev/null; echo x"
    result, _, code = traced_json("--", "/bin/sh", "-c", command)
    assert code == 0 and len(tasks_of(result)) == 2
    note = result["runs"][0]["note"]
    assert note.startswith("its first process (/bin/sh -c '") and "children were traced" in note
    done = fetchviz("trace", "--headless", "--", "/bin/sh", "-c", command)
    assert done.returncode == 0
    out = done.stdout.splitlines()  # the program's "x", the line that ends its output, the table
    assert out[:2] == ["x", ""] and f"/bin/sh -c '{command}'" in out[2]  # the heading, quoted


def test_an_isolated_python_runs_untraced(server: EmbeddedServer) -> None:
    result, _, code = traced_json(
        "--", sys.executable, "-I", str(TRACED / "urllib_plain.py"), server.url()
    )
    assert code == 0
    assert "untraced" in result["runs"][0]["note"]


def test_the_channel_is_the_users_alone(server: EmbeddedServer) -> None:
    """A socket in a folder only the user can enter, gone once the source closes."""
    import asyncio

    from fetchviz.core.trace import TraceState
    from fetchviz.trace.program import Program
    from fetchviz.trace.report import trace_once
    from fetchviz.trace.source import TraceSource

    source = TraceSource(Program.of("script", str(TRACED / "urllib_plain.py"), (server.url(),)))
    folder = os.path.dirname(source.socket_path)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    source.live = False
    state = asyncio.run(trace_once(source))
    assert isinstance(state, TraceState) and len(state.tasks) == 2
    assert not os.path.exists(folder)


def test_pip_and_its_vendored_urllib3(server: EmbeddedServer, tmp_path: Path) -> None:
    """A real program with its own copy of a client: pip asks the server's index for a
    package (the server answers 404: no such page), under -- COMMAND."""
    index = server.base_url + "/simple/"
    result, _, code = traced_json(
        "--",
        sys.executable,
        "-m",
        "pip",
        "download",
        "--isolated",  # no pip.conf of the machine's: only this index is asked
        "--no-deps",
        "--retries",
        "0",
        "--timeout",
        "5",
        "-d",
        str(tmp_path),
        "--index-url",
        index,
        "no-such-package-here",
    )
    assert code == 1  # pip found nothing, and says so with its own exit code
    tasks = tasks_of(result)
    asked = [t for t in tasks if t["url"].startswith(index)]
    assert asked and all(t["status"] == 404 and t["error"] == "HTTP 404" for t in asked)
    assert all("pip" in (t["where"] or "") for t in asked)


def test_the_tracer_is_never_where_even_installed_under_site_packages() -> None:
    """Installed (not editable), the tracer's folder is under site-packages: its own frames
    (a pool thread's bootstrap) must not be taken for a library's, nor named as `where`."""
    import importlib.util

    from fetchviz.trace.program import INJECT

    spec = importlib.util.spec_from_file_location("tracer_copy", f"{INJECT}/fetchviz_tracer.py")
    assert spec is not None and spec.loader is not None
    tracer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tracer)
    tracer._SITE = tracer._roots(INJECT)  # as an installed copy sees it
    tracer._kinds.clear()
    assert tracer._kind(f"{INJECT}/fetchviz_tracer.py") == tracer.STDLIB


def test_code_given_with_dash_c_is_the_programs_own_where(server: EmbeddedServer) -> None:
    code = "import sys, urllib.request\nurllib.request.urlopen(sys.argv[1]).read()"
    result, _, returncode = traced_json("--", sys.executable, "-c", code, server.url())
    assert returncode == 0
    (task,) = tasks_of(result)
    assert task["where"] == "<string>:2 in <module>"  # as Python's traceback names it


def test_a_blocked_loops_line_is_said_without_its_comment(tmp_path: Path) -> None:
    from fetchviz.trace.wire import where_text

    script = tmp_path / "crunch.py"
    script.write_text('x = "#"\ntime.sleep(0.4)  # CPU work, not HTTP\nf(a,\n')
    assert where_text([str(script), 2, "job", None]).endswith("in job: time.sleep(0.4)")
    assert where_text([str(script), 1, "job", None]).endswith(': x = "#"')  # a string's #
    assert where_text([str(script), 3, "job", None]).endswith(": f(a,")  # kept whole


def test_the_dashboards_summary_says_how_many_more_blocks() -> None:
    from fetchviz.core.events import LoopBlocked, LoopUnblocked
    from fetchviz.core.trace import TraceState
    from fetchviz.trace.report import summary_lines

    state = TraceState.traced(1, ("python", "x.py"), "/work")
    for i in range(4):
        state.apply(LoopBlocked(1, 1.0 + i, 7, "MainThread", f"/work/x.py:{i} in f (time.sleep)"))
        state.apply(LoopUnblocked(1, 1.5 + i, 7, "MainThread"))
    lines = summary_lines(state, room=5)
    assert len(lines) == 5 and lines[-1].startswith("loop blocked 2 more times")
    assert len(summary_lines(state)) == 2 + 4  # headless: every block, up to five
    for i in range(4, 7):
        state.apply(LoopBlocked(1, 1.0 + i, 7, "MainThread", f"/work/x.py:{i} in f (time.sleep)"))
        state.apply(LoopUnblocked(1, 1.5 + i, 7, "MainThread"))
    headless = summary_lines(state)  # seven: the five it says it lists, then how many more
    assert sum(line.startswith("loop blocked 500 ms") for line in headless) == 5, headless
    assert headless[-1].startswith("loop blocked 2 more times")


def test_a_folder_with_a_main_runs_as_python_runs_it(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    (tmp_path / "__main__.py").write_text(
        "import sys, urllib.request\nurllib.request.urlopen(sys.argv[1]).read()\n"
    )
    result, printed, code = traced_json(str(tmp_path), server.url())
    assert code == 0, printed
    assert [t["where"] for t in tasks_of(result)] == [f"{tmp_path}/__main__.py:2 in <module>"]


def test_a_line_redrawn_with_carriage_returns_is_shown_as_its_last_drawing() -> None:
    from fetchviz.trace.source import as_shown

    assert as_shown("progress 1/3\rprogress 2/3\rprogress 3/3") == "progress 3/3"
    assert as_shown("done\r") == "done"  # a CRLF line's end
    assert as_shown("plain") == "plain"


def test_a_tasks_end_is_read_without_retrieving_its_exception(server: EmbeddedServer) -> None:
    program = TRACED / "unretrieved.py"
    plain = subprocess.run(
        [sys.executable, str(program), server.url()], capture_output=True, text=True, timeout=60
    )
    assert "Task exception was never retrieved" in plain.stderr  # asyncio's, without fetchviz
    result, stderr, code = traced_json(str(program), server.url())
    assert code == 0
    assert "Task exception was never retrieved" in stderr  # still the program's to see
    assert "ValueError: failed on purpose" in stderr
    states = {task["name"]: task["state"] for task in result["runs"][0]["async_tasks"]}
    assert states == {"Task-1": "done", "fail": "failed", "wait": "cancelled", "done": "done"}


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_where_is_the_task_s_maker_on_either_loop(server: EmbeddedServer, loop: str) -> None:
    """Under uvloop no Handle._run frame ends a task's stack: a gathered httpx or aiohttp
    request was placed at the line that started the loop."""
    script = TRACED / "uvloop_gather.py"
    result, stderr, code = traced_json(str(script), server.url(), loop)
    assert code == 0, stderr
    wheres = [task["where"] for task in tasks_of(result)]
    shown = script.relative_to(ROOT)
    httpx_line, wait_for, aiohttp_line = (
        line_of(script, text) for text in ("httpx's line", "the third's", "aiohttp's line")
    )
    assert wheres == [
        *[f"{shown}:{httpx_line} in main"] * 2,
        f"{shown}:{wait_for} in main",
        *[f"{shown}:{aiohttp_line} in main"] * 2,
    ], wheres


def test_a_long_commands_title_keeps_how_it_ended_and_its_time() -> None:
    from fetchviz.trace.program import Program
    from fetchviz.trace.report import title_line

    command = "python -m pytest tests/test_http.py -k 'slow and not flaky' -x -q --timeout 30"
    line = title_line(command, "exited with 1", "2.31 s", 76)
    assert len(line) <= 76 and line.endswith("  ·  exited with 1  ·  2.31 s"), line
    assert line.startswith("python -m pytest")
    assert title_line("python x.py", "running", "0.4 s", 76) == "python x.py  ·  running  ·  0.4 s"
    named = Program("command", "/usr/bin/python3", ("-m", "pytest", "tests/"), "/work")
    assert named.name == "python3 -m pytest tests/"  # not `python3`, as every command was
    long = Program("command", "python", ("-c", "import urllib.request; " * 4), "/work")
    assert len(long.name) == 30 and long.name.endswith("…")
    assert Program("script", "/work/crawl.py", (), "/work").name == "crawl.py"


def test_an_aiohttp_request_through_a_proxy_is_one_row() -> None:
    """aiohttp tells the tunnel's protocol what answer to expect too: the proxy's 200 to
    CONNECT was taken for the request's answer, and the request for a redirect's next hop."""
    from proxy import connect_proxy

    with EmbeddedServer(delay_ms=20, tls=True) as https, connect_proxy() as proxy:
        https.wait_ready()
        assert https.cacert is not None
        script = str(TRACED / "aiohttp_proxy.py")
        result, stderr, code = traced_json(script, https.url(), proxy, https.cacert)
    assert code == 0, stderr
    (task,) = tasks_of(result)
    assert (task["url"], task["status"], task["state"]) == (https.url(), 200, "finished")


def test_an_httpx_row_fails_only_of_its_own_error(server: EmbeddedServer) -> None:
    """Its response closed while the program handled another request's ConnectError, or the
    HTTPStatusError of raise_for_status: the rows said failed, with those errors."""
    result, stderr, code = traced_json(str(TRACED / "httpx_handled.py"), server.url())
    assert code == 0, stderr
    rows = [(task["state"], task["status"], task["error"]) for task in tasks_of(result)]
    assert rows == [
        ("failed", None, "connection refused"),
        ("finished", 200, None),
        ("failed", 404, "HTTP 404"),  # an answer, as every client's 404 is said
    ], rows


def test_output_lines_end_as_a_terminal_shows_them() -> None:
    from fetchviz.trace.source import _unfinished_utf8

    bar = "█".encode()
    assert [_unfinished_utf8(b"ab" + bar[:n]) for n in (0, 1, 2, 3)] == [0, 1, 2, 0]
    assert _unfinished_utf8("é".encode()[:1]) == 1 and _unfinished_utf8(b"") == 0


def test_a_commands_name_is_one_line() -> None:
    from fetchviz.trace.program import Program

    named = Program("command", "python", ("-c", "import a\nimport b"), "/work")
    assert named.name == "python -c import a import b"


def test_a_tasks_number_is_shown_where_its_name_does_not_tell_it_apart() -> None:
    from fetchviz.core.trace import task_label

    assert task_label("worker", 3) == "worker #3"
    assert task_label("Task-1", 1) == "Task-1"  # asyncio's own name is unique already
    assert task_label("fetch", None) == "fetch"  # a recording made before numbers


def test_rows_of_a_program_that_asks_two_servers_keep_which_server():
    """`GET /delay/100/a` read alike for two servers: the row keeps the host and port."""
    from fetchviz.core.events import RequestStarted
    from fetchviz.core.timeline import short_request
    from fetchviz.core.trace import TraceState

    state = TraceState.traced(1, ("python", "hosts.py"), "/work")
    urls = ["http://127.0.0.1:8790/delay/100/a", "http://127.0.0.1:45547/delay/100/a"]
    for i, url in enumerate(urls):
        state.apply(RequestStarted(1, i, 1.0 + i, "GET", url, "MainThread", None, 42, None))
    assert state.origins == {"http://127.0.0.1:8790", "http://127.0.0.1:45547"}
    shown = [short_request(url, 22, hosts=len(state.origins) > 1) for url in urls]
    assert shown == ["127.0.0.1:8790…y/100/a", "127.0.0.1:45547…/100/a"]
    assert short_request(urls[0], 22) == "/delay/100/a"  # one server: its path says it


def test_a_blocked_loops_place_keeps_its_line_number_in_a_narrow_panel() -> None:
    """At 80 columns the panel's ellipsis took the ":21" of "…/gather_blocking.py:21": the
    one thing a speaker points at. Its folders go first."""
    from fetchviz.core.events import LoopBlocked, LoopUnblocked
    from fetchviz.core.trace import TraceState
    from fetchviz.trace.report import fit_place, summary_lines

    state = TraceState.traced(1, ("python", "gather_blocking.py"), "/work")
    where = "/work/examples/tutorial/gather_blocking.py:21 in fetch (requests.get)"
    state.apply(LoopBlocked(1, 1.0, 7, "MainThread", where))
    state.apply(LoopUnblocked(1, 6.03, 7, "MainThread"))
    wide = summary_lines(state, room=5, width=120)[-1]
    assert wide == "loop blocked 5.03 s in requests.get · examples/tutorial/gather_blocking.py:21"
    narrow = summary_lines(state, room=5, width=74)[-1]
    assert narrow == "loop blocked 5.03 s in requests.get · gather_blocking.py:21"
    line = "loop was blocked 1.2 s at a/b/c.py:3"
    assert fit_place(line, 32) == "loop was blocked 1.2 s at c.py:3"
    assert fit_place(line, 36) == line  # it fits


def test_a_note_too_long_for_the_panel_is_wrapped_in_what_room_is_left() -> None:
    """At 80 columns "it made no HTTP request through the clients fetchviz watches:
    http.client (…" hid the list of clients it is there to give."""
    from fetchviz.core.trace import TraceState
    from fetchviz.trace.report import summary_lines
    from fetchviz.trace.source import CLIENTS

    state = TraceState.traced(1, ("python3", "-c", "print(1)"), "/work")
    state.note = f"it made no HTTP request through the clients fetchviz watches: {CLIENTS}"
    panel = summary_lines(state, room=5, width=76)
    assert all(len(line) <= 76 for line in panel) and len(panel) <= 5
    assert " ".join(panel).endswith(CLIENTS)  # the whole list, on two lines
    assert summary_lines(state)[-1] == state.note  # a pipe's: whole, on one line
    assert summary_lines(state, room=3, width=76)[-1].startswith("it made no")  # one line left
