"""The dashboard, driven by Pilot against the embedded server."""

from __future__ import annotations

import itertools
import os
import re
import signal
import time
from collections.abc import Callable
from dataclasses import replace

import pytest
from textual.containers import VerticalScroll
from textual.geometry import Region

from conftest import config_for
from fetchviz.core.catalog import BY_ID, STRATEGIES
from fetchviz.core.config import Config
from fetchviz.core.model import RunState, TaskState
from fetchviz.ui.app import FetchvizApp
from fetchviz.ui.dialogs.details import Details
from fetchviz.ui.dialogs.keys import KeysPanel
from fetchviz.ui.launch import dashboard_app
from fetchviz.ui.widgets.board import StrategyBoard
from fetchviz.ui.widgets.code import CodePanel
from fetchviz.ui.widgets.summary import Summary
from fetchviz.ui.widgets.table import TaskTable


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 20) -> None:
    """Let the app process events until the condition holds (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the dashboard"
        await pilot.pause(0.02)


def row_text(table: TaskTable, y: int) -> str:
    """A line of the table as the screen shows it."""
    return table.render_lines(Region(0, y, table.size.width, 1))[0].text


def run_done(app: FetchvizApp, strategy: str) -> Callable[[], bool]:
    return lambda: (
        app.session.current is not None
        and app.session.current.strategy == strategy
        and app.session.current.done
    )


async def test_launch_runs_the_selected_strategy_to_finished_rows(server):
    app = dashboard_app(config_for(server, tasks=5), [BY_ID["sync"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        assert [row.state for row in app.session.current.tasks] == [TaskState.FINISHED] * 5
        table = app.screen.query_one(TaskTable)
        first_row = row_text(table, 0)
        assert "Finished" in first_row and "200" in first_row and "█" in first_row


async def test_a_number_key_switches_strategy_and_runs_it(server):
    app = dashboard_app(config_for(server, tasks=4, url=server.url(100)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await pilot.press("6")
        assert app.session.selected.id == "aiohttp"
        await wait_until(pilot, run_done(app, "aiohttp"))
        assert app.session.current.ok == 4
        summary = app.screen.query_one(Summary).plain
        assert "aiohttp" in summary and "faster" in summary


async def test_baseline_is_an_estimate_until_b_measures_it(server):
    app = dashboard_app(config_for(server, tasks=4), [BY_ID["aiohttp"]])
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen.query_one(Summary)
        await wait_until(pilot, run_done(app, "aiohttp"))
        # The sample is timed after the run: until it is in, there is no figure to show.
        await wait_until(pilot, lambda: "estimate" in summary.plain)
        board = app.screen.query_one(StrategyBoard)

        def aiohttp_line() -> str:
            return next(line for line in board.render().plain.splitlines() if "aiohttp" in line)

        # The panel's "N× faster" of the estimate, on the board too, marked as an estimate.
        await wait_until(pilot, lambda: "×" in aiohttp_line())
        assert "~" in aiohttp_line()
        await pilot.press("b")
        await wait_until(pilot, run_done(app, "sync"))
        assert app.session.selected.id == "sync"  # what runs is what is selected
        await pilot.press("6")
        await wait_until(pilot, run_done(app, "aiohttp"))
        assert "measured" in summary.plain and "estimate" not in summary.plain
        assert "×" in aiohttp_line() and "~" not in aiohttp_line()


async def test_escape_cancels_at_once_and_keeps_the_rows(server):
    config = config_for(server, tasks=4, url=server.url(400))
    app = dashboard_app(config, [BY_ID["sync"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: app.session.current is not None and app.session.current.started_count
        )
        await pilot.press("escape")
        assert app.session.current.cancelled and app.session.current.done
        assert "cancelled" in app.screen.query_one(Summary).plain
        await pilot.pause()
        table = app.screen.query_one(TaskTable)  # not "Started" / "Queued", as if to come
        assert "Cancelled" in row_text(table, 0) and "Not run" in row_text(table, 3)
        await pilot.press("6")  # the next run does not wait for the old one's thread
        await wait_until(pilot, run_done(app, "aiohttp"), timeout=5)


async def test_plus_and_minus_change_n_for_the_next_run(server):
    app = dashboard_app(config_for(server, tasks=10), [BY_ID["aiohttp"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        await pilot.press("plus")
        assert app.session.config.tasks == 20
        await pilot.press("minus", "minus")
        assert app.session.config.tasks == 5
        await pilot.press("r")
        await wait_until(
            pilot, lambda: run_done(app, "aiohttp")() and len(app.session.current.tasks) == 5
        )


async def test_reads_at_80x24_and_at_160x50(server):
    for size in ((80, 24), (160, 50)):
        app = dashboard_app(config_for(server, tasks=10), [BY_ID["executor"]])
        async with app.run_test(size=size) as pilot:
            await wait_until(pilot, run_done(app, "executor"))
            table = app.screen.query_one(TaskTable)
            # Eight rows at once under the eleven strategies' board, all ten at 160×50.
            shown = 8 if size == (80, 24) else 10
            assert table.size.height >= shown
            last = row_text(table, shown - 1)
            # as wide as the table (its scrollbar aside, where the rows scroll)
            assert "Finished" in last and len(last) >= table.scrollable_content_region.width
            screen = app.export_screenshot()
            for label in ("Rerun", "Baseline", "All", "Code", "Cancel", "Keys", "Quit"):
                assert label in screen  # the whole footer fits, even at 80 columns
            # The board and the run panel side by side, each wide enough to read.
            board, summary = (
                app.screen.query_one(StrategyBoard).region,
                app.screen.query_one(Summary).region,
            )
            assert board.y == summary.y and board.right <= summary.x
            assert board.width >= 36 and summary.width >= 36
            assert "executor" in screen and "elapsed" in screen


async def test_timeline_draws_a_staircase_for_sync_and_a_column_for_aiohttp(server):
    def bars(app: FetchvizApp) -> list[tuple[int, int]]:
        """(first, last) cell of each row's request bar."""
        table = app.screen.query_one(TaskTable)
        lines = [row_text(table, y) for y in range(4)]
        drawn = "█▏▎▍▌▋▊▉"
        return [
            (
                min(i for i, ch in enumerate(line) if ch in drawn),
                max(i for i, ch in enumerate(line) if ch in drawn),
            )
            for line in lines
        ]

    app = dashboard_app(config_for(server, tasks=4), [BY_ID["sync"]])
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        staircase = bars(app)
        for (_, end), (start, _) in itertools.pairwise(staircase):
            assert start >= end  # each request starts where the one before ended
        await pilot.press("6")
        await wait_until(pilot, run_done(app, "aiohttp"))
        column = bars(app)
        assert max(start for start, _ in column) < min(end for _, end in column)  # overlap


async def test_waiting_is_shaded_on_the_timeline(server):
    app = dashboard_app(config_for(server, tasks=6), [BY_ID["gather-blocking"]])
    async with app.run_test(size=(100, 24)) as pilot:
        await wait_until(pilot, run_done(app, "gather-blocking"))
        last = row_text(app.screen.query_one(TaskTable), 5)
        assert "░" in last  # created at the gather, run only when the loop got to it
        assert "LOOP BLOCKED" in app.screen.query_one(Summary).plain


async def test_compare_all_runs_every_strategy_and_ranks_them(server):
    app = dashboard_app(config_for(server, tasks=4), [BY_ID["sync"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await pilot.press("a")
        every = len(STRATEGIES)  # a bound, not a wait: every strategy, a process each
        await wait_until(pilot, lambda: len(app.session.results()) == every, timeout=120)
        await wait_until(pilot, run_done(app, STRATEGIES[-1].id))
        board = str(app.screen.query_one(StrategyBoard).render()).splitlines()
        ranked = [line.split()[1] for line in board[: len(STRATEGIES)]]
        assert set(ranked) == {s.id for s in STRATEGIES}
        elapsed = [app.session.results()[strategy].elapsed(0) for strategy in ranked]
        assert elapsed == sorted(elapsed)  # best first
        assert ranked.index("aiohttp") < ranked.index("sync")
        assert "×" in board[0]  # the ratio to the measured baseline


async def test_c_shows_the_code_that_runs(server):
    app = dashboard_app(config_for(server, tasks=2), [BY_ID["executor"]])
    async with app.run_test(size=(160, 40)) as pilot:
        await pilot.press("c")
        panel = app.screen.query_one(CodePanel)
        assert panel.display and panel.parent.display
        assert app.screen.query_one("#rows").display  # beside the rows where there is room
        assert "run_in_executor" in panel.content.code
        await pilot.press("5")
        assert "httpx.AsyncClient" in panel.content.code
        await pilot.press("c")
        assert not panel.parent.display


async def test_code_panel_takes_the_rows_place_at_80_columns(server):
    app = dashboard_app(config_for(server, tasks=2), [BY_ID["sync"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        code = app.screen.query_one("#code")
        assert code.display and not app.screen.query_one("#rows").display
        # In their place, the keys scroll the code (at 80×24 a few of its lines show).
        assert code.max_scroll_y > 0
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: code.scroll_y > 0)
        await pilot.press("c")
        assert app.screen.query_one("#rows").display
        assert app.screen.focused is app.screen.table  # ↑↓ move the rows' cursor again


async def test_the_run_panel_counts_requests_in_flight(server):
    config = config_for(server, tasks=8, url=server.url(400), workers=3)
    app = dashboard_app(config, [BY_ID["executor"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "3 in flight" in app.screen.query_one(Summary).plain)
        await wait_until(pilot, run_done(app, "executor"))
        assert "in flight" not in app.screen.query_one(Summary).plain


async def test_a_frame_repaints_only_the_rows_that_changed(server):
    config = config_for(server, tasks=6, url=server.url(2000))
    app = dashboard_app(config, [BY_ID["sync"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(
            pilot, lambda: app.session.current is not None and app.session.current.started_count
        )
        await pilot.pause(0.1)
        table = app.screen.query_one(TaskTable)
        repainted: list[object] = []
        table.refresh = lambda *regions, **kw: repainted.append(regions)  # type: ignore[method-assign]
        table.refresh_rows()
        table.refresh_rows()
        assert repainted == []  # the same clock, no event: nothing to repaint
        app.screen.frame_time += 0.25  # the clock ticks: only the row in flight moves
        table.refresh_rows()
        assert len(repainted) == 1


async def test_rows_take_a_new_themes_colours_at_once(server):
    app = dashboard_app(config_for(server, tasks=3), [BY_ID["sync"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        table = app.screen.query_one(TaskTable)

        def colours() -> set[object]:
            line = table.render_lines(Region(0, 0, table.size.width, 1))[0]
            return {segment.style.color for segment in line if segment.style}

        dark = colours()
        app.theme = "textual-light"
        await pilot.pause(0.1)
        light = colours()
        assert light != dark
        app.theme = "textual-dark"
        await pilot.pause(0.1)
        assert colours() == dark


async def test_the_board_and_the_screen_draw_anew_for_a_theme_and_a_selection(server):
    app = dashboard_app(config_for(server, tasks=3), [BY_ID["sync"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await pilot.pause(0.1)
        board, screen = app.screen.query_one(StrategyBoard), app.screen

        def lines(widget) -> list[str]:
            size = widget.outer_size
            return [
                "".join(f"{segment.text}{segment.style}" for segment in strip)
                for strip in widget.render_lines(Region(0, 0, size.width, size.height))
            ]

        board_before, screen_before = lines(board), lines(screen)
        assert lines(board) == board_before  # nothing changed: the same lines
        app.theme = "textual-light"
        await pilot.pause(0.1)
        assert lines(board) != board_before and lines(screen) != screen_before
        light = lines(board)
        await pilot.press("4")  # another strategy is selected: the board says so
        await pilot.pause(0.1)
        assert lines(board) != light
        assert "executor" in "".join(
            strip.text for strip in board.render_lines(Region(0, 0, 60, 9))
        )


async def test_the_board_fits_its_new_width_after_a_resize(server):
    app = dashboard_app(config_for(server, tasks=20), [BY_ID["aiohttp"]])
    async with app.run_test(size=(150, 40)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        await pilot.pause(0.1)
        await pilot.resize_terminal(90, 30)  # no run goes: only the resize can redraw it
        await pilot.pause(0.3)
        board = app.screen.query_one(StrategyBoard)
        size = board.outer_size
        text = "\n".join(
            strip.text for strip in board.render_lines(Region(0, 0, size.width, size.height))
        )
        assert "aiohttp" in text and "threads" in text  # no line wrapped past the last


def named_on_screen(app: FetchvizApp) -> dict[str, str]:
    """The strategy each part of the screen names: the board's highlight, the description,
    the run panel, and the code panel where it is open (hidden, it is brought up to date when
    it opens)."""
    board = app.screen.query_one(StrategyBoard)
    highlighted = [
        line.split()[1]
        for line in str(board.render()).splitlines()[: len(STRATEGIES)]
        if line.split() and line.split()[1] in BY_ID
    ]
    names = {
        "selected": app.session.selected.id,
        "description": str(app.screen.description.render()).split(" · ")[0].strip(),
        "run panel": app.screen.query_one(Summary).plain.split()[0],
        "board": app.session.selected.id if app.session.selected.id in highlighted else "?",
    }
    code = app.screen.query_one("#code")
    if code.display:
        names["code panel"] = str(code.border_title).rsplit(": ", 1)[-1]
    return names


async def test_every_part_of_the_screen_names_the_same_strategy_during_and_after_compare_all(
    server,
):
    app = dashboard_app(config_for(server, tasks=3), [BY_ID["httpx"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, run_done(app, "httpx"))
        await pilot.press("a")
        seen = set()
        last = STRATEGIES[-1].id
        while len(app.session.results()) < len(STRATEGIES) or not run_done(app, last)():
            await pilot.pause(0.02)
            if (
                app.session.current is not None and app.session.current.strategy != "httpx"
            ) or seen:
                names = named_on_screen(app)
                assert len(set(names.values())) == 1, names
                seen.add(names["selected"])
        assert len(seen) >= 3  # it was looked at while several strategies ran
        await pilot.press("c")
        assert "code panel" in named_on_screen(app)
        assert set(named_on_screen(app).values()) == {last}
        assert BY_ID[last].source() == app.screen.query_one(CodePanel).content.code


async def test_compare_all_keeps_the_settings_it_started_with(server):
    app = dashboard_app(config_for(server, tasks=4), [BY_ID["sync"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await pilot.press("a")
        # Under way, whichever run it is on (they are short: one may be over before it is seen)
        await wait_until(pilot, lambda: bool(app.session.pending))
        await pilot.press("plus")  # for the next run, not for this compare-all
        assert app.session.config.tasks == 5
        # A bound, not a wait: every strategy's run, each a process of its own (a busy core
        # beside the suite took it past 30 s).
        every = len(STRATEGIES)
        await wait_until(pilot, lambda: len(app.session.results()) == every, timeout=120)
        assert {len(run.tasks) for run in app.session.results().values()} == {4}


async def test_thread_names_are_shown_whole_so_no_two_threads_read_alike(server):
    config = config_for(server, tasks=24, workers=12)
    app = dashboard_app(config, [BY_ID["executor"]])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, run_done(app, "executor"))
        table = app.screen.query_one(TaskTable)
        threads = {row.thread for row in app.session.current.tasks}
        assert "asyncio_10" in threads and "asyncio_1" in threads
        shown = [row_text(table, y) for y in range(24)]
        for row in app.session.current.tasks:
            assert f" {row.thread} " in shown[row.index], shown[row.index]


async def test_plus_raises_n_up_to_the_most_and_never_lowers_it(server):
    app = dashboard_app(config_for(server, tasks=2), [BY_ID["aiohttp"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        app.session.config = app.session.config.with_tasks(10_000)
        await pilot.press("plus")
        assert app.session.config.tasks == 20_000
        await pilot.press("plus", "plus", "plus")
        assert app.session.config.tasks == 100_000  # the most the command line accepts, and stays


async def test_what_plus_changed_is_said_on_one_line_not_in_toasts(server):
    app = dashboard_app(config_for(server, tasks=2), [BY_ID["aiohttp"]])
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        await pilot.press("plus")
        description = str(app.screen.description.render())
        assert description.startswith("next run: N = 5, r runs it · aiohttp")
        app.session.config = app.session.config.with_tasks(50_000)
        for _ in range(14):
            await pilot.press("plus")
        await pilot.pause(0.1)
        assert not app.screen.query("Toast")  # nothing piles up over the board
        assert "next run: N = 100,000 (the most)" in str(app.screen.description.render())
        app.session.config = app.session.config.with_tasks(2)  # as the run on screen had
        await pilot.press("minus", "minus", "minus")  # 2 → 1, then nothing lower: it says so
        assert app.session.config.tasks == 1
        assert "next run: N = 1 (the least)" in str(app.screen.description.render())


async def test_the_code_panel_follows_the_size_the_screen_has_now(server):
    app = dashboard_app(config_for(server, tasks=2), [BY_ID["sync"]])
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.press("c")
        rows, code = app.screen.query_one("#rows"), app.screen.query_one("#code")
        assert rows.display and code.display  # side by side
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.1)
        assert not rows.display and code.display  # no room: the code takes the rows' place
        await pilot.resize_terminal(200, 40)
        await pilot.pause(0.1)
        assert rows.display and code.display  # room again: side by side at once
        assert not app.screen.query_one(
            CodePanel
        ).content.word_wrap  # long lines scroll, never wrap


async def test_escape_during_compare_all_leaves_no_ranking_behind(server):
    app = dashboard_app(config_for(server, tasks=3, url=server.url(300)), [BY_ID["aiohttp"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        await pilot.press("a")
        board = app.screen.query_one(StrategyBoard)
        await wait_until(pilot, lambda: board.border_title == "compare all · best first")
        assert "aiohttp" not in app.session.results()  # the run before it is not part of it
        await pilot.press("escape")
        await wait_until(pilot, lambda: board.border_title == "strategies")


async def test_a_click_on_a_row_and_f_show_every_reason_whole(server):
    url = "http://127.0.0.1:9/a/long/path/so/that/nothing/answers/at/all/"
    app = dashboard_app(Config(tasks=3, url=url, delay_ms=None, timeout=2), [BY_ID["httpx"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "httpx"))
        await pilot.click(TaskTable, offset=(10, 1))
        await pilot.pause(0.1)
        assert isinstance(app.screen, Details)
        assert "task 1 of httpx" in app.screen.text and "connection refused" in app.screen.text
        await pilot.press("escape")
        assert not isinstance(app.screen, Details)
        await pilot.press("f")
        await pilot.pause(0.1)
        assert isinstance(app.screen, Details) and "3 × connection refused" in app.screen.text
        await pilot.press("escape")
        assert (
            app.session.current.done and not app.session.current.cancelled
        )  # escape closed only the window


async def test_the_keyboard_reaches_a_rows_details(server):
    """↓ moves a cursor over the rows, enter shows the row under it: no mouse needed."""
    url = "http://127.0.0.1:9/nothing/answers/"
    app = dashboard_app(Config(tasks=3, url=url, delay_ms=None, timeout=2), [BY_ID["httpx"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "httpx"))
        table = app.screen.query_one(TaskTable)
        assert table.cursor is None  # not shown until moved
        await pilot.press("enter")  # never moved: the top row
        await wait_until(pilot, lambda: isinstance(app.screen, Details))
        assert "task 0 of httpx" in app.screen.text
        await pilot.press("q")  # closes the window: over one, q did nothing (it looked hung)
        await wait_until(pilot, lambda: not isinstance(app.screen, Details))
        assert app.is_running and app.return_code is None
        await pilot.press("down", "down", "down", "down")  # past the last row: it stays there
        assert table.cursor == 2
        await pilot.press("up", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, Details))
        assert "task 1 of httpx" in app.screen.text and "connection refused" in app.screen.text


async def test_a_rows_details_say_its_phases_and_they_add_up_to_its_time(server):
    """keys.md: enter shows "its phases"; the window showed none."""
    app = dashboard_app(config_for(server, tasks=2, url=server.url(50)), [BY_ID["aiohttp"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, Details))
        text = app.screen.text
        shown = dict(
            re.findall(r"^(?:phases)?\s*(wait|connect|tls|first byte|receive)\s+(\S+)", text, re.M)
        )
        assert list(shown) == ["wait", "connect", "tls", "first byte", "receive"], text
        took = float(re.search(r"^took\s+([\d.]+) s", text, re.M)[1])
        assert shown["tls"] == "0.0000"  # plain HTTP: no handshake
        assert abs(sum(float(v) for v in shown.values()) - took) < 0.001, text
        assert float(shown["first byte"]) >= 0.04  # the server's 50 ms
        assert "reused   no: it opened a connection" in text


async def test_the_cursor_is_drawn_where_it_is_once_the_rows_scroll(server):
    """The lines to draw again were taken as the screen's, less the scroll a second time:
    past the first screenful the old highlight stayed and the new one was not drawn."""
    app = dashboard_app(config_for(server, tasks=30), [BY_ID["aiohttp"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        table = app.screen.query_one(TaskTable)
        await pilot.press(*["down"] * 20)
        await pilot.pause()
        assert table.cursor == 19 and table.scroll_offset.y > 0
        redrawn: list[int] = []
        redraw = table.refresh

        def spy(*regions, **kwargs):
            redrawn.extend(region.y for region in regions)
            return redraw(*regions, **kwargs)

        table.refresh = spy
        await pilot.press("up")
        top = table.scroll_offset.y
        assert table.cursor == 18 and {19 - top, 18 - top} <= set(redrawn), (top, redrawn)


async def test_a_killed_runs_process_says_why_on_screen(server):
    config = config_for(server, tasks=20, url=server.url(300))
    app = dashboard_app(config, [BY_ID["sync"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: app.session.current is not None and app.session.current.started_count
        )
        os.kill(app.session.handle.worker.pid, signal.SIGKILL)
        await wait_until(pilot, lambda: app.session.current.done)
        await pilot.pause(0.05)
        summary = app.screen.query_one(Summary).plain
        assert "run failed" in summary
        assert "killed by SIGKILL" in summary.replace("\n", " ")  # whole, if on two lines


async def test_the_keys_window_lists_the_modes_keys_and_no_key_below_acts(server):
    app = dashboard_app(config_for(server, tasks=2), [BY_ID["aiohttp"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        runs = len(app.session.history)
        await pilot.press("question_mark")
        assert isinstance(app.screen, KeysPanel)
        rows = dict(app.screen.rows)  # from the table of actions, for this mode
        assert rows["a"].startswith("run every strategy in turn") and "esc" in rows
        assert "n" not in rows  # a replay's key, not the dashboard's
        await pilot.press("a", "r", "6", "plus")  # the dashboard's keys: none acts under it
        await pilot.pause(0.1)
        assert len(app.session.history) == runs and app.session.config.tasks == 2
        await pilot.press("escape")  # closes the window, cancels nothing
        assert not isinstance(app.screen, KeysPanel)
        assert app.session.current.done and not app.session.current.cancelled


@pytest.mark.parametrize(("size", "more"), [((80, 24), True), ((160, 50), False)])
async def test_the_keys_window_says_when_there_are_more_below(server, size, more):
    app = dashboard_app(config_for(server, tasks=2), [BY_ID["aiohttp"]])
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        frame = app.screen.query_one(VerticalScroll)
        assert frame.border_subtitle.startswith("↑↓ more · ") is more, frame.border_subtitle
        assert frame.border_subtitle.endswith("escape closes · ctrl+p every action")
        if more:  # scrolled to its end: nothing more below, and it stops saying so
            frame.scroll_end(animate=False)
            await wait_until(pilot, lambda: not frame.border_subtitle.startswith("↑↓"))
            assert frame.border_subtitle == "escape closes · ctrl+p every action"


async def test_a_window_with_nothing_beside_its_more_has_no_stray_separator(server):
    """`↑↓ more · ` with nothing after it, in the `t` window of a long run."""
    from fetchviz.ui.dialogs.window import Window

    app = dashboard_app(config_for(server, tasks=2), [BY_ID["aiohttp"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"))
        await app.push_screen(Window("long", "\n".join(f"line {i}" for i in range(100))))
        await pilot.pause(0.1)
        assert app.screen.query_one(VerticalScroll).border_subtitle == "↑↓ more"


async def test_the_duration_histogram_fits_its_line_at_10000_tasks(server):
    app = dashboard_app(config_for(server, tasks=10_000, url=server.url(0)), [BY_ID["aiohttp"]])
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, run_done(app, "aiohttp"), timeout=60)
        summary = app.screen.query_one(Summary)
        line = next(line for line in summary.plain.splitlines() if line.startswith("durations"))
        assert len(line) <= summary.content_size.width and not line.endswith("…")


def test_a_row_left_unfinished_by_a_run_that_is_over_says_so():
    from fetchviz.core.model import TaskRow

    row = TaskRow(0)
    assert row.shown_state(False) == "Queued" and row.shown_state(True) == "Not run"
    row.started = 1.0
    assert row.shown_state(False) == "Started" and row.shown_state(True) == "Cut off"
    row.finished = 2.0
    assert row.shown_state(True) == "Finished"


def test_a_run_cut_short_in_a_block_keeps_the_block_as_its_worst_lag():
    """Shown live as LOOP BLOCKED 2.6 s; once cancelled it said `worst 613 ms`, the beats'."""
    from fetchviz.core.events import BEAT_INTERVAL, LoopBeat, RunFinished, RunStarted
    from fetchviz.core.model import RunState

    run = RunState.new(1, "httpx", 2, has_loop=True)
    run.apply(RunStarted(1, "httpx", 2, 100.0))
    run.apply(LoopBeat(1, 100.01, 0.6, 0.0))
    run.apply(RunFinished(1, 102.61, cancelled=True))  # 2.6 s after its last beat
    assert run.loop_lag_max == pytest.approx(2.6 - BEAT_INTERVAL)


def test_the_run_panels_first_line_keeps_its_counts_in_its_width():
    """At 80×24 the panel is 36 wide: `executor cancelled  24/100 ok 18 ca…` lost the count."""
    from fetchviz.core.model import RunState
    from fetchviz.ui.widgets.summary import headline

    run = RunState.new(1, "executor", 100)
    run.ok, run.failed, run.cancelled_tasks = 18, 0, 6
    for row in run.tasks[:24]:
        row.finished = 1.0
    assert headline(run, "done", "", 60).plain == "executor done  24/100 ok 18 cancelled 6"
    assert headline(run, "cancelled", "", 40).plain == "executor cancelled ok 18 cancelled 6"
    assert headline(run, "cancelled", "", 35).plain == "executor cancelled ✓18 ⊘6"


def test_the_failures_window_names_rows_as_ranges():
    """800 rows were `rows 169, 170, 171, 172, 173, 174, 175, 176 …`: now whole, as ranges."""
    from fetchviz.ui.dialogs.details import row_ranges

    assert row_ranges([169, 170, *range(172, 1000)]) == "rows 169, 170, 172–999"
    assert row_ranges([1, 3, 5, 7, 9, 11, 13, 15, 17]) == "rows 1, 3, 5, 7, 9, 11 and 3 more"
    assert row_ranges([4]) == "row 4"  # "rows 4" for one


async def test_the_run_panels_settings_fit_its_frame(server):
    """At 80×24 `N 4 · 40 ms · limit 3 · timeout…`: what matters least goes whole."""
    config = replace(config_for(server, tasks=4), limit=3)
    for size, shown in (
        ((80, 24), f"N 4 · {server.delay_ms} ms · limit 3"),
        ((160, 50), f"N 4 · {server.delay_ms} ms · limit 3 · timeout 10 s"),
    ):
        app = dashboard_app(config, [BY_ID["aiohttp"]])
        async with app.run_test(size=size) as pilot:
            await wait_until(pilot, run_done(app, "aiohttp"))
            await pilot.pause()
            assert app.screen.query_one(Summary).border_subtitle == shown


async def test_another_strategys_code_opens_at_its_top_left(server):
    """At 80 columns the code takes the rows' place and scrolls: the next strategy's opened
    where the last one's was left (gather-blocking's on its helper, its first column gone)."""
    app = dashboard_app(config_for(server, tasks=2))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await pilot.press("c")
        frame = app.screen.code_frame
        await wait_until(pilot, lambda: app.focused is frame)
        await pilot.press("pagedown", "right", "right", "right")
        await wait_until(pilot, lambda: frame.scroll_x > 0 and frame.scroll_y > 0)
        await pilot.press("3")
        await wait_until(pilot, lambda: "gather-blocking" in str(frame.border_title))
        await pilot.pause(0.1)
        assert (frame.scroll_x, frame.scroll_y) == (0, 0)


async def test_a_short_run_panel_keeps_the_verdict_whole_and_lets_the_cpu_line_go():
    """The tour at 80×24 has six lines for the run: "1 of 10 ok, 8 cut short: not" and no
    more, the verdict's end below the CPU time."""
    from textual.app import App, ComposeResult

    from fetchviz.core.events import RunFinished, RunStarted, TaskFailed, TaskFinished

    class Short(App[None]):
        CSS = "Summary { height: 6; width: 38; }"

        def compose(self) -> ComposeResult:
            yield Summary()

    run = RunState.new(1, "taskgroup", 2, has_loop=True)
    run.apply(RunStarted(1, "taskgroup", 2, 0.0))
    run.apply(TaskFinished(1, 0, 0.1, 200, 11))
    run.apply(TaskFailed(1, 1, 0.1, "HTTP 500", 500))
    run.apply(RunFinished(1, 0.1, loop_lag_max=0.001, cpu=0.05))
    verdict = "1 of 10 ok, 8 cut short: not comparable · f: why"
    app = Short()
    async with app.run_test(size=(40, 8)) as pilot:
        summary = app.query_one(Summary)
        await pilot.pause()
        summary.show(run, 0.1, None, verdict, (0.0, 0.001))
        await pilot.pause()
        shown = summary.plain
        assert "comparable · f: why" in shown.splitlines()[5], shown
        assert "cpu" not in shown
        summary.styles.height = 12  # room for all: the CPU time stays
        await pilot.pause()
        summary.show(run, 0.1, None, verdict, (0.0, 0.001))
        assert "cpu" in summary.plain


async def test_before_sync_has_run_the_boards_bars_are_on_the_baselines_scale(server):
    """A 0.5 s aiohttp run drew a full bar beside "~9.9×", the bar sync's own run got later:
    the picture said slow where the ratio said ten times faster."""
    app = dashboard_app(config_for(server, tasks=10), [BY_ID["aiohttp"]])
    async with app.run_test(size=(100, 30)) as pilot:
        session = app.session
        await wait_until(
            pilot, lambda: run_done(app, "aiohttp")() and session.baseline() is not None
        )
        await pilot.pause(0.1)
        baseline, run = session.baseline(), session.results()["aiohttp"]
        assert baseline is not None and not baseline.measured
        assert baseline.elapsed > 3 * run.elapsed(0)  # ten requests one at a time, estimated
        board = str(app.screen.query_one(StrategyBoard).render()).splitlines()
        line = next(line for line in board if " aiohttp " in line)
        assert "~" in line  # against the estimate
        bar = line.count("█") + sum(line.count(c) for c in "▏▎▍▌▋▊▉")
        assert 0 < bar <= 10, line  # a bar's room is ~50 cells here: at most a fifth of it


async def test_a_sync_run_that_measured_nothing_is_not_said_to_be_what_measures_it(server):
    """Against a refused URL, b's sync run failed every request and the panel still said
    "sync — b measures it"; and while b's run went, "estimate · b" beside it."""
    refused = Config(tasks=3, url="http://127.0.0.1:9/", timeout=2)
    app = dashboard_app(refused, [BY_ID["sync"]])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await pilot.pause(0.1)
        summary = app.screen.query_one(Summary).plain
        assert app.session.baseline() is None
        sync_line = next(line for line in summary.splitlines() if line.startswith("sync  "))
        assert "not this run · b" in sync_line and "measures it" not in sync_line, summary
