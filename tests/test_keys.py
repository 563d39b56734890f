"""One table of actions: the Keys tables of docs/keys.md, the screens' bindings and a user's keymap
all agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import config_for
from fetchviz.core.actions import (
    ACTIONS,
    BY_ACTION,
    DASHBOARD,
    EVERY_MODE,
    REPLAY,
    SWEEP,
    TOUR,
    TRACE,
    KeymapError,
    normal_keys,
    of_mode,
    remapped,
)
from fetchviz.core.catalog import BY_ID
from fetchviz.records.recording import read_recording
from fetchviz.records.replay import ReplaySource
from fetchviz.ui.launch import dashboard_app, replay_app
from fetchviz.ui.screens.dashboard import DashboardScreen
from fetchviz.ui.screens.replay import ReplayScreen
from fetchviz.ui.screens.sweep import SweepScreen
from fetchviz.ui.screens.tour import TourScreen
from fetchviz.ui.screens.trace import TraceScreen
from fetchviz.ui.widgets.board import StrategyBoard
from scenes import RECORDINGS
from test_app import run_done, wait_until

KEYS_PAGE = Path(__file__).resolve().parent.parent / "docs" / "keys.md"
ARROWS = {"→": "right", "←": "left"}  # how the page writes them
SECTIONS = {  # the page's heading for each mode's table
    DASHBOARD: "### The dashboard",
    TOUR: "### The tour",
    REPLAY: "### A replay",
    SWEEP: "### The sweep's screen",
    TRACE: "### A traced program",
    "every": "### Everywhere",
}


def page_rows(heading: str) -> list[tuple[list[str], list[str]]]:
    """The (keys, action ids) of each row of the table under a heading."""
    text = KEYS_PAGE.read_text(encoding="utf-8")
    section = text[text.index(heading) :].split("\n### ", 1)[0].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append((re.findall(r"`([^`]+)`", cells[0]), re.findall(r"`([^`]+)`", cells[1])))
    return rows


def page_ids(heading: str) -> set[str]:
    ids: set[str] = set()
    for _, named in page_rows(heading):
        if "…" in " ".join(named) or (len(named) == 2 and named[0].startswith("pick.")):
            first, last = (ACTIONS.index(BY_ACTION[n]) for n in (named[0], named[-1]))
            ids |= {action.id for action in ACTIONS[first : last + 1]}
        ids |= set(named)
    return ids


@pytest.mark.parametrize("mode", [DASHBOARD, TOUR, REPLAY, SWEEP, TRACE])
def test_the_keys_page_lists_every_key_of_each_mode_as_the_table_has_it(mode):
    own = {a.id for a in of_mode(mode) if a.modes != EVERY_MODE}
    assert page_ids(SECTIONS[mode]) == own
    assert page_ids(SECTIONS["every"]) == {a.id for a in ACTIONS if a.modes == EVERY_MODE}
    for keys, named in page_rows(SECTIONS[mode]):
        if len(named) == 1:  # one action: its keys as the table has them
            written = [ARROWS.get(key) or normal_keys(key) for key in keys]
            assert written == list(BY_ACTION[named[0]].key_list), named


@pytest.mark.parametrize(
    "screen, mode",
    [
        (DashboardScreen, DASHBOARD),
        (TourScreen, TOUR),
        (ReplayScreen, REPLAY),
        (SweepScreen, SWEEP),
        (TraceScreen, TRACE),
    ],
)
def test_each_screen_binds_its_modes_actions_and_no_other(screen, mode):
    ids = {binding.id for binding in screen.BINDINGS if getattr(binding, "id", None)}
    assert ids == {a.id for a in of_mode(mode) if a.modes != EVERY_MODE}


def test_a_keymap_that_cannot_apply_says_what_is_wrong():
    with pytest.raises(KeymapError, match=r"unknown action 'tour\.nxt'"):
        remapped({"tour.nxt": "pagedown"})
    with pytest.raises(KeymapError, match="'pgdn' is not a key name"):
        remapped({"tour.next": "pgdn"})
    with pytest.raises(KeymapError, match="'c' is given to both 'rerun' and 'code'"):
        remapped({"rerun": "c"})
    # Two modes may share a key: the tour's next and a replay's pause are both space.
    moved = {a.id: a.keys for a in remapped({"tour.next": "pagedown", "replay.pause": "x"})}
    assert moved["tour.next"] == "pagedown" and moved["replay.pause"] == "x"
    assert remapped({"keys": "?"})[ACTIONS.index(BY_ACTION["keys"])].keys == "question_mark"


async def test_a_clicker_moves_the_tour_with_pageup_and_pagedown(server):
    keymap = {"tour.next": "pagedown", "tour.previous": "pageup"}
    app = dashboard_app(config_for(server, tasks=2), tour=True, keymap=keymap)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await pilot.press("space")  # its default key no longer moves it
        await pilot.pause(0.1)
        assert app.session.tour.index == 0
        await pilot.press("pagedown")
        await wait_until(pilot, run_done(app, "async-sequential"))
        assert app.session.tour.index == 1
        footer = app.export_screenshot()
        assert "pgdn" in footer
        await pilot.press("pageup")
        assert app.session.tour.index == 0 and app.session.current.strategy == "sync"


async def test_a_clicker_key_given_beside_the_defaults_shows_in_the_footer(server):
    """`"tour.next" = "pagedown,space,right"`: the footer said "→ Next", and a presenter
    checking the clicker was wired saw no sign of it. The first key given shows (all three
    pushed "q Quit" off 80 columns)."""
    keymap = {"tour.next": "pagedown,space,right", "tour.previous": "pageup,left"}  # talk.md's
    app = dashboard_app(config_for(server, tasks=2), tour=True, keymap=keymap)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        keys = [str(key.render()) for key in app.screen.query("FooterKey")]
        assert any("pgdn Next" in key for key in keys), keys
        assert any("pgup Back" in key for key in keys), keys
        footer = app.screen.query_one("Footer")
        assert sum(key.outer_size.width for key in footer.query("FooterKey")) <= 80


async def test_a_moved_pick_shows_its_new_key_on_the_board_and_runs(server):
    app = dashboard_app(config_for(server, tasks=2), [BY_ID["sync"]], keymap={"pick.aiohttp": "x"})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        board = str(app.screen.query_one(StrategyBoard).render())
        assert " x aiohttp" in board and " 6 aiohttp" not in board
        await pilot.press("6")  # its old key: nothing
        await pilot.pause(0.1)
        assert app.session.selected.id == "sync"
        await pilot.press("x")
        await wait_until(pilot, run_done(app, "aiohttp"))


async def test_a_key_the_rows_scroll_with_goes_to_the_action_it_was_given():
    """The rows (focused) scroll with pagedown; a keymap that gives it to replay.next wins."""
    recording = read_recording(RECORDINGS / "compare-all.jsonl.gz")
    # Slow and paused: the replay goes on to no run by itself, whatever the machine's load.
    app = replay_app(ReplaySource(recording, speed=0.1), keymap={"replay.next": "pagedown"})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.session.replay.current is not None)
        await pilot.press("space")
        assert app.session.replay.clock.paused and app.session.replay.current.index == 0
        await pilot.press("pagedown")
        assert app.session.replay.current.index == 1


async def test_over_a_window_the_palette_offers_only_what_every_mode_has(server):
    app = dashboard_app(config_for(server, tasks=2), [BY_ID["sync"]])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, run_done(app, "sync"))
        await pilot.press("f")
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert "Quit" in titles and "Keys" in titles
        assert "Run sync" not in titles and "Compare all strategies" not in titles
        await pilot.press("escape")
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert "Run sync" in titles and "Compare all strategies" in titles
