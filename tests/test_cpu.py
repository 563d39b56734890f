"""What a run costs in CPU: its own process's (every thread), and the embedded server's while
it ran, in the JSON, the sweep's CSV and the table, checked against what the kernel counts."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from fetchviz.core.config import Config
from fetchviz.runs.cpu import process_cpu
from fetchviz.runs.headless import print_table, run_all
from fetchviz.runs.runner import Runner
from fetchviz.runs.server import EmbeddedServer
from fetchviz.runs.user import strategy_from
from test_cli import fetchviz

BURN = 0.3  # CPU seconds a strategy spends on purpose


def run_json(*args: str) -> dict[str, Any]:
    done = fetchviz("--json", *args, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def burner(tmp_path: Path) -> str:
    """A strategy that spends BURN seconds of CPU in a thread of its own, then fetches."""
    path = tmp_path / "burn.py"
    path.write_text(
        textwrap.dedent(
            f"""
            import threading, time
            import requests

            def spin():
                start = time.thread_time()
                while time.thread_time() - start < {BURN}:
                    pass

            def burn(job):
                thread = threading.Thread(target=spin)
                thread.start()
                thread.join()
                for i in range(job.tasks):
                    with job.fetching(i) as fetch:
                        response = requests.get(job.urls[i], timeout=job.timeout)
                        fetch.done(response.status_code, len(response.content))
            """
        ),
        encoding="utf-8",
    )
    return f"{path}:burn"


def test_a_runs_cpu_is_its_process_s_every_thread(tmp_path: Path) -> None:
    (run,) = run_json("-n", "2", "--delay", "20", "-s", burner(tmp_path))["runs"]
    assert run["ok"] == 2
    # At least what its thread spun (the kernel's count, read by the strategy itself), and
    # not much more: the run's own work on 2 requests is milliseconds.
    assert BURN <= run["cpu"] < BURN + 1.0
    assert run["server_cpu"] is not None and 0 <= run["server_cpu"] < 1.0


def test_a_busy_server_shows_its_cpu_and_a_quiet_client_its_own(tmp_path: Path) -> None:
    (aiohttp,) = run_json("-n", "300", "--delay", "50", "-s", "aiohttp")["runs"]
    assert aiohttp["ok"] == 300
    assert aiohttp["server_cpu"] > 0  # 300 requests parsed and answered: ticks of 10 ms
    assert 0 < aiohttp["cpu"] < 10 * aiohttp["elapsed"] + 1


def test_another_server_s_cpu_is_not_known(server: EmbeddedServer) -> None:
    (run,) = run_json("-n", "3", "--url", server.url(), "-s", "sync")["runs"]
    assert run["cpu"] is not None and run["server_cpu"] is None


def test_the_sweep_csv_and_the_table_carry_it(tmp_path: Path) -> None:
    done = fetchviz("sweep", "--csv", "-n", "2,4", "--delay", "20", "-s", "aiohttp", timeout=120)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 2 and all(float(row["cpu"]) > 0 for row in rows)
    assert all(row["server_cpu"] != "" for row in rows)
    table = fetchviz("--headless", "-n", "2", "--delay", "20", "-s", "aiohttp").stdout
    header = next(line for line in table.splitlines() if line.startswith("strategy"))
    assert header.split()[:3] == ["strategy", "elapsed", "cpu"]


def test_process_cpu_reads_what_the_kernel_counts() -> None:
    before, clock = process_cpu(os.getpid()), time.process_time()

    def spin() -> None:
        start = time.thread_time()
        while time.thread_time() - start < 0.2:
            pass

    thread = threading.Thread(target=spin)  # a thread that has ended counts too
    thread.start()
    thread.join()
    after, spent = process_cpu(os.getpid()), time.process_time() - clock
    assert before is not None and after is not None
    assert abs((after - before) - spent) < 0.05  # /proc's ticks are 10 ms
    assert process_cpu(None) is None
    assert process_cpu(2**22 + 12345) is None  # no such process


def test_a_process_that_dies_after_every_task_reported_keeps_the_run(
    tmp_path: Path, server: EmbeddedServer
) -> None:
    """pyreqwest's process can abort on its way out, its answers all in: the run stands,
    and says how its process ended. Live (the dashboard's runner), where every end is sent
    within milliseconds: headless, a process killed loses what its last 50 ms batched."""
    path = tmp_path / "dies.py"
    path.write_text(
        textwrap.dedent(
            """
            import os, signal, time
            import requests

            def dies(job):
                for i in range(job.tasks):
                    with job.fetching(i) as fetch:
                        response = requests.get(job.urls[i], timeout=job.timeout)
                        fetch.done(response.status_code, len(response.content))
                time.sleep(0.5)  # live, the ends are sent by now
                os.kill(os.getpid(), signal.SIGABRT)
            """
        ),
        encoding="utf-8",
    )
    strategy = strategy_from(f"{path}:dies", set(), "")
    config = Config(tasks=3, url=server.url(), delay_ms=server.delay_ms)
    (run,) = asyncio.run(run_all(config, [strategy], Runner(live=True), sample=False))
    assert (run.ok, run.error, run.cancelled) == (3, None, False)
    assert run.died is not None and "SIGABRT" in run.died
    assert run.elapsed(0.0) < 0.5  # it ended with its last task, not with its process
    out = io.StringIO()
    print_table(config, [run], out, "")
    assert "every task had reported, then the run's process stopped" in out.getvalue()
