"""Instructions a command executes, as valgrind's callgrind counts them: a figure noise moves
far less than the clock, where a ratio by the clock moves by several per cent from run to run.
Not by nothing: how many events the event loop finds at each turn depends on timing, so an
async client's count a request moves by up to ~3 % when the machine is busy (pyreqwest's
recorded / bare, five counts on 2026-12-07, two of them beside another valgrind: 1.149× to
1.199×; its bare count 172,182 to 176,902 a request). A difference under ~3 % is not one.

Per request, (I(large) - I(small)) / (large - small): interpreter start-up, imports and the
set-up of a run cancel out. Under valgrind a program runs some 50 times slower, so what is
done by the clock (a heartbeat every few ms) counts for more there than at full speed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable

COLLECTED = re.compile(r"Collected : (\d+)")
VALGRIND = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]


def available() -> bool:
    return shutil.which("valgrind") is not None


def count(command: list[str], wrap: Callable[[list[str]], list[str]] = lambda c: c) -> int:
    """The instructions of `command` under callgrind; `wrap` puts a launcher around the
    valgrind command (fetchviz trace, which then traces the Python valgrind runs)."""
    done = subprocess.run(
        wrap([*VALGRIND, *command]), capture_output=True, text=True, timeout=1800, check=True
    )
    counted = COLLECTED.findall(done.stderr)
    if len(counted) != 1:
        raise RuntimeError(f"callgrind said {counted!r}: {done.stderr[-300:]}")
    return int(counted[0])


def per_request(counts: dict[int, int]) -> float:
    """Instructions a request, from the counts of two runs by their sizes: the difference
    between the larger and the smaller, over the difference in requests."""
    (small, at_small), (large, at_large) = sorted(counts.items())
    return (at_large - at_small) / (large - small)
