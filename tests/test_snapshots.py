"""The main scenes as they look, at 80×24 and 160×50, drawn from recordings (no wall-clock
luck): sync's staircase, executor's waves, compare-all, failures, the code panel, a board
with ten strategies; the tour's third step, its runs the compare-all recording's; and
compare-all on a projector (high-contrast, 160×40, the ratio in large type). The docs'
pictures (docs/images/*.svg) are some of these files, byte for byte (tests/test_docs.py).

After a deliberate change of the screen: `pytest tests/test_snapshots.py --snapshot-update`,
then look at the SVGs in tests/__snapshots__ before committing them, and copy those the docs
show into docs/images/ (tests/test_docs.py names which).
"""

from __future__ import annotations

import pytest

from scenes import play_to_end, scene, tour, tour_to

SIZES = [(80, 24), (160, 50)]
SIZE_IDS = [f"{width}x{height}" for width, height in SIZES]
SCENES = [  # (recording, keys pressed once it has played)
    ("sync", ()),
    ("executor", ()),
    ("compare-all", ()),
    ("failures", ()),
    ("sync", ("c",)),
    ("your-own", ()),  # ten strategies on the board: the eight built-ins and two of a user's
]


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize(
    "name, keys", SCENES, ids=["sync", "executor", "compare-all", "failures", "code", "your-own"]
)
def test_scene(snap_compare, name, keys, size):
    async def played(pilot) -> None:
        await play_to_end(pilot)
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.1)

    assert snap_compare(scene(name), terminal_size=size, run_before=played)


def test_projector(snap_compare):
    """compare-all in high-contrast at 160×40: from 150 columns the ratio in large type."""
    assert snap_compare(
        scene("compare-all", theme="high-contrast"), terminal_size=(160, 40), run_before=play_to_end
    )


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_tour(snap_compare, size):
    """The tour's third step, gather-blocking: its caption, from the run just made (the
    recording's), and the loop blocked; at 160 columns its code, what is new marked."""

    async def third_step(pilot) -> None:
        await tour_to(pilot, "gather-blocking")

    assert snap_compare(tour("compare-all"), terminal_size=size, run_before=third_step)
