"""`fetchviz trace` on the dashboard, driven by Pilot: the program's rows and output live,
r runs it again, escape stops it (SIGINT), q leaves nothing of it behind."""

from __future__ import annotations

import asyncio
import html
import re
import time
from pathlib import Path

import pytest
from textual.content import Content
from textual.widgets._footer import FooterKey

from fetchviz.core.actions import ACTIONS
from fetchviz.core.events import ProgramExited, TaskFinished
from fetchviz.runs.server import EmbeddedServer
from fetchviz.trace.program import Program
from fetchviz.trace.source import TraceSource
from fetchviz.ui.app import FetchvizApp
from fetchviz.ui.dialogs.details import Details, LiveDetails
from fetchviz.ui.screens.trace import GRACE, TraceScreen, threads_text
from test_app import wait_until
from test_server import alive

ROOT = Path(__file__).resolve().parent.parent


def traced_app(script: str, *args: str) -> tuple[FetchvizApp, TraceScreen]:
    program = Program.of("script", str(ROOT / script), args)
    source = TraceSource(program, live=True)
    screen = TraceScreen(source)
    return FetchvizApp(lambda: screen, source, None, None, {}, ACTIONS), screen


def footer_words(app: FetchvizApp) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


async def test_rows_and_output_live_then_again(server: EmbeddedServer) -> None:
    app, screen = traced_app("examples/tutorial/executor.py", server.url())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: screen.state is not None and screen.state.done)
        state = screen.state
        assert state is not None and state.exit_code == 0
        assert len(state.tasks) == 10 and state.ok == 10
        printed = [text for _, _, text in state.output]
        assert "Started: 0" in printed and "Finished: 9" in printed
        # In time with the rows: "Finished: 0" is printed after request 0 ended.
        finished_0 = next(at for at, _, text in state.output if text == "Finished: 0")
        first = state.tasks[0].finished
        assert first is not None and finished_0 >= first - 0.05
        assert "process" in threads_text(state)
        await pilot.press("down", "down", "enter")  # a request's details, by keyboard
        await wait_until(pilot, lambda: isinstance(app.screen, Details))
        assert app.screen.title_text == "request 1" and "where" in app.screen.text
        await pilot.press("escape")
        first_run = state.run_id
        await pilot.press("r")
        await wait_until(
            pilot,
            lambda: (
                screen.state is not None and screen.state.run_id != first_run and screen.state.done
            ),
        )
        assert screen.state is not None and screen.state.ok == 10


@pytest.mark.parametrize(
    ("script", "title", "cell"),
    [
        # 22 characters, cut in the middle: what it is, and its number ("…dPoolExecutor-0_1"
        # had cut the start of the word).
        ("tests/traced/thread_pool.py", "thread", "ThreadPool"),
        ("tests/traced/thread_pool.py", "thread", "…-0_"),
        ("tests/traced/aiohttp_gather.py", "task", "fetch-"),
    ],
)
async def test_the_thread_column_says_what_it_holds_at_100_columns(
    server: EmbeddedServer, script: str, title: str, cell: str
) -> None:
    """It was titled `thread` over asyncio tasks' names, and a thread pool's rows at 100
    columns had no such column at all (its names were too long for it)."""
    app, screen = traced_app(script, server.url())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: screen.state is not None and screen.state.done)
        await pilot.pause(0.1)
        header = str(screen.header._shown)
        assert f" {title} " in header and "thread/" not in header, header
        # One server: named in the column's title (its rows are paths), its port whole
        port = server.url().split(":")[2].split("/")[0]
        assert re.search(rf" (request · )?(http://)?127\.0\.0\.1:{port} ", header), header
        svg = app.export_screenshot()
        drawn = [html.unescape(text) for text in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
        assert any(cell in text for text in drawn)


async def test_threads_that_make_no_request_are_seen_as_they_start() -> None:
    """A Pool's parent waits in pool.map while its threads hand work out: they showed when it
    exited ("4 processes, 0 threads" while it ran)."""
    app, screen = traced_app("tests/traced/quiet_threads.py", "30")
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: (
                screen.state is not None
                and {"quiet-0", "quiet-1"} <= {span.name for span in screen.state.threads.values()}
            ),
            timeout=20,
        )
        assert screen.state is not None and not screen.state.done  # while it runs


async def test_a_tasks_end_is_said_apart_from_its_requests(server: EmbeddedServer) -> None:
    """`t` lists tasks as "cancelled · 1 request": "1 request cancelled" said what was not so
    of a task that failed with no request."""
    app, screen = traced_app("tests/traced/cancelled.py", server.url(5000))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: screen.state is not None and screen.state.done)
        assert screen.state is not None
        tasks = [line for line in threads_text(screen.state).splitlines() if "  task " in line]
        assert len(tasks) == 4
        assert sum(line.endswith("cancelled · 1 request") for line in tasks) == 3, tasks
        assert not any(line.endswith(("requests cancelled", "request cancelled")) for line in tasks)


async def test_an_unended_line_is_shown_as_a_terminal_would(server: EmbeddedServer) -> None:
    """A progress bar's line shows live, at its latest drawing, in the panel's lower edge;
    a line on stderr puts the unended stdout line before it; the last, never ended, is kept."""
    app, screen = traced_app("tests/traced/progress.py", server.url(300))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot,
            lambda: screen.state is not None and "[b]phase2 2/3" in screen.state.partial.values(),
        )
        edge = screen.output.border_subtitle  # as markup: the program's "[b]" kept as text
        assert edge is not None and Content.from_markup(edge).plain == "▸ [b]phase2 2/3"
        await wait_until(pilot, lambda: screen.state is not None and screen.state.done)
        state = screen.state
        assert state is not None
        said = [(stream, text) for _, stream, text in state.output]
        assert said == [
            ("stdout", "phase1"),
            ("stdout", "[b]phase2 3/3"),
            ("stderr", "oops"),
            ("stdout", "[done] 3/3"),
        ], said
        assert not state.partial
        await pilot.pause()
        assert "[done] 3/3" in "\n".join(str(line.text) for line in screen.output.lines)
        assert str(screen.output.border_subtitle) == screen.output_note()


async def test_below_the_rows_the_output_panel_is_as_tall_as_its_lines(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    """At 80×24 its eight lines for a program's one line left 7 of 12 rows; `o`, which hides
    it, was not in the footer."""
    script = tmp_path / "one_line.py"
    script.write_text(
        "import sys, urllib.request\n"
        "for _ in range(12):\n"
        "    urllib.request.urlopen(sys.argv[1]).read()\n"
        "print('12 fetched')\n",
        encoding="utf-8",
    )
    app, screen = traced_app(str(script), server.url(10))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: screen.state is not None and screen.state.done)
        await wait_until(pilot, lambda: screen.output.size.height == 1)
        assert screen.output.outer_size.height == 3  # its line and its border
        assert screen.table.size.height >= 12  # every request's row
        await wait_until(pilot, lambda: "Output" in footer_words(app))  # composed a frame late


async def test_while_it_stops_the_summary_says_so_and_not_once_it_has_ended(
    server: EmbeddedServer,
) -> None:
    """ "Stopping it: … killed in 3 s if still running" was a toast: it stayed up beside
    "killed by SIGINT", and taking it down took every other toast with it."""
    app, screen = traced_app("tests/traced/slow_cleanup.py", server.url(5))
    async with app.run_test(size=(80, 24)) as pilot:

        def first_line() -> str:
            return str(screen.summary.render()).splitlines()[0]

        await wait_until(pilot, lambda: screen.state is not None and screen.state.ok == 1)
        await pilot.press("escape")  # the program takes a second to clean up
        stopping = f"stopping (SIGINT sent; killed after {GRACE:g} s)"
        await wait_until(pilot, lambda: stopping in first_line())
        assert screen.summary.border_subtitle == "stopping"
        await wait_until(pilot, lambda: screen.state is not None and screen.state.done)
        await pilot.pause(0.2)  # the frame after its end
        assert "stopping" not in first_line() and "exited with 130" in first_line()
        assert screen.summary.border_subtitle == "exited with 130"
        assert not app.screen.query("Toast")  # nothing was left in a toast


async def test_escape_stops_it_and_q_leaves_nothing(server: EmbeddedServer) -> None:
    app, screen = traced_app("examples/tutorial/sync.py", server.url(5000))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: screen.state is not None and len(screen.state.tasks) > 0)
        assert screen.source.current is not None and screen.source.current.proc is not None
        pid = screen.source.current.proc.pid
        await pilot.press("escape")
        await wait_until(pilot, lambda: screen.state is not None and screen.state.done)
        await pilot.pause(0.2)  # the frame after its end
        assert screen.state is not None
        assert screen.state.exit_code == 130, screen.state.how  # Ctrl+C, as the program saw it
        assert screen.state.tasks[0].error == "interrupted (Ctrl+C, or SIGINT)"  # and says so
        summary = str(screen.summary.render())
        assert "0 failed, 1 interrupted" in summary, summary  # not a failure of the server's
        # Over: the footer offers no "esc Stop", and "Stopping it: …" is not left beside it.
        await wait_until(pilot, lambda: "Stop" not in footer_words(app))
        assert "Rerun" in footer_words(app)
        await pilot.press("r")
        await wait_until(pilot, lambda: "Stop" in footer_words(app))
        await wait_until(pilot, lambda: screen.source.current is not None)
        assert screen.source.current.proc is not None
        second = screen.source.current.proc.pid
        await pilot.press("q")
    for _ in range(200):  # killed at once; reaped within moments
        if not alive(pid) and not alive(second):
            break
        await asyncio.sleep(0.05)
    assert not alive(pid) and not alive(second)
    source = screen.source
    assert isinstance(source, TraceSource)
    assert source.quit_code == 137  # quit mid-run: killed, and `fetchviz trace` exits so


async def test_threads_and_tasks_follow_the_program_and_list_the_first_hundred(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    go = tmp_path / "go"  # the program's tasks wait for it: it runs until the test has looked
    app, screen = traced_app("tests/traced/many_tasks.py", server.url(), str(go))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot, lambda: screen.state is not None and len(screen.state.async_tasks) > 150
        )
        await pilot.press("t")
        window = app.screen
        assert isinstance(window, LiveDetails)
        assert "… and 51 more tasks (--json lists them all)" in window.text  # main's and 150
        assert window.text.count("\n  task ") == 100
        assert "→ …" in window.text.splitlines()[0]  # the process, still running
        go.touch()
        await wait_until(pilot, lambda: screen.state is not None and screen.state.done)
        await wait_until(pilot, lambda: "→ …" not in window.text.splitlines()[0])
        assert "  1 request\n" in window.text


async def test_a_program_that_ended_before_it_was_accepted_keeps_its_rows(
    server: EmbeddedServer,
) -> None:
    # A busy machine: the program connects, says everything and exits before the loop's turn
    # comes to accept its connection. Here the loop is held until then, so its end is the
    # first thing the loop learns (it once made a run of 10 requests with none).
    program = Program.of("script", str(ROOT / "examples/tutorial/sync.py"), (server.url(), "3"))
    source = TraceSource(program, live=True)
    batches: list[list[object]] = []
    source.open(batches.append)
    try:
        run = source.start()
        assert run.proc is not None
        run.proc.wait(timeout=30)  # the loop is held: nothing of it is accepted or read
        time.sleep(0.3)  # its reaper thread has asked the loop to end the run
        deadline = time.monotonic() + 10
        while not run.finished and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        events = [event for batch in batches for event in batch]
        assert sum(isinstance(event, TaskFinished) for event in events) == 3
    finally:
        source.close()


@pytest.mark.parametrize("script", ["loop_then_sync.py", "blocked_after_request.py"])
async def test_a_lone_loops_request_is_seen_to_end_at_once(
    server: EmbeddedServer, script: str
) -> None:
    """A lone loop sends through its heartbeat: a request's end is sent when it comes, not
    when the program exits, both once the loop has ended (a second of work still to come)
    and while a blocking call keeps the loop blocked after it."""
    # 400 ms: the request outlasts the 100 ms after which the alarm rings (once) for the block
    program = Program.of("script", str(ROOT / "tests/traced" / script), (server.url(400),))
    source = TraceSource(program, live=True)
    arrived: list[tuple[float, object]] = []
    source.open(lambda batch: arrived.extend((time.perf_counter(), event) for event in batch))
    try:
        run = source.start()
        deadline = time.monotonic() + 30
        while not run.finished and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        ended = next(at for at, event in arrived if isinstance(event, TaskFinished))
        exited = next(at for at, event in arrived if isinstance(event, ProgramExited))
        assert exited - ended > 0.5  # the program went on for 1 s or more after
    finally:
        source.close()


def test_only_a_traced_programs_thread_column_narrows():
    """A run's failure reasons keep their room at 100 columns (its thread column gives way
    first); a traced program's short results leave room for a narrowed one."""
    from fetchviz.ui.widgets.table import RESULT_MAX, Columns

    run = Columns.fit(98, thread_names=23)
    assert run.thread == 0 and run.result == RESULT_MAX
    traced = Columns.fit(98, thread_names=23, traced=True)
    assert 10 <= traced.thread < 24
