"""The tour in the dashboard: a step a key, ← shows what was recorded, escape leaves."""

from __future__ import annotations

from textual.command import CommandList
from textual.pilot import Pilot

from conftest import config_for
from fetchviz.core.catalog import TUTORIAL
from fetchviz.ui.app import FetchvizApp
from fetchviz.ui.dialogs.details import Details
from fetchviz.ui.launch import dashboard_app
from fetchviz.ui.widgets.code import CodePanel
from scenes import tour, tour_to
from test_app import run_done, wait_until


def shown(app: FetchvizApp) -> str:
    return str(app.screen.description.render())


async def to_the_compared_end(pilot: Pilot[int]) -> None:
    """The recorded tour to its last step, its compare-all run and ended."""
    await tour_to(pilot, "threads")
    await pilot.press("space")
    session = pilot.app.session
    await wait_until(
        pilot,
        lambda: (
            len(session.results()) == len(TUTORIAL)
            and not session.pending
            and session.current.closed
        ),
    )


async def test_the_tour_goes_a_step_a_key_back_to_what_was_recorded_and_leaves(server):
    app = dashboard_app(config_for(server, tasks=4, url=server.url(60)), tour=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await wait_until(pilot, lambda: "4 requests" in shown(app))
        assert shown(app).startswith("step 1/9 · sync — the staircase")
        sync = app.session.current
        await pilot.press("space")
        await wait_until(pilot, run_done(app, "async-sequential"))
        await wait_until(pilot, lambda: "heartbeat" in shown(app))
        await pilot.press("c")  # at 80 columns the code takes the rows' place
        await wait_until(pilot, lambda: "▌" in str(app.screen.query_one(CodePanel).render()))
        await pilot.press("c", "left")
        assert app.session.current is sync and "step 1/9" in shown(app)  # recorded, not run again
        await pilot.press("right")
        assert app.session.current.strategy == "async-sequential" and app.session.current.done
        before = app.session.current
        await pilot.press("r")  # this step again: a new run, recorded in its place
        await wait_until(
            pilot, lambda: app.session.current is not before and app.session.current.done
        )
        assert app.session.tour.run is app.session.current
        # One escape asks (in a talk it is the reflex for "stop this run", and it left the
        # tour for good); a step's key takes it back; a second escape leaves.
        await pilot.press("escape")
        assert app.session.tour is not None
        assert shown(app).startswith("escape again leaves the tour for the dashboard")
        await pilot.press("left")
        assert shown(app).startswith("step 1/9")
        await pilot.press("right", "escape")
        assert app.session.tour is not None
        await pilot.press("escape")
        assert app.session.tour is None and "step" not in shown(app)
        await pilot.press("1")  # the dashboard's keys again
        await wait_until(pilot, run_done(app, "sync"))


async def test_the_palettes_leave_the_tour_leaves_at_once(server):
    """escape asks before it leaves; the palette's "Leave the tour" is chosen on purpose, and
    asked again (it only put the question on the step's line)."""
    app = dashboard_app(config_for(server, tasks=4, url=server.url(60)), tour=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await pilot.press("ctrl+p")
        await pilot.press(*"Leave the tour")
        commands = app.screen.query_one(CommandList)
        await wait_until(
            pilot,
            lambda: (
                commands.option_count > 0
                and "Leave the tour" in str(commands.get_option_at_index(0).prompt)
            ),
        )
        await pilot.press("down", "enter")  # the first hit, highlighted, then chosen
        await wait_until(pilot, lambda: app.session.tour is None)
        assert "step" not in shown(app)


async def test_a_window_over_the_tour_takes_every_key_but_quitting(server):
    """The bug that started the house of screens: space under the failure window moved the
    tour on behind it, and escape then left the tour with the window still up."""
    # Nothing listens on port 9 here: every task fails at once, "connection refused".
    config = config_for(server, tasks=3, url="http://127.0.0.1:9/", delay_ms=None)
    app = dashboard_app(config, tour=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(
            pilot, lambda: app.session.current is not None and app.session.current.closed
        )
        await pilot.press("f")
        assert isinstance(app.screen, Details)
        assert app.session.tour.index == 0
        await pilot.press("right", "left")  # the tour's keys do nothing under the window
        assert isinstance(app.screen, Details) and app.session.tour.index == 0
        await pilot.press("space")  # the window's own key: it closes, the tour stays
        assert not isinstance(app.screen, Details)
        assert app.session.tour.index == 0 and len(app.session.history) == 1
        await pilot.press("f", "escape")  # escape closes the window first
        assert not isinstance(app.screen, Details) and app.session.tour is not None


async def test_at_80_by_24_the_tour_shows_every_row_of_its_run_and_the_board_a_part():
    """The executor's second wave was off screen at 80×24 (the whole board took 13 lines):
    the tour shortens the board to the lines around its step's strategy, and says which."""
    app = tour("compare-all")
    async with app.run_test(size=(80, 24)) as pilot:
        await tour_to(pilot, "executor")
        screen = app.screen
        run = app.session.current
        assert len(run.tasks) == 10
        assert screen.table.scrollable_content_region.height >= len(run.tasks)
        board = str(screen.board.render())
        assert "executor" in board and "curl-cffi" not in board
        assert screen.board.border_title.startswith("strategies · ")
        # Of the tour's strategies: the newer clients it never runs are not on its board.
        assert screen.board.border_title.endswith(f" of {len(TUTORIAL)}")
        await pilot.press("escape", "escape")  # the dashboard: its board is its menu, whole
        await wait_until(pilot, lambda: app.screen.board.border_title == "strategies")
        board = str(app.screen.board.render())
        assert "sync" in board and "curl-cffi" in board


async def test_the_last_steps_ranking_is_whole_at_80_by_24_and_a_step_back_shows_its_own():
    """At 80×24 the ranking read "best first · 1–6 of 11": the slowest two, which the caption
    names, were below its fold, and three clients the tour never runs were counted. Back a
    step, the board showed the compare-all's figures beside the step's own run."""
    app = tour("compare-all")
    async with app.run_test(size=(80, 24)) as pilot:
        await to_the_compared_end(pilot)
        session, screen = app.session, app.screen
        await pilot.pause(0.1)
        assert screen.board.border_title == "compare all · best first"
        board = str(screen.board.render())
        assert all(strategy.id in board for strategy in TUTORIAL) and "curl-cffi" not in board
        compared = session.results()
        await pilot.press("left")
        await wait_until(pilot, lambda: shown(app).startswith("step 8/9 · "))
        tour_runs = session.results()
        assert tour_runs.keys() == compared.keys()
        for strategy, run in tour_runs.items():
            assert run is session.tour.recorded(strategy) and run is not compared[strategy]


async def test_past_the_last_step_the_step_line_says_so_and_nothing_follows_onto_the_dashboard():
    """A toast said it, and stayed up to 4 s on the dashboard after escape ("escape leaves
    the tour", where escape cancels a run)."""
    app = tour("compare-all")
    async with app.run_test(size=(80, 24)) as pilot:
        await tour_to(pilot, "threads")
        await pilot.press("space", "right")  # to compare all, the last step, and past it
        await pilot.pause(0.1)
        assert shown(app).startswith(
            "step 9/9 is the last: ← goes back, escape twice leaves the tour"
        )
        assert not app._notifications
        await pilot.press("left")
        await pilot.pause(0.1)
        assert shown(app).startswith("step 8/9 · ")
        await pilot.press("escape", "escape")
        await pilot.pause(0.1)
        assert "last" not in shown(app) and not app._notifications


async def test_on_a_short_screen_each_steps_code_opens_on_what_is_new_in_it():
    """A few lines of a strategy's 10-30 show on a short screen (80×20: five), and the code
    opened on its set-up: taskgroup's TaskGroup, new in its step, below the fold."""
    app = tour("compare-all")
    async with app.run_test(size=(80, 20)) as pilot:
        for strategy in ("gather-blocking", "executor", "httpx", "aiohttp", "taskgroup"):
            await tour_to(pilot, strategy)
            await pilot.press("c")
            frame = app.screen.code_frame
            await wait_until(pilot, lambda f=frame: f.display and f.size.height > 0)
            await pilot.pause(0.1)
            changed = app.session.tour.step.changed()
            first = min(line for line in changed if line > 0)  # the def's line: its name
            top, height = frame.scroll_y, frame.size.height
            assert top <= first < top + height, (strategy, first, top, height)
            await pilot.press("c")


async def test_at_80_by_24_the_blocked_steps_panel_keeps_its_loop_blocked_line(server):
    """At 80×24 the gather-blocking step's run panel ended at its verdict: "LOOP BLOCKED",
    the step's lesson, was below the panel's fold. Its progress bar goes first."""
    from fetchviz.ui.widgets.summary import Summary

    app = dashboard_app(config_for(server, tasks=10, url=server.url(40)), tour=True)
    async with app.run_test(size=(80, 24)) as pilot:
        for strategy in ("sync", "async-sequential"):
            await wait_until(pilot, run_done(app, strategy))
            await pilot.press("space")
        await wait_until(pilot, run_done(app, "gather-blocking"))
        await pilot.pause(0.2)
        summary = app.screen.query_one(Summary)
        visible = summary.plain.splitlines()[: summary.content_size.height]
        assert any("LOOP BLOCKED" in line for line in visible), visible
        assert visible[0].startswith("gather-blocking done")


async def test_the_tour_left_from_an_earlier_step_shows_one_figure_for_its_strategy():
    """Left at step 8 after the compare-all, the dashboard showed step 8's run in its panel
    and rows, and the compare-all's later run of the same strategy on its board."""
    app = tour("compare-all")
    async with app.run_test(size=(120, 40)) as pilot:
        await to_the_compared_end(pilot)
        session = app.session
        await pilot.press("left")
        await wait_until(pilot, lambda: shown(app).startswith("step 8/9 · "))
        step_run = session.current
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: session.tour is None)
        await pilot.pause(0.1)
        assert session.current is step_run
        assert session.results()["threads"] is step_run
        board = str(app.screen.board.render())
        line = next(line for line in board.splitlines() if " threads " in line)
        assert f"{step_run.elapsed(0):6.2f}s" in line, line
