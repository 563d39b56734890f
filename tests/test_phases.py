"""Inside each request: the phases each client reports, whether it reused a connection, how
many a run opened; and HTTPS on loopback (--tls) with a certificate made for the session."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from fetchviz.core.timeline import phase_runs
from test_cli import fetchviz

KNOWN = ("wait", "connect", "first_byte", "receive")


def run(*args: str) -> dict:
    done = fetchviz("--json", "--delay", "40", *args)
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)["runs"]
    assert result["ok"] == len(result["tasks"]), result
    return result


def test_requests_get_opens_a_connection_for_every_request():
    result = run("-n", "4", "-s", "sync")
    assert result["connections"] == 4
    for task in result["tasks"]:
        assert task["reused"] is False
        assert all(task["phases"][name] is not None for name in KNOWN)
        assert task["phases"]["tls"] == 0.0  # plain HTTP: no handshake, and that is known
        took = task["finished"] - task["started"]
        # The phases cover the request: their sum is its duration (rounded to 0.1 ms each).
        assert sum(task["phases"].values()) == pytest.approx(took, abs=0.002)
        assert task["phases"]["first_byte"] > 0.5 * took  # the server's 40 ms is the bulk


def test_one_aiohttp_connection_serves_every_request_with_limit_1():
    result = run("-n", "4", "-s", "aiohttp", "--limit", "1")
    assert result["connections"] == 1
    assert [task["reused"] for task in result["tasks"]] == [False, True, True, True]
    assert all(task["phases"]["connect"] == 0.0 for task in result["tasks"][1:])


@pytest.mark.parametrize("strategy", ["sync", "httpx"])
def test_over_tls_each_new_connection_pays_the_handshake(strategy):
    result = run("-n", "3", "--tls", "-s", strategy)
    assert result["tasks"][0]["url"].startswith("https://127.0.0.1:")
    assert result["connections"] == 3
    assert all(task["phases"]["tls"] > 0 for task in result["tasks"])


def test_a_session_pays_the_handshake_once(tmp_path):
    result = run("-n", "3", "--tls", "-s", "examples/session_loop.py:session_loop")
    first, *rest = result["tasks"]
    assert result["connections"] == 1 and first["phases"]["tls"] > 0
    assert all(task["reused"] and task["phases"]["tls"] == 0.0 for task in rest)


def test_aiohttp_s_tls_is_timed_apart_from_its_tcp_connect():
    """aiohttp ≥ 3.10 opens the socket, then the handshake: both are timed, each its own."""
    result = run("-n", "2", "--tls", "-s", "aiohttp")
    for task in result["tasks"]:
        phases = task["phases"]
        assert phases["connect"] > 0 and phases["tls"] > 0


def test_what_a_client_cannot_say_is_null_not_guessed():
    """pyreqwest tells nothing inside a request: every phase is null, never 0."""
    result = run("-n", "2", "--tls", "-s", "pyreqwest")
    for task in result["tasks"]:
        assert task["phases"] is None and task["reused"] is None
    assert result["connections"] is None


def test_serve_tls_prints_its_ca_and_fetchviz_trusts_it_with_cacert():
    serve = subprocess.Popen(
        [sys.executable, "-m", "fetchviz", "serve", "--tls", "--delay", "10"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stdout is not None
        url = serve.stdout.readline().split()[2]
        ca = serve.stdout.readline().rsplit(" ", 1)[1].strip()
        assert url.startswith("https://127.0.0.1:")
        assert requests.get(url, verify=ca, timeout=10).status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url, timeout=10)  # nobody else trusts the session's CA
        done = fetchviz("--json", "-n", "2", "-s", "threads", "--url", url, "--cacert", ca)
        assert json.loads(done.stdout)["runs"][0]["ok"] == 2
    finally:
        serve.terminate()
        serve.wait(timeout=10)
    assert not Path(ca).parent.exists(), "SIGTERM removes the session's CA and key too"


def test_each_cell_of_a_bar_takes_the_phase_under_its_middle():
    # 10 cells of 0.1 s; a request from 0.0: connect 0.2 s, tls unknown, server 0.5, body 0.3.
    runs = phase_runs(0.0, (0.0, 0.2, None, 0.5, 0.3), 1.0, 10, 0, 10)
    assert runs == [(1, 2), (3, 5), (4, 3)]  # no wait, no tls drawn: neither took time
    # A phase shorter than a cell is not drawn; the bar is the request's, whole.
    assert (
        sum(cells for _, cells in phase_runs(0.0, (0.01, 0.01, 0.0, 0.9, 0.08), 1.0, 10, 0, 10))
        == 10
    )


def test_time_past_the_phases_known_is_not_drawn_as_a_body():
    # A read timeout: connected, then silence; no first byte, no body.
    assert phase_runs(0.0, (0.001, 0.001, 0.0, None, None), 1.0, 10, 0, 10) == [(3, 10)]


def test_a_client_fetchviz_cannot_time_says_nothing_rather_than_zero(tmp_path):
    path = tmp_path / "plain.py"
    path.write_text(
        "import urllib.request\n\n"
        "def plain(job):\n"
        "    for i in range(job.tasks):\n"
        "        with job.fetching(i) as fetch:\n"
        "            with urllib.request.urlopen(job.urls[i], timeout=job.timeout) as answer:\n"
        "                fetch.done(answer.status, len(answer.read()))\n",
        encoding="utf-8",
    )
    result = run("-n", "2", "-s", f"{path}:plain")
    assert result["connections"] is None
    assert all(task["phases"] is None and task["reused"] is None for task in result["tasks"])


def test_options_that_cannot_work_together_are_refused(tmp_path):
    import trustme

    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca))
    for args, complaint in (
        (["web", "--record", "x.jsonl"], "every tab would write the same file"),
        (["--tls", "--cacert", str(ca)], "give one of the two"),
    ):
        done = fetchviz(*args)
        assert done.returncode == 2 and complaint in done.stderr


def test_the_aiohttp_methods_phases_wraps_are_there_as_it_calls_them():
    """phases.py times aiohttp through a few of its methods, two of them private: a release
    that renames or reshapes them fails here, not silently in every run's phases."""
    import asyncio
    import inspect

    from aiohttp.client_proto import ResponseHandler
    from aiohttp.connector import TCPConnector

    create = inspect.unwrap(TCPConnector._create_connection)
    assert inspect.iscoroutinefunction(create)
    assert list(inspect.signature(create).parameters) == ["self", "req", "traces", "timeout"]
    for method, params in (
        (ResponseHandler.feed_data, ["self", "data", "size"]),
        (ResponseHandler.connection_made, ["self", "transport"]),
    ):
        assert list(inspect.signature(inspect.unwrap(method)).parameters) == params, method
    expect = inspect.unwrap(ResponseHandler.set_response_params)
    assert "read_timeout" in inspect.signature(expect).parameters

    async def made() -> object:  # a TCP connector makes its connections' protocols so
        connector = TCPConnector()
        try:
            return connector._factory
        finally:
            await connector.close()

    factory = asyncio.run(made())
    assert isinstance(factory, functools.partial) and factory.func is ResponseHandler, factory


def test_aiohttp_over_connections_of_their_own_says_each_ones_phases():
    result = run("-n", "3", "-s", "aiohttp")
    for task in result["tasks"]:  # three at once: three connections, each of its own
        assert task["reused"] is False
        assert task["phases"]["connect"] > 0 and task["phases"]["first_byte"] > 0.02
        assert task["phases"]["tls"] == 0.0
