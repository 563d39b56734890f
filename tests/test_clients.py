"""The clients of 'fetchviz[clients]' (httpx2, pyreqwest, curl-cffi): raced like the others,
and, where one is not installed, said so in one line with the command that installs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import run_one
from fetchviz.core.catalog import CLIENTS, CLIENTS_EXTRA
from fetchviz.core.config import Config
from fetchviz.runs.server import EmbeddedServer

ROOT = Path(__file__).resolve().parent.parent


def without_clients(tmp_path: Path) -> dict[str, str]:
    """An environment whose Python cannot import the three clients, as before the extra is
    installed: a sitecustomize that refuses them (found first on PYTHONPATH)."""
    (tmp_path / "sitecustomize.py").write_text(
        textwrap.dedent(
            """
            import sys

            class Refuse:
                def find_spec(self, name, path=None, target=None):
                    if name.split(".")[0] in ("httpx2", "pyreqwest", "curl_cffi"):
                        raise ModuleNotFoundError(f"No module named {name!r}")
                    return None

            sys.meta_path.insert(0, Refuse())
            """
        )
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tmp_path) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def fetchviz(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fetchviz", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("client", [c.id for c in CLIENTS])
def test_a_client_not_installed_is_one_line_with_the_command(tmp_path: Path, client: str) -> None:
    done = fetchviz(without_clients(tmp_path), "--headless", "-n", "2", "-s", client)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"{client} is not installed: {CLIENTS_EXTRA}" in done.stderr


def test_all_without_the_clients_runs_the_others(tmp_path: Path) -> None:
    done = fetchviz(without_clients(tmp_path), "--json", "--all", "-n", "2", "--delay", "20")
    assert done.returncode == 0, done.stderr
    ran = [run["strategy"] for run in json.loads(done.stdout)["runs"]]
    assert len(ran) == 8 and not {c.id for c in CLIENTS} & set(ran)
    left_out = ", ".join(c.id for c in CLIENTS)
    assert f"leaving out {left_out} (not installed: {CLIENTS_EXTRA} adds them)" in done.stderr


def test_with_the_clients_all_runs_them_too() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fetchviz", "--json", "--all", "-n", "3", "--delay", "20"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    runs = {run["strategy"]: run for run in json.loads(done.stdout)["runs"]}
    for client in CLIENTS:
        assert runs[client.id]["ok"] == 3, runs[client.id]
        assert runs[client.id]["cpu"] is not None


def _at_most_200_files() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))  # hard too: fetchviz lifts the soft


def test_pyreqwest_out_of_file_descriptors_says_so(server: EmbeddedServer) -> None:
    """Out of descriptors, pyreqwest's runtime panics and its process aborts: the run says
    why, and what to do, not the panic's last line ('thread caused non-unwinding panic')."""
    command = ["--json", "--url", server.url(), "-n", "1000", "-s", "pyreqwest"]
    done = subprocess.run(
        [sys.executable, "-m", "fetchviz", *command],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_at_most_200_files,
    )
    run = json.loads(done.stdout)["runs"][0]
    assert "too many open files: lower --limit" in (run["error"] or ""), run["error"]
    assert "panic" not in run["error"]


@pytest.mark.parametrize("client", [c.id for c in CLIENTS])
def test_each_client_over_tls_with_the_session_ca(client: str) -> None:
    with EmbeddedServer(delay_ms=20, tls=True) as server:
        server.wait_ready()
        config = Config(tasks=4, url=server.url(), delay_ms=20, cacert=server.cacert)
        run = run_one(config, client)
    assert run.ok == 4, [row.error for row in run.tasks]
    if client == "pyreqwest":  # reqwest tells nothing inside a request
        assert all(row.phases is None for row in run.tasks)
        return
    opened = [row for row in run.tasks if row.reused is False]
    assert opened and all(row.phases is not None for row in opened)
    for row in opened:
        assert row.phases is not None
        _wait, connect, tls, first_byte, _receive = row.phases
        assert connect is not None and tls is not None and tls > 0  # a handshake, timed
        assert first_byte is not None and first_byte >= 0.5 * 0.020


def test_a_refused_curl_transfer_has_no_phases() -> None:
    """libcurl gives a refused transfer a first byte (at ~0.2 ms): no answer, no timings."""
    run = run_one(Config(tasks=1, url="http://127.0.0.1:9/"), "curl-cffi")
    (row,) = run.tasks
    assert row.error == "connection refused"
    assert row.phases is None and row.reused is None


@pytest.mark.parametrize("client", [c.id for c in CLIENTS])
def test_limit_bounds_each_client(server: EmbeddedServer, client: str) -> None:
    """--limit 2 over 6 requests: three waves of the server's delay, never one."""
    config = Config(tasks=6, url=server.url(), delay_ms=server.delay_ms, limit=2)
    run = run_one(config, client)
    assert run.ok == 6
    delay = server.delay_ms / 1000
    assert run.elapsed(0.0) >= 2.5 * delay  # at least three waves: the bound held


@pytest.mark.parametrize("client", ["httpx2", "curl-cffi"])
def test_under_limit_a_task_starts_when_it_has_a_slot(server: EmbeddedServer, client: str) -> None:
    """As httpx's and aiohttp's: curl-cffi's rows all started at once and counted the wait
    for one of max_clients' handles as the request's own time (pyreqwest's still do)."""
    config = Config(tasks=6, url=server.url(), delay_ms=server.delay_ms, limit=2)
    run = run_one(config, client)
    assert run.ok == 6
    starts = sorted(run.offset(row.started) or 0.0 for row in run.tasks)
    assert starts[-1] >= 1.5 * server.delay_ms / 1000  # the third wave waited to start


async def test_the_dashboard_says_a_client_is_not_installed(
    server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import config_for
    from fetchviz.core import catalog
    from fetchviz.core.catalog import BY_ID
    from fetchviz.ui.launch import dashboard_app
    from fetchviz.ui.widgets.board import StrategyBoard
    from test_app import run_done, wait_until

    monkeypatch.setattr(catalog, "_installed", lambda name: False)
    app = dashboard_app(config_for(server, tasks=3), [BY_ID["aiohttp"]])
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        board = app.screen.query_one(StrategyBoard).render()
        lines = [line for line in str(board).splitlines() if "not installed" in line]
        assert len(lines) == 3 and all(c.id in "\n".join(lines) for c in CLIENTS)
        runs = len(app.session.history)
        await pilot.press("h")
        await pilot.pause()
        assert any(CLIENTS_EXTRA in str(n.message) for n in app._notifications)
        # As shown: plain text, its `[clients]` not taken for markup and dropped.
        await pilot.pause(0.2)
        shown = " ".join(str(toast.render()) for toast in app.screen.query("Toast"))
        assert "pip install 'fetchviz[clients]'" in shown, shown
        assert len(app.session.history) == runs  # nothing started
        await pilot.press("a")  # compare-all runs the others
        await wait_until(pilot, lambda: not app.session.pending and run_done(app, "threads")())
        assert not {c.id for c in CLIENTS} & {run.strategy for _, run in app.session.history}


def test_curl_cffis_whole_seconds_are_said_before_the_race(server: EmbeddedServer) -> None:
    # libcurl has no limit on silence under a second: a sub-second --timeout that fails every
    # other client lets curl-cffi's rows succeed. The run says so, before its table.
    url = server.url()
    args = ["--headless", "-n", "2", "--url", url, "-s", "curl-cffi", "-s", "aiohttp"]
    done = fetchviz(dict(os.environ), *args, "--timeout", "0.05")
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if "whole seconds" in line]
    assert said == ["fetchviz: curl-cffi keeps --timeout in whole seconds: 0.05 s waits up to 1 s"]
    assert all(len(line) <= 80 for line in said)
    whole = fetchviz(dict(os.environ), *args, "--timeout", "2")
    assert whole.returncode == 0 and "whole seconds" not in whole.stderr  # kept as asked
    sweep = fetchviz(dict(os.environ), "sweep", "--url", url, "-s", "curl-cffi", "--tasks", "2",
                     "--timeout", "1.5", "--headless")  # fmt: skip
    assert "curl-cffi keeps --timeout in whole seconds: 1.5 s waits up to 2 s" in sweep.stderr


def test_curl_cffi_waits_what_its_caveat_says(server: EmbeddedServer) -> None:
    """`0.5 s waits up to 1 s`: an answer much later is a timeout, said in libcurl's whole
    seconds, and given up on well before the answer. (A 1.5 s answer, the case the connect
    timeout's rounding fixed, is 0.5 s from the limit: libcurl checks on its timers, which a
    busy loop runs late, and one CI run of three workers on 2 cores got that answer.)"""
    args = ["--json", "-n", "1", "--url", server.url(3000), "-s", "curl-cffi", "--timeout", "0.5"]
    done = fetchviz(dict(os.environ), *args)
    (task,) = json.loads(done.stdout)["runs"][0]["tasks"]
    assert task["state"] == "failed" and "no data for 1 s" in task["error"], task
    assert task["finished"] - task["started"] < 2.5, task  # not the answer's 3 s


async def test_the_dashboard_says_curl_cffis_whole_seconds(server: EmbeddedServer) -> None:
    from dataclasses import replace

    from conftest import config_for
    from fetchviz.core.catalog import BY_ID
    from fetchviz.ui.launch import dashboard_app
    from test_app import run_done, wait_until

    config = replace(config_for(server, tasks=2), timeout=0.5)
    app = dashboard_app(config, [BY_ID["curl-cffi"]])
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, run_done(app, "curl-cffi"))
        said = [str(n.message) for n in app._notifications]
        assert "curl-cffi keeps --timeout in whole seconds: 0.5 s waits up to 1 s" in said
        await pilot.press("h")  # httpx2 keeps it as asked: nothing more is said
        await wait_until(pilot, run_done(app, "httpx2"))
        await pilot.press("l")  # nor is it said again for curl-cffi's rerun
        await wait_until(
            pilot, lambda: len(app.session.history) == 3 and run_done(app, "curl-cffi")()
        )
        assert len([n for n in app._notifications if "whole seconds" in str(n.message)]) == 1
