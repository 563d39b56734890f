"""Each run in a process of its own: events arrive, cancelling kills it, nothing is left."""

from __future__ import annotations

import asyncio
import gc
import inspect
import os
import pickle
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import config_for
from fetchviz.core.catalog import BY_ID, STRATEGIES
from fetchviz.core.events import (
    LoopBeat,
    RunFinished,
    TaskFailed,
    TaskFinished,
    TaskStarted,
)
from fetchviz.core.model import LoopState, RunState
from fetchviz.core.source import Batch, RunRequest
from fetchviz.runs.forkserver import RUN_NAME, ForkServer
from fetchviz.runs.protocol import decode_all, encode
from fetchviz.runs.runner import Runner
from fetchviz.runs.worker import PipeSink
from test_server import alive


def open_runner(live: bool = True) -> tuple[Runner, asyncio.Queue[Batch]]:
    queue: asyncio.Queue[Batch] = asyncio.Queue()
    runner = Runner(live=live)
    runner.open(queue.put_nowait)
    return runner, queue


async def run_to_end(runner: Runner, queue: asyncio.Queue[Batch], run: RunState) -> None:
    while not run.closed:
        for event in await asyncio.wait_for(queue.get(), 20):
            run.apply(event)


async def until_started(queue: asyncio.Queue[Batch], run: RunState, count: int) -> None:
    """Apply what comes until `count` of the run's tasks have started."""
    while run.started_count < count:
        for event in await asyncio.wait_for(queue.get(), 20):
            run.apply(event)


def gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    return not alive(pid)


def test_events_cross_the_pipe_as_they_were():
    events = [
        TaskStarted(1, 0, 1.5, "runner-1"),
        TaskFinished(1, 0, 2.5, 200, 11),
        TaskFailed(1, 1, 3.0, "HTTP 500", 500),
        LoopBeat(1, 4.0, 0.002, 0.5),
        RunFinished(1, 5.0, False, None, 0.01),
    ]
    buffer = bytearray(encode(events) + encode(events[:1]))
    partial = encode(events)[:7]
    buffer += partial
    assert decode_all(buffer) == [events, events[:1]]
    assert buffer == partial  # an incomplete frame waits for the rest
    assert pickle.loads(pickle.dumps(events[2])) == events[2]


def test_a_task_event_sent_as_its_fields_arrives_as_the_event():
    read_end, write_end = os.pipe()
    sink = PipeSink(write_end, window=60)
    try:
        sink.emit_task(TaskFinished, (1, 3, 2.5, 200, 11, (0.1, None, 0.0, 0.2, 0.01), False))
        sink.emit(LoopBeat(1, 4.0, 0.002, 0.5))
        sink.emit_task(TaskFailed, (1, 4, 3.0, "HTTP 500", 500, None, None))
        sink.flush()
        (batch,) = decode_all(bytearray(os.read(read_end, 65536)))
    finally:
        os.close(read_end)
        os.close(write_end)
    assert batch == [
        TaskFinished(1, 3, 2.5, 200, 11, (0.1, None, 0.0, 0.2, 0.01), False),
        LoopBeat(1, 4.0, 0.002, 0.5),
        TaskFailed(1, 4, 3.0, "HTTP 500", 500, None, None),
    ]


def test_an_event_that_nothing_follows_is_flushed_during_a_long_turn_of_the_loop():
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    sink = PipeSink(write_end, window=60)  # never due by itself: the alarm must hand it over
    sink.flush_every(0.004)
    try:
        sink.emit(TaskStarted(1, 0, time.perf_counter(), "runner-1"))
        busy_until = time.perf_counter() + 0.2
        while time.perf_counter() < busy_until:  # Python busy, as a loop opening connections
            pass
        assert decode_all(bytearray(os.read(read_end, 65536)))[0][0].index == 0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        os.close(read_end)
        os.close(write_end)


@pytest.mark.timeout(60, method="thread")  # the test's alarm is the sink's, not the timeout's
def test_events_from_many_threads_and_an_alarm_are_each_written_once_in_order(monkeypatch):
    # The sink takes events without a lock: 4 threads emit while an alarm flushes every
    # millisecond from between the main thread's bytecodes; every event reaches the pipe
    # once, each thread's in the order it emitted them.
    each = 20_000
    read_end, write_end = os.pipe()
    sink = PipeSink(write_end, window=0.0005)
    sink.on_alarm = lambda frame: sink.emit_later(LoopBeat(9, time.perf_counter(), 0.0, 0.0))
    received = bytearray()
    stop = threading.Event()  # a failure on the main thread stops the others before the pipe

    def gone(code: int) -> None:  # the sink's "parent gone": a failure here, not an exit 0
        raise OSError(f"the sink wrote to a closed pipe (os._exit({code}))")

    monkeypatch.setattr(os, "_exit", gone)

    def drain() -> None:  # a thread of its own: a full pipe blocks the emitters
        while chunk := os.read(read_end, 1 << 20):
            received.extend(chunk)

    def emit(thread: int) -> None:
        for i in range(each):
            if stop.is_set():
                return
            sink.emit_task(TaskStarted, (thread, i, time.perf_counter(), f"t{thread}"))

    reader = threading.Thread(target=drain, daemon=True)
    threads = [threading.Thread(target=emit, args=(t,), daemon=True) for t in range(4)]
    handler = signal.getsignal(signal.SIGALRM)
    switching = sys.getswitchinterval()
    try:
        reader.start()
        sink.flush_every(0.001)
        sys.setswitchinterval(1e-6)  # threads take turns as often as they can: races show
        for thread in threads:
            thread.start()
        emit(4)  # the main thread too, where the alarm's handler runs
        for thread in threads:
            thread.join()
        sink.flush()
    finally:
        stop.set()
        sys.setswitchinterval(switching)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, handler)
        for thread in threads:
            thread.join(10)
        os.close(write_end)
        reader.join(10)
        os.close(read_end)
    events = [event for batch in decode_all(received) for event in batch]
    tasks = [event for event in events if isinstance(event, TaskStarted)]
    assert len(tasks) == 5 * each
    for thread in range(5):
        assert [e.index for e in tasks if e.run_id == thread] == list(range(each))


def test_events_waiting_are_handed_over_before_a_full_garbage_collection():
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    sink = PipeSink(write_end, window=60)  # never due by itself
    sink.flush_before_full_collections()
    try:
        sink.emit(TaskStarted(1, 0, time.perf_counter(), "runner-1"))
        gc.collect(0)  # a young collection is short: the event waits for its window
        with pytest.raises(BlockingIOError):
            os.read(read_end, 65536)
        gc.collect()
        assert decode_all(bytearray(os.read(read_end, 65536)))[0][0].index == 0
    finally:
        gc.callbacks.remove(sink._on_collection)
        os.close(read_end)
        os.close(write_end)


def test_the_dashboard_draws_without_importing_an_http_client():
    code = (
        "import sys, fetchviz.ui.app, fetchviz.cli\n"
        "print(sorted({'aiohttp', 'httpx', 'requests'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_code_panel_shows_the_functions_that_run():
    import importlib

    for strategy in STRATEGIES:
        module = importlib.import_module(f"fetchviz.runs.{strategy.module}")
        function = getattr(module, strategy.function)
        assert strategy.source().startswith(inspect.getsource(function).rstrip()), strategy.id
        assert strategy.is_async == inspect.iscoroutinefunction(function)
    assert "def fetch_blocking" in BY_ID["executor"].source()
    assert "def fetch_blocking" not in BY_ID["aiohttp"].source()


async def test_a_run_happens_in_another_process_and_its_stamps_are_its_own(server):
    runner, queue = open_runner(live=False)
    try:
        handle = runner.start(RunRequest(BY_ID["aiohttp"], config_for(server, tasks=4)))
        worker_pid = handle.worker.pid
        assert worker_pid != os.getpid()
        run = RunState.new(handle.run_id, "aiohttp", 4)
        before = time.perf_counter()
        await run_to_end(runner, queue, run)
        assert (run.ok, run.failed) == (4, 0)
        # stamps from the other process are on this process's clock
        assert all(run.start <= row.started <= row.finished <= before + 20 for row in run.tasks)
        assert gone(worker_pid), "the run's process exits when the run ends"
    finally:
        runner.close()


async def test_a_run_held_back_starts_only_when_told(server):
    runner, queue = open_runner(live=False)
    try:
        handle = runner.start(
            RunRequest(BY_ID["aiohttp"], config_for(server, tasks=3), begin=False)
        )
        await asyncio.sleep(0.8)  # the process has long been ready: it waits to be told
        assert queue.empty()
        told = time.perf_counter()
        handle.begin()
        handle.begin()  # once only
        run = RunState.new(handle.run_id, "aiohttp", 3)
        await run_to_end(runner, queue, run)
        assert run.ok == 3 and run.start is not None and run.start >= told
    finally:
        runner.close()


async def test_cancel_kills_the_runs_process_and_says_so_at_once(server):
    runner, queue = open_runner()
    spare = None
    try:
        config = config_for(server, tasks=20, url=server.url(30_000), workers=20)
        handle = runner.start(RunRequest(BY_ID["executor"], config))
        run = RunState.new(handle.run_id, "executor", 20)
        await until_started(queue, run, 20)  # twenty threads blocked in requests.get
        handle.cancel()
        delivered = []
        while not queue.empty():  # what had arrived, then the end, at once
            delivered += queue.get_nowait()
        assert isinstance(delivered[-1], RunFinished) and delivered[-1].cancelled
        assert gone(handle.worker.pid), "threads blocked in a request die with it"
        spare = runner._spare
        assert spare is not None, "a spare process is ready for the next run"
    finally:
        runner.close()
    if spare is not None:
        assert gone(spare.pid), "closing the runner kills the spare"


async def test_a_run_whose_process_dies_ends_with_a_reason(server):
    runner, queue = open_runner(live=False)
    try:
        handle = runner.start(
            RunRequest(BY_ID["sync"], config_for(server, tasks=50, url=server.url(200)))
        )
        run = RunState.new(handle.run_id, "sync", 50)
        await until_started(queue, run, 1)
        os.kill(handle.worker.pid, signal.SIGKILL)
        await run_to_end(runner, queue, run)
        assert run.error == "the run's process stopped: killed by SIGKILL"
    finally:
        runner.close()


async def test_runs_are_forked_from_one_server_and_a_dead_one_is_replaced(server):
    runner, queue = open_runner(live=False)
    try:
        config = config_for(server, tasks=2)
        first = runner.start(RunRequest(BY_ID["sync"], config))
        run = RunState.new(first.run_id, "sync", 2)
        await run_to_end(runner, queue, run)
        forks = ForkServer.shared()
        assert run.ok == 2 and first.worker.pid != forks.pid
        deadline = time.monotonic() + 10  # reaped by the server, which says its peak memory
        while first.worker.peak_rss_mb is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert first.worker.peak_rss_mb is not None and 10 < first.worker.peak_rss_mb < 1000
        # A run under way when its server is killed dies with it, and says so.
        config = config_for(server, tasks=30, url=server.url(300))
        second = runner.start(RunRequest(BY_ID["sync"], config))
        run = RunState.new(second.run_id, "sync", 30)
        await until_started(queue, run, 1)
        os.kill(forks.pid, signal.SIGKILL)
        await run_to_end(runner, queue, run)
        assert run.error == "the run's process stopped: the fork server stopped: killed by SIGKILL"
        assert gone(second.worker.pid)
        # The next run has a server of its own.
        third = runner.start(RunRequest(BY_ID["aiohttp"], config_for(server, tasks=3)))
        run = RunState.new(third.run_id, "aiohttp", 3)
        await run_to_end(runner, queue, run)
        assert run.ok == 3 and ForkServer.shared().pid != forks.pid
    finally:
        runner.close()


async def test_a_runs_process_is_named_for_ps(server):
    runner, queue = open_runner()
    try:
        config = config_for(server, tasks=2, url=server.url(2000))
        handle = runner.start(RunRequest(BY_ID["sync"], config))
        run = RunState.new(handle.run_id, "sync", 2)
        await until_started(queue, run, 1)
        with open(f"/proc/{handle.worker.pid}/comm") as comm:
            assert comm.read().strip() == RUN_NAME
    finally:
        runner.close()


def shared_and_private_dirty_kib(pid: int) -> tuple[int, int]:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        sizes = {line.split()[0]: int(line.split()[1]) for line in rollup if "_Dirty:" in line}
    return sizes["Shared_Dirty:"], sizes["Private_Dirty:"]


async def test_a_runs_process_copies_what_it_shares_with_the_fork_server_before_its_run():
    """A page still shared with the fork server is copied at the run's first write to it, a
    fault in the run's time (1,480 of them at N = 1,000, and 70-130 preemptions against a
    fresh process's 5): the spare takes its copies while it waits for its command."""
    runner, _ = open_runner()
    try:
        worker = runner._spare
        assert worker is not None
        deadline = time.monotonic() + 30  # a busy machine: the fork server imports first
        while worker.pid is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert worker.pid is not None
        shared, private = shared_and_private_dirty_kib(worker.pid)
        while shared > private / 10 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            shared, private = shared_and_private_dirty_kib(worker.pid)
        # Before, 31 MB stayed shared and 1.6 MB was its own; after, 0.8 MB and 32 MB.
        assert shared <= private / 10, (shared, private)
    finally:
        runner.close()


def test_the_runs_process_exits_when_its_parent_is_killed(server, tmp_path):
    # A parent that starts a long run, prints the run's pid, then waits to be killed.
    script = tmp_path / "parent.py"
    script.write_text(
        "import asyncio, sys\n"
        "from fetchviz.core.catalog import BY_ID\n"
        "from fetchviz.core.config import Config\n"
        "from fetchviz.core.source import RunRequest\n"
        "from fetchviz.runs.runner import Runner\n"
        "async def main():\n"
        "    runner = Runner()\n"
        "    runner.open(lambda batch: None)\n"
        f"    config = Config(tasks=5, url={server.url(30_000)!r}, workers=5)\n"
        "    handle = runner.start(RunRequest(BY_ID['executor'], config))\n"
        "    print(handle.worker.pid, runner._spare and runner._spare.pid, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pids = [int(pid) for pid in parent.stdout.readline().split() if pid != "None"]
        assert pids
        time.sleep(0.5)
        parent.kill()
        parent.wait()
        assert all(gone(pid) for pid in pids), "orphans exit when their stdin closes"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_the_runs_load_is_read_from_its_heartbeats():
    view = LoopState()
    assert view.lag(100.0) == 0.0  # no beat yet: the loop is not late
    for i in range(10):  # a loop that keeps a core fully busy, beating on time
        view.observe(LoopBeat(1, 0.01 * i, 0.0, 0.01 * i))
    assert view.busy > 0.9
    assert abs(view.lag(0.09 + 0.25) - 0.24) < 1e-9  # no beat for 250 ms: late by 240
    view.fetching_began()  # what the set-up cost does not count
    assert view.busy == 0.0
    for i in range(10, 20):  # then a loop that waits on the network
        view.observe(LoopBeat(1, 0.01 * i, 0.0, 0.1 + 0.0001 * i))
    assert view.busy < 0.05
