"""Bad targets: every strategy turns each into rows that say why, and the run ends."""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys

import pytest

from conftest import run_here, run_one
from faulty import BIG_BODY, faulty_server
from fetchviz.core.catalog import STRATEGIES
from fetchviz.core.config import Config
from fetchviz.core.model import TaskState
from fetchviz.core.reasons import describe
from fetchviz.runs.server import EmbeddedServer

ALL = [s.id for s in STRATEGIES]


def failed_alike(run, reason: str, status: int | None = None) -> None:
    """Every task failed for that reason; under a TaskGroup the first failure cancels the rest,
    and those rows say Cancelled, with no reason of their own."""
    assert run.done and run.error is None and run.ok == 0
    failed = [row for row in run.tasks if row.state is TaskState.FAILED]
    cancelled = [row for row in run.tasks if row.state is TaskState.CANCELLED]
    assert {(row.error, row.status) for row in failed} == {(reason, status)}
    assert all(row.error is None for row in cancelled)
    if run.strategy == "taskgroup":
        assert failed and len(failed) + len(cancelled) == len(run.tasks)
    else:
        assert len(failed) == len(run.tasks)


@pytest.mark.parametrize("strategy", ALL)
@pytest.mark.parametrize(
    "mode, reason",
    [
        ("silent", "timed out: no data for 0.5 s"),
        ("close-before-answer", "server closed the connection"),
        ("close-mid-response", "connection closed mid-response"),
    ],
)
def test_a_misbehaving_server_gives_failed_rows_with_a_reason(strategy, mode, reason):
    with faulty_server(mode) as url:
        run = run_one(Config(tasks=2, url=url, timeout=0.5), strategy)
    if strategy == "curl-cffi" and mode == "silent":  # its limit is whole seconds: it says so
        reason = "timed out: no data for 1 s (libcurl counts whole seconds)"
    failed_alike(run, reason)


@pytest.mark.parametrize("strategy", ALL)
def test_a_very_large_body_is_read_and_counted(strategy):
    with faulty_server("big-body") as url:
        run = run_one(Config(tasks=2, url=url, timeout=10), strategy)
    assert (run.ok, run.failed) == (2, 0), [row.error for row in run.tasks]
    assert [row.nbytes for row in run.tasks] == [BIG_BODY, BIG_BODY]


@pytest.mark.parametrize("strategy", ALL)
def test_a_name_that_does_not_resolve_says_host_not_found(strategy, monkeypatch):
    def no_dns(*args, **kwargs):  # fail inside this process: no DNS server is ever asked
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    run = run_here(Config(tasks=2, url="http://fetchviz.invalid/", timeout=2), strategy)
    failed_alike(run, "host not found")


@pytest.mark.parametrize("strategy", ALL)
def test_http_errors_are_failed_rows_with_their_status(strategy):
    with EmbeddedServer(delay_ms=0, fail_rate=1.0) as failing:
        failing.wait_ready()
        run = run_one(Config(tasks=2, url=failing.url(), timeout=5), strategy)
    failed_alike(run, "HTTP 500", 500)


def test_running_out_of_file_descriptors_says_what_to_do():
    exhausted = OSError(24, "Too many open files")
    wrapped = RuntimeError("connect failed")
    wrapped.__cause__ = exhausted
    assert describe(wrapped, 10, 30) == "too many open files: lower --limit"


@pytest.mark.parametrize("strategy", ["aiohttp", "curl-cffi"])
def test_a_low_open_file_limit_gives_failed_rows_not_a_crash(strategy: str) -> None:

    def low_limit() -> None:  # in the child only: 80 descriptors, soft and hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (80, 80))

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "fetchviz",
            "--json",
            "-s",
            strategy,
            "-n",
            "150",
            "--delay",
            "300",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=low_limit,
    )
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)["runs"][0]
    assert run["ok"] + run["failed"] == 150 and run["failed"] > 0
    assert "too many open files: lower --limit" in {t["error"] for t in run["tasks"]}


@pytest.mark.parametrize(
    "strategy, tasks, limit",
    [("aiohttp", 3000, None), ("httpx", 500, 50)],
)
def test_load_completes_without_running_out_of_files(strategy, tasks, limit):
    """Thousands in flight at once (aiohttp unbounded) or bounded (httpx, whose CPU cost per
    request is its own): every task answered, none failing for want of descriptors."""

    args = ["--json", "-s", strategy, "-n", str(tasks), "--delay", "50"]
    if limit:
        args += ["--limit", str(limit)]
    done = subprocess.run(
        [sys.executable, "-m", "fetchviz", *args], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr
    run = json.loads(done.stdout)["runs"][0]
    assert (run["ok"], run["failed"]) == (tasks, 0), {t["error"] for t in run["tasks"]}
