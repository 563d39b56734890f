"""The tour in the dashboard: a step a key, ← shows what was recorded, escape leaves."""

from __future__ import annotations

from conftest import config_for
from fetchviz.ui.app import FetchvizApp
from fetchviz.ui.widgets.dashboard import CodePanel
from test_app import run_done, wait_until


def shown(app: FetchvizApp) -> str:
    return str(app.description.render())


async def test_the_tour_goes_a_step_a_key_back_to_what_was_recorded_and_leaves(server):
    app = FetchvizApp(config_for(server, tasks=4, url=server.url(60)), tour=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await wait_until(pilot, lambda: "4 requests" in shown(app))
        assert shown(app).startswith("step 1/9 · sync — the staircase")
        sync = app.current
        await pilot.press("space")
        await wait_until(pilot, run_done(app, "async-sequential"))
        await wait_until(pilot, lambda: "heartbeat" in shown(app))
        await pilot.press("c")  # at 80 columns the code takes the rows' place
        await wait_until(pilot, lambda: "▌" in str(app.query_one(CodePanel).render()))
        await pilot.press("c", "left")
        assert app.current is sync and "step 1/9" in shown(app)  # recorded, not run again
        await pilot.press("right")
        assert app.current.strategy == "async-sequential" and app.current.done
        before = app.current
        await pilot.press("r")  # this step again: a new run, recorded in its place
        await wait_until(pilot, lambda: app.current is not before and app.current.done)
        assert app.tour.run is app.current
        await pilot.press("escape")
        assert app.tour is None and "step" not in shown(app)
        await pilot.press("1")  # the dashboard's keys again
        await wait_until(pilot, run_done(app, "sync"))
