"""The waterfall: where each task sits on one time axis shared by every row.

Pure text: a bar is three runs of characters (lead, wait, request), so it can be drawn in a
terminal, tested without one, and coloured by whoever draws it.
"""

from __future__ import annotations

import io
import math
import os
from typing import TextIO

EIGHTHS = " ▏▎▍▌▋▊▉"
FULL = "█"
WAIT = "░"


# The axis while a run goes: few steps, because each rescale redraws every bar on screen.
LIVE_STEPS = (1, 2, 5, 10)
# The axis of a finished run: tight, so that the bars use the width.
FINAL_STEPS = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)


def nice_scale(elapsed: float, steps: tuple[float, ...] = FINAL_STEPS) -> float:
    """The axis length: the next round step above elapsed."""
    elapsed = max(elapsed, 0.05)
    power = 10.0 ** math.floor(math.log10(elapsed))
    return next((step * power for step in steps if step * power >= elapsed), 10 * power)


def bar(
    queued: float | None, started: float | None, end: float | None, scale: float, width: int
) -> tuple[str, str, str]:
    """(lead, wait, request) for a task: offsets in seconds from the run's start.

    `end` is when the request ended, or now while it runs. A request too short to fill an
    eighth of a cell still gets the thinnest glyph: every task that ran is visible.
    """
    if width <= 0 or scale <= 0 or queued is None:
        return "", "", ""
    per_cell = scale / width

    def cell(t: float) -> float:
        return min(width, max(0.0, t / per_cell))

    wait_from = round(cell(queued))
    if started is None:  # still waiting: shade up to now (end)
        wait_to = max(wait_from, round(cell(end if end is not None else queued)))
        return " " * wait_from, WAIT * (wait_to - wait_from), ""
    run_from = max(wait_from, round(cell(started)))
    wait = WAIT * (run_from - wait_from)
    eighths = max(1, round((cell(end if end is not None else started) - run_from) * 8))
    eighths = min(eighths, (width - run_from) * 8)
    if eighths <= 0:
        return " " * wait_from, wait, ""
    full, part = divmod(eighths, 8)
    return " " * wait_from, wait, FULL * full + (EIGHTHS[part] if part else "")


def phase_runs(
    started: float,
    phases: tuple[float | None, ...],
    scale: float,
    width: int,
    first_cell: int,
    cells: int,
) -> list[tuple[int, int]]:
    """(phase index, cells) along a request's bar: each cell goes to the phase under its
    middle, so a phase is drawn where it happened, and one shorter than a cell may not be.
    A phase the client could not time (None) takes no room: its neighbours hold it."""
    per_cell = scale / width
    ends, total = [], 0.0
    for duration in phases:
        total += duration or 0.0
        ends.append(total)
    # Time past the phases known (a request that timed out, or was refused an answer) goes
    # to the first unknown phase after them, never to a body that never came.
    known = max((i for i, duration in enumerate(phases) if duration is not None), default=-1)
    rest = known + 1 if known + 1 < len(phases) else len(phases) - 1
    # Cell c's middle is at (c + 0.5) × per_cell - started: it is in phase i while that is
    # before ends[i]. Each boundary's cell, computed once (a row is drawn every frame).
    runs: list[tuple[int, int]] = []
    cell, last = first_cell, first_cell + cells
    for index, end in enumerate(ends):
        bound = min(last, max(cell, math.ceil((started + end) / per_cell - 0.5)))
        if bound > cell:
            runs.append((index, bound - cell))
            cell = bound
    if cell < last:
        if runs and runs[-1][0] == rest:
            runs[-1] = (rest, runs[-1][1] + last - cell)
        else:
            runs.append((rest, last - cell))
    return runs


def axis(scale: float, width: int) -> str:
    """'0 ──────── 2.5 s': the timeline's header, naming its scale."""
    label = f"{scale:g} s"
    if width < len(label) + 4:
        return label[:width].rjust(width)
    return "0 " + "─" * (width - len(label) - 3) + " " + label


SPARKS = "▁▂▃▄▅▆▇█"


def histogram(values: list[float], width: int) -> str:
    """Durations binned from their min to their max, one glyph a bin: the latency's shape."""
    if not values or width <= 0:
        return ""
    low, high = min(values), max(values)
    span = high - low
    if span <= 0:
        return SPARKS[-1]
    counts = [0] * width
    for value in values:
        counts[min(width - 1, int((value - low) / span * width))] += 1
    top = max(counts)
    return "".join(
        " " if count == 0 else SPARKS[min(7, (count * 8 - 1) // top)] for count in counts
    )


def meter(fraction: float, width: int) -> str:
    """A horizontal bar for 0..1, in eighths."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    if fraction > 0:
        eighths = max(1, eighths)  # something that ran is never drawn as nothing
    full, part = divmod(eighths, 8)
    return (FULL * full + (EIGHTHS[part] if part else "")).ljust(width)


THREAD_MAX = 24


def fit_text(text: str, width: int) -> str:
    """The text whole if it fits; else cut, with an ellipsis that says so."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def short_thread(name: str | None, width: int = THREAD_MAX) -> str:
    """'runner-12' → 'runner': the run's own thread. Pool threads keep their name; one too
    long for the column keeps its start, what it is, and its number, where the names differ
    ('ThreadPoolEx…-0_12': '…dPoolExecutor-0_12' cut the start of the word)."""
    if name is None:
        return ""
    if name.startswith("runner-"):
        return "runner"
    if len(name) <= width:
        return name
    head, dash, number = name.rpartition("-")
    tail = dash + number
    if head and len(tail) <= width // 2:
        return name[: width - 1 - len(tail)] + "…" + tail
    return "…" + name[-(width - 1) :]


def short_request(url: str, width: int, hosts: bool = False) -> str:
    """A traced request's URL in `width`: its path (one server's: the table says which), else
    the path's end. `hosts`: the program asked more than one server, so which one stays
    ("127.0.0.1:8790", then as much of the path's end as fits). One rule for every row: a
    short URL was shown whole and a longer one as its path, in one program's table."""
    rest = url.split("://", 1)[-1]
    host, _, tail = rest.partition("/")
    path = "/" + tail
    if hosts:
        if len(url) <= width:
            return url
        if len(rest) <= width:
            return rest
        keep = width - len(host) - 1
        return host + "…" + path[-keep:] if keep >= 6 else "…" + rest[-(width - 1) :]
    return path if len(path) <= width else "…" + path[-(width - 1) :]


def terminal_width(out: TextIO) -> int | None:
    """The columns of the terminal `out` writes to; None for a pipe or a file, or a
    terminal that says it has none (a serial console's 0)."""
    try:
        columns = os.get_terminal_size(out.fileno()).columns if out.isatty() else 0
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return columns if columns > 0 else None
