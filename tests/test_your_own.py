"""A strategy from the user's file (-s PATH.py:FUNCTION), and many URLs (--url, --urls): the
examples run, every mistake is one line or a failed run, an edit shows at the next `r`."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import config_for
from fetchviz.core.catalog import BY_ID
from fetchviz.core.model import TaskState
from fetchviz.runs.user import strategy_from
from fetchviz.ui.launch import dashboard_app
from fetchviz.ui.widgets.board import StrategyBoard
from fetchviz.ui.widgets.code import CodePanel
from fetchviz.ui.widgets.summary import Summary
from test_app import run_done, wait_until
from test_cli import fetchviz

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_specs() -> list[str]:
    """Every `def`/`async def` of examples/*.py named after its file: the example's strategy."""
    return [f"{path}:{path.stem}" for path in sorted(EXAMPLES.glob("*.py"))]


def write(tmp_path: Path, code: str, name: str = "mine.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path


def answering(name: str) -> str:
    """A strategy of the user's that answers every task at once (no request)."""
    return f"""
        def {name}(job):
            for i in range(job.tasks):
                with job.fetching(i) as fetch:
                    fetch.done(200, 1)
        """


def run_json(*args: str) -> dict:
    embedded = not {"--url", "--urls"} & set(args)
    done = fetchviz("--json", *(["--delay", "30"] if embedded else []), *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_there_are_examples_and_each_runs_to_the_end():
    specs = example_specs()
    assert len(specs) >= 2
    args = [arg for spec in specs for arg in ("-s", spec)]
    result = run_json("-n", "6", *args, "-s", "aiohttp")
    names = [run["strategy"] for run in result["runs"]]
    assert names == [spec.rsplit(":", 1)[1] for spec in specs] + ["aiohttp"]
    for run in result["runs"]:
        assert run["error"] is None and run["ok"] == 6 and run["unreported"] == 0
        assert all(task["state"] == "finished" for task in run["tasks"])


@pytest.mark.parametrize(
    "code, spec_tail, complaint",
    [
        (None, "missing.py:f", "missing.py: no such file"),
        ("def f(job):\n    return (\n", "mine.py:f", "mine.py:2: syntax error"),
        ("def g(job):\n    pass\n", "mine.py:f", "no function 'f'"),
        ("def limited(job):\n    pass\n", "mine.py:limitd", "did you mean"),
        ("def f():\n    pass\n", "mine.py:f", "f() takes no argument"),
        ("def f(job, other):\n    pass\n", "mine.py:f", "f() needs 2 arguments"),
        ("def f(job):\n    pass\n", "mine.py", "PATH.py:FUNCTION, e.g. "),
        ("def f(job):\n    pass\n\ndef g(a, b):\n    pass\n", "mine.py", "mine.py:f (see"),
        ("def f(job):\n    pass\n", "mine.py:not-a-name", "is not a Python function name"),
    ],
)
def test_a_file_that_cannot_run_is_one_line_and_exit_2_at_launch(
    tmp_path, code, spec_tail, complaint
):
    if code is not None:
        write(tmp_path, code)
    for mode in (["--json"], []):  # headless and the dashboard: refused before either starts
        done = fetchviz(*mode, "-s", f"{tmp_path}/{spec_tail}")
        assert done.returncode == 2
        assert complaint in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert "Traceback" not in done.stderr


def test_what_the_function_raises_is_the_runs_error_with_its_type(tmp_path):
    path = write(
        tmp_path,
        """
        def broken(job):
            with job.fetching(0) as fetch:
                fetch.done(200, 1)
            raise RuntimeError("my code broke here")
        """,
    )
    (run,) = run_json("-n", "3", "-s", f"{path}:broken")["runs"]
    assert run["error"] == "RuntimeError: my code broke here"
    assert run["comparable"] is False and run["ok"] == 1


def test_a_task_fetched_twice_or_never_is_said(tmp_path):
    path = write(
        tmp_path,
        """
        import requests

        def twice(job):
            for i in (0, 1, 1):
                with job.fetching(i) as fetch:
                    fetch.done(200, 0)

        def half(job):
            for i in range(0, job.tasks, 2):
                with job.fetching(i) as fetch:
                    response = requests.get(job.urls[i], timeout=job.timeout)
                    fetch.done(response.status_code, len(response.content))
        """,
    )
    twice, half = run_json("-n", "4", "-s", f"{path}:twice", "-s", f"{path}:half")["runs"]
    assert "ValueError: job.fetching(1) a second time" in twice["error"]
    assert half["error"] is None and half["ok"] == 2 and half["unreported"] == 2
    assert [task["state"] for task in half["tasks"]] == ["finished", "queued"] * 2
    table = fetchviz("--headless", "--delay", "30", "-n", "4", "-s", f"{path}:half").stdout
    assert "2 of 4 ok, 2 never reported: not comparable" in table  # no ratio for half the work


def test_a_name_taken_by_a_built_in_is_told_apart(tmp_path):
    path = write(tmp_path, "def aiohttp(job):\n    pass\n", "rival.py")
    strategy = strategy_from(f"{path}:aiohttp", set(BY_ID), "9")
    assert strategy.id == "rival.aiohttp" and strategy.key == "9"


def test_many_urls_are_fetched_in_turn_and_named_per_task(server, tmp_path):
    urls = write(
        tmp_path,
        f"""
        # the fast one, then the slow one
        {server.url(10)}

        {server.url(120)}   # slow
        """,
        "urls.txt",
    )
    result = run_json("-n", "5", "--urls", str(urls), "-s", "aiohttp", "-s", "sync")
    assert result["config"]["urls"] == [server.url(10), server.url(120)]
    assert result["config"]["url"] == server.url(10)
    for run in result["runs"]:
        assert [task["url"] for task in run["tasks"]] == [server.url(10), server.url(120)] * 2 + [
            server.url(10)
        ]
        took = [task["finished"] - task["started"] for task in run["tasks"]]
        assert max(took[0::2]) < min(took[1::2])  # each task waited as long as its URL does
    repeated = run_json("-n", "2", "--url", server.url(10), "--url", server.url(20))
    assert [t["url"] for t in repeated["runs"][0]["tasks"]] == [server.url(10), server.url(20)]


def test_the_estimate_with_many_urls_weighs_each_by_its_tasks(server):
    result = run_json("-n", "6", "--url", server.url(10), "--url", server.url(200), "-s", "httpx")
    # 3 tasks of ~10 ms and 3 of ~200 ms, one by one: ~0.63 s; N × a median would not be.
    assert 0.55 < result["baseline"]["elapsed"] < 0.9
    assert "per URL" in result["baseline"]["how"]


def test_a_bad_line_of_a_urls_file_is_named_by_its_number(tmp_path):
    urls = write(tmp_path, "http://127.0.0.1:9/\n# fine\nftp://nope/\n", "urls.txt")
    done = fetchviz("--urls", str(urls))
    assert done.returncode == 2 and "line 3" in done.stderr and "ftp://nope/" in done.stderr
    empty = write(tmp_path, "# nothing\n\n", "empty.txt")
    done = fetchviz("--urls", str(empty))
    assert done.returncode == 2 and "no URL in it" in done.stderr


async def test_an_edit_shows_at_the_next_r_and_a_bad_one_is_a_failed_run(server, tmp_path):
    path = write(tmp_path, answering("mine"))
    mine = strategy_from(f"{path}:mine", set(BY_ID), "9")
    app = dashboard_app(config_for(server, tasks=4), [mine])
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_until(pilot, run_done(app, "mine"))
        assert app.session.current.ok == 4
        await pilot.press("c")
        assert "fetch.done(200, 1)" in app.screen.query_one(CodePanel).content.code

        path.write_text(
            "def mine(job):\n"
            "    for i in range(job.tasks):\n"
            "        with job.fetching(i) as fetch:\n"
            "            fetch.done(503, 0)  # edited\n",
            encoding="utf-8",
        )
        await pilot.press("r")
        await wait_until(pilot, lambda: app.session.current.run_id > 1 and app.session.current.done)
        assert app.session.current.failed == 4 and app.session.current.tasks[0].error == "HTTP 503"
        assert "# edited" in app.screen.query_one(CodePanel).content.code  # the code as it ran

        path.write_text("def mine(job):\n    return (\n", encoding="utf-8")
        await pilot.press("r")
        await wait_until(pilot, lambda: app.session.current.run_id > 2 and app.session.current.done)
        assert "syntax error" in (app.session.current.error or "")
        assert any("syntax error" in str(n.message) for n in app._notifications)
        assert "run failed" in app.screen.query_one(Summary).plain  # the dashboard stays


async def test_a_function_that_never_returns_is_cancelled_by_escape(server, tmp_path):
    path = write(
        tmp_path,
        """
        import asyncio

        async def forever(job):
            with job.fetching(0) as fetch:
                await asyncio.sleep(3600)
        """,
    )
    forever = strategy_from(f"{path}:forever", set(BY_ID), "9")
    app = dashboard_app(config_for(server, tasks=2), [forever])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: app.session.current is not None and app.session.current.started_count
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.session.current.done)
        assert (
            app.session.current.cancelled
            and app.session.current.tasks[0].state is TaskState.CANCELLED
        )


async def test_the_users_strategies_take_keys_9_and_0_and_join_compare_all(server, tmp_path):
    path = write(
        tmp_path,
        answering("one")
        + """
        def two(job):
            one(job)
        """,
    )
    ours = [
        strategy_from(f"{path}:{name}", set(BY_ID), key)
        for name, key in (("one", "9"), ("two", "0"))
    ]
    app = dashboard_app(config_for(server, tasks=2), [BY_ID["aiohttp"], *ours])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        await pilot.press("0")
        await wait_until(pilot, run_done(app, "two"))
        board = str(app.screen.query_one(StrategyBoard).render())
        assert "0 two" in board and "9 one" in board
        await pilot.press("a")
        await wait_until(
            pilot, lambda: not app.session.pending and run_done(app, "two")(), timeout=60
        )
        assert {"sync", "threads", "one", "two"} <= set(app.session.results())


def test_a_path_in_the_urls_is_the_embedded_servers_beside_another_server(server, tmp_path):
    urls = write(tmp_path, f"/delay/10\n{server.url(150)}\n", "urls.txt")
    result = run_json("-n", "4", "--urls", str(urls), "-s", "aiohttp")
    embedded, other = result["config"]["urls"]
    assert embedded.startswith("http://127.0.0.1:") and embedded.endswith("/delay/10")
    assert embedded != server.url(10) and other == server.url(150)  # a server of its own
    took = [t["finished"] - t["started"] for t in result["runs"][0]["tasks"]]
    assert max(took[0::2]) < min(took[1::2])


def test_what_the_file_does_at_import_is_not_the_strategys_time(tmp_path):
    path = write(
        tmp_path,
        """
        import time

        import requests

        time.sleep(0.8)  # a heavy import, say

        def quick(job):
            for i in range(job.tasks):
                with job.fetching(i) as fetch:
                    response = requests.get(job.urls[i], timeout=job.timeout)
                    fetch.done(response.status_code, len(response.content))
        """,
    )
    (run,) = run_json("-n", "2", "-s", f"{path}:quick")["runs"]
    assert run["ok"] == 2 and run["elapsed"] < 0.6
    assert run["tasks"][0]["started"] < 0.3


def test_a_decorated_async_function_runs_and_a_file_imports_its_siblings(tmp_path):
    write(tmp_path, "ANSWER = 200\n", "sibling.py")
    write(tmp_path, "def fetch(job):\n    raise AssertionError('not this one')\n", "httpx.py")
    path = write(
        tmp_path,
        """
        import functools

        from sibling import ANSWER

        def logged(function):
            @functools.wraps(function)
            def wrapper(job):
                return function(job)  # a coroutine, handed back
            return wrapper

        @logged
        async def wrapped(job):
            for i in job.queue_all():
                with job.fetching(i) as fetch:
                    fetch.done(ANSWER, 0)
        """,
    )
    # From the file's folder, where an httpx.py must not shadow the real one.
    command = [sys.executable, "-m", "fetchviz", "--json", "--delay", "20", "-n", "3"]
    done = subprocess.run(
        [*command, "-s", f"{path.name}:wrapped", "-s", "httpx"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    wrapped, httpx = json.loads(done.stdout)["runs"]
    assert wrapped["error"] is None and wrapped["ok"] == 3
    assert httpx["error"] is None and httpx["ok"] == 3


def test_an_answer_given_twice_or_outside_its_block_is_the_runs_error(tmp_path):
    path = write(
        tmp_path,
        """
        def late(job):
            for i in range(job.tasks):
                with job.fetching(i) as fetch:
                    pass
                fetch.done(200, 1)
        """,
    )
    (run,) = run_json("-n", "2", "-s", f"{path}:late")["runs"]
    assert run["error"].startswith("ValueError: fetch.done() for task 0 outside")
    assert run["ok"] == 0 and run["failed"] == 1 and run["unreported"] == 0


def test_a_function_that_takes_the_job_for_a_url_is_told_so(tmp_path):
    path = write(
        tmp_path,
        """
        import requests

        def fetch(url):
            return requests.get(url, timeout=5)
        """,
    )
    (run,) = run_json("-n", "2", "-s", f"{path}:fetch")["runs"]
    assert run["error"].endswith("(your function is given the job, not a URL: fetch job.urls[i])")


def test_a_forgotten_answer_says_so_not_no_response(tmp_path):
    """The likeliest slip with the job API: the request is made and answered, and the block
    ends without `fetch.done(...)`: the row said "no response", pointing at the network."""
    path = write(
        tmp_path,
        """
        import requests

        def forgot(job):
            for i in range(job.tasks):
                with job.fetching(i) as fetch:
                    requests.get(job.urls[i], timeout=job.timeout)
        """,
    )
    (run,) = run_json("-n", "2", "-s", f"{path}:forgot")["runs"]
    assert run["ok"] == 0 and run["failed"] == 2 and run["error"] is None
    assert {task["error"] for task in run["tasks"]} == {
        "fetch.done(status, nbytes) was never called in its block"
    }


def test_a_recording_keeps_a_users_strategy_its_code_and_its_summary(tmp_path):
    from fetchviz.records.playback import recorded_strategies
    from fetchviz.records.recording import read_recording

    record = tmp_path / "mine.jsonl.gz"
    spec = f"{EXAMPLES / 'session_loop.py'}:session_loop"
    done = fetchviz("--headless", "--delay", "20", "-n", "2", "-s", spec, "--record", str(record))
    assert done.returncode == 0, done.stderr
    recording = read_recording(record)
    (run,) = recording.runs
    assert run.strategy == "session_loop" and "requests.Session()" in run.source
    (strategy,) = recorded_strategies(recording)
    assert strategy.key == "9" and strategy.summary.startswith("sync's for loop over one")
