"""Quitting, signals and a dying server: prompt, and nothing left behind.

The dashboard runs in a real child process on a pseudo-terminal, as a user would run it.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from conftest import config_for
from fetchviz.core.catalog import BY_ID
from fetchviz.core.config import Config
from fetchviz.runs.forkserver import RUN_NAME
from fetchviz.runs.server import EmbeddedServer
from fetchviz.ui.launch import dashboard_app
from test_app import run_done, wait_until
from test_server import alive


def descendants(pid: int) -> list[int]:
    """Every process below pid: its server, the fork server, the runs forked from it."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        below = [child for child, its_parent in parents.items() if its_parent == parent]
        found += below
        frontier += below
    return found


def is_run(pid: int) -> bool:
    """A run's process: forked from the fork server, and named so."""
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip() == RUN_NAME
    except OSError:
        return False


def thread_count(pid: int) -> int:
    """Threads of the process and of its children (the run's process, the server)."""
    total = 0
    for one in [pid, *descendants(pid)]:
        try:
            with open(f"/proc/{one}/status") as status:
                total += next(
                    int(line.split()[1]) for line in status if line.startswith("Threads:")
                )
        except (OSError, StopIteration):
            continue
    return total


class Terminal:
    """fetchviz on a pseudo-terminal; its output is drained so that it never blocks."""

    def __init__(self, *args: str) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fetchviz", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            env={**os.environ, "TERM": "xterm-256color"},
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


EXIT_CODES = {"q": 0, "ctrl+c": 130, "sigterm": 143, "sighup": 129, "sigint": 130}
SIGNALS = {"sigterm": signal.SIGTERM, "sighup": signal.SIGHUP, "sigint": signal.SIGINT}


def terminal_restored(output: bytes) -> bool:
    """Out of the alternate screen and mouse tracking off, after the last time they were on."""
    return all(
        output.rfind(off) > output.rfind(on)
        for on, off in ((b"\x1b[?1049h", b"\x1b[?1049l"), (b"\x1b[?1000h", b"\x1b[?1000l"))
    )


def cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read()
    except OSError:
        return b""


def left_after(pids: list[int], seconds: float) -> list[bytes]:
    """The command lines of those still alive once `seconds` have passed. They were killed at
    once; the kernel may take a moment to end 300 threads or close thousands of sockets."""
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [cmdline(pid) for pid in pids if alive(pid)]


@pytest.mark.parametrize("how", list(EXIT_CODES))
def test_quitting_with_300_threads_blocked_in_requests_is_prompt_and_clean(how):
    term = Terminal("-s", "executor", "--workers", "300", "-n", "300", "--delay", "30000")
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and thread_count(term.proc.pid) < 250:
            time.sleep(0.1)
        assert thread_count(term.proc.pid) >= 250, "the threads never got going"
        server_pids = descendants(term.proc.pid)
        assert len(server_pids) == 3, "the server, the fork server and the run's process"
        started = time.monotonic()
        if how in SIGNALS:  # from outside: a closed terminal, kill, a supervisor
            term.proc.send_signal(SIGNALS[how])
        else:
            term.type(b"q" if how == "q" else b"\x03")
        code = term.proc.wait(timeout=10)
        took = time.monotonic() - started
        assert took < 3, f"quitting took {took:.1f} s"  # about one second here
        assert code == EXIT_CODES[how]
        time.sleep(0.2)  # the last of the output drained
        assert terminal_restored(bytes(term.output)), "the terminal is left as it was found"
        assert left_after(server_pids, 3) == []
        assert b"Traceback" not in term.output
    finally:
        term.close()


def test_headless_ctrl_c_prints_what_finished_and_marks_the_run_cut_short():
    proc = subprocess.Popen(
        [sys.executable, "-m", "fetchviz", "--json", "--all", "-n", "4", "--delay", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        workers: set[int] = set()  # headless starts a process for each run
        deadline = time.monotonic() + 30
        while len(workers) < 3 and time.monotonic() < deadline:
            workers.update(p for p in descendants(proc.pid) if is_run(p))
            time.sleep(0.02)
        assert len(workers) == 3, "the third run never started"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "fetchviz: interrupted"
    runs = json.loads(out)["runs"]
    assert [run["strategy"] for run in runs] == ["sync", "async-sequential", "gather-blocking"]
    assert all(run["ok"] == 4 and not run["cancelled"] for run in runs[:2])
    assert runs[2]["cancelled"] and runs[2]["comparable"] is False


def test_headless_ctrl_c_stops_at_once_with_one_line():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fetchviz",
            "--headless",
            "-s",
            "executor",
            "-n",
            "20",
            "--delay",
            "30000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and thread_count(proc.pid) < 6:
            time.sleep(0.1)
        server_pids = descendants(proc.pid)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=5)
        assert proc.returncode == 130
        assert err.strip() == "fetchviz: interrupted"
        assert left_after(server_pids, 3) == []
    finally:
        if proc.poll() is None:
            proc.kill()


async def test_a_killed_server_fails_the_rest_and_the_next_run_restarts_it():
    embedded = EmbeddedServer(delay_ms=150)
    embedded.start()
    try:
        config = Config(tasks=6, url=embedded.url(), delay_ms=150, timeout=3)
        app = dashboard_app(config, [BY_ID["sync"]], embedded)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(
                pilot, lambda: app.session.current is not None and app.session.current.ok >= 1
            )
            first_pid = embedded.pid
            os.kill(first_pid, signal.SIGKILL)
            await wait_until(pilot, run_done(app, "sync"))
            assert app.session.current.failed >= 1
            reasons = {row.error for row in app.session.current.tasks if row.error}
            assert reasons <= {"connection refused", "server closed the connection"}
            await pilot.press("r")
            await wait_until(pilot, lambda: run_done(app, "sync")() and app.session.current.ok == 6)
            assert embedded.pid != first_pid and embedded.running
    finally:
        embedded.stop()


async def test_cancel_drops_the_old_runs_events(server):
    app = dashboard_app(config_for(server, tasks=3, url=server.url(300)), [BY_ID["executor"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot, lambda: app.session.current is not None and app.session.current.started_count
        )
        await pilot.press("escape")
        cancelled = app.session.current
        snapshot = [(row.started, row.finished) for row in cancelled.tasks]
        await pilot.pause(0.6)  # the old requests answer meanwhile; nobody may show it
        assert [(row.started, row.finished) for row in cancelled.tasks] == snapshot


def test_quitting_with_5000_aiohttp_requests_in_flight_is_prompt():
    term = Terminal("-s", "aiohttp", "-n", "5000", "--delay", "30000")
    try:
        deadline = time.monotonic() + 20
        server_pids: list[int] = []
        while time.monotonic() < deadline and not server_pids:
            server_pids = descendants(term.proc.pid)
            time.sleep(0.1)
        time.sleep(3)  # the requests are on their way: thousands of sockets open
        server_pids = descendants(term.proc.pid)  # now the run's process too
        started = time.monotonic()
        term.type(b"q")
        assert term.proc.wait(timeout=10) == 0
        took = time.monotonic() - started
        assert took < 3, f"quitting took {took:.1f} s"  # about 0.6 s here
        assert left_after(server_pids, 5) == []
    finally:
        term.close()


def test_a_closed_terminal_leaves_nothing_even_mid_run():
    """The terminal goes away (its master closed, as when tmux's session is killed), then
    SIGHUP: fetchviz ends, with 129, however its teardown fares on a terminal that is no
    more, and nothing it started outlives it."""
    term = Terminal("-s", "executor", "--workers", "50", "-n", "50", "--delay", "30000")
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and thread_count(term.proc.pid) < 40:
            time.sleep(0.1)
        pids = [term.proc.pid, *descendants(term.proc.pid)]
        assert len(pids) == 4, "fetchviz, the server, the fork server and the run's process"
        os.close(term.master)
        term.master = os.open(os.devnull, os.O_RDONLY)  # for close(): closed already
        term.proc.send_signal(signal.SIGHUP)
        assert term.proc.wait(timeout=15) == 129
        assert left_after(pids, 5) == []
    finally:
        term.close()


def test_quitting_a_dashboard_that_records_says_where_its_runs_went(tmp_path):
    """Before a talk, nothing said that the file was written, nor how to play it."""
    path = tmp_path / "talk.jsonl.gz"
    term = Terminal("-n", "2", "--delay", "20", "--record", str(path))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and b"done" not in term.output:  # the first run's
            time.sleep(0.1)
        term.type(b"q")
        assert term.proc.wait(timeout=10) == 0
        time.sleep(0.2)  # the last of the output drained
        said = bytes(term.output).rsplit(b"\x1b[?1049l", 1)[-1].decode()  # after the screen
        assert f"1 run recorded to {path}: fetchviz replay {path} plays it" in said, said
    finally:
        term.close()


def test_quitting_a_traced_program_that_records_says_where_its_run_went(tmp_path):
    path = tmp_path / "traced.jsonl"
    script = tmp_path / "quick.py"
    script.write_text("print('hello')\n", encoding="utf-8")
    term = Terminal("trace", "--record", str(path), str(script))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and b"exited with 0" not in term.output:
            time.sleep(0.1)
        term.type(b"q")
        assert term.proc.wait(timeout=10) == 0
        time.sleep(0.2)  # the last of the output drained
        said = bytes(term.output).rsplit(b"\x1b[?1049l", 1)[-1].decode()
        assert f"1 run recorded to {path}: fetchviz replay {path} plays it" in said, said
    finally:
        term.close()


def test_fetchviz_keys_fits_the_terminal_it_is_printed_on():
    """Each row is some 140 columns: on a terminal every one wrapped from column 0. There,
    what it does goes under its row; a pipe's rows stay whole (test_cli reads them)."""
    term = Terminal("keys")  # 100 columns
    try:
        assert term.proc.wait(timeout=30) == 0
        time.sleep(0.2)  # the last of the output drained
        lines = bytes(term.output).decode().replace("\r\n", "\n").splitlines()
        assert len(lines) > 40 and all(len(line) <= 100 for line in lines), lines
        assert "    this list of keys, in a window" in lines
    finally:
        term.close()


def test_a_traced_programs_table_fits_the_terminal_it_is_printed_on():
    """At 80 columns each request's row wrapped from column 0: its thread and where now go
    on a line under it (a pipe's rows stay whole: test_trace reads them)."""
    script = Path(__file__).resolve().parent / "traced" / "thread_pool.py"
    term = Terminal(
        "trace",
        "--serve",
        "--headless",
        "--delay",
        "20",
        "--",
        "sh",
        "-c",
        f'exec "{sys.executable}" "{script}" "$FETCHVIZ_URL"',
    )  # 100 columns
    try:
        assert term.proc.wait(timeout=60) == 0
        time.sleep(0.2)  # the last of the output drained
        lines = bytes(term.output).decode().replace("\r\n", "\n").splitlines()
        table = lines[next(i for i, line in enumerate(lines) if line.lstrip().startswith("#")) :]
        assert len(table) >= 2 * 8 and all(len(line) <= 100 for line in table), table
        assert any(line.startswith("      ThreadPoolExecutor-0_") for line in table), table
        # The summary's first line too: the command cut, how it ended and its time whole
        title = next(line for line in lines if "  ·  exited with 0  ·  " in line)
        assert len(title) <= 100 and title.startswith("sh -c "), title
    finally:
        term.close()
