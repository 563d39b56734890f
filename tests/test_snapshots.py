"""The main scenes as they look, at 80×24 and 160×50, drawn from recordings (no wall-clock
luck): sync's staircase, executor's waves, compare-all, failures, the code panel, a board
with ten strategies.

After a deliberate change of the screen: `pytest tests/test_snapshots.py --snapshot-update`,
then look at the SVGs in tests/__snapshots__ before committing them.
"""

from __future__ import annotations

import pytest

from scenes import play_to_end, scene

SIZES = [(80, 24), (160, 50)]
SCENES = [  # (recording, keys pressed once it has played)
    ("sync", ()),
    ("executor", ()),
    ("compare-all", ()),
    ("failures", ()),
    ("sync", ("c",)),
    ("your-own", ()),  # ten strategies on the board: the eight built-ins and two of a user's
]


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
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
