"""A traced program's run without a UI: run to its end, then said as a table, or as JSON."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import textwrap
from collections.abc import Sequence
from typing import Any, TextIO

from fetchviz.core.model import blocked_in, fmt_lag
from fetchviz.core.source import Batch
from fetchviz.core.timeline import fit_text, short_request, short_thread, terminal_width
from fetchviz.core.trace import TracedRow, TraceState
from fetchviz.trace.recorded import RecordedTrace
from fetchviz.trace.source import TraceSource

ROWS_SHOWN = 40  # a table for a person; --json has every request
REQUEST = 40  # the request column's width
LEFT = 46  # the columns before it: #, start, took, result
WHERE = 30  # what a `where` takes, about: "crawl.py:14 in fetch"


def _terminal_interrupts_us() -> bool:
    """Whether a Ctrl+C would reach this process and the program alike: our process group is
    the terminal's foreground one (the headless program runs in it)."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


async def trace_once(source: TraceSource | RecordedTrace) -> TraceState:
    """Run the program once, to its end. Ctrl+C reaches the program itself (it shares the
    terminal), and a second one kills it; a SIGINT sent to fetchviz alone (a supervisor's, a
    CI job's `kill -INT`) is passed on to it, as `escape` would (killed after GRACE)."""
    queue: asyncio.Queue[Batch] = asyncio.Queue()
    source.open(queue.put_nowait)
    loop = asyncio.get_running_loop()
    interrupts = 0
    from_terminal = _terminal_interrupts_us()

    def interrupted() -> None:
        nonlocal interrupts
        interrupts += 1
        current = source.current
        if current is None:
            return
        if interrupts > 1:
            current.kill()
        elif not from_terminal:
            current.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, interrupted)
    program = source.program
    try:
        handle = source.start()
        state = TraceState.traced(handle.run_id, program.shown, program.cwd)
        while not state.done:
            for event in await queue.get():
                if event.run_id == state.run_id:
                    state.apply(event)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
        source.close()
    return state


def title_line(program: str, how: str, elapsed: str, width: int | None = None) -> str:
    """`python crawl.py  ·  exited with 1  ·  2.31 s`; in `width`, the command is cut, never
    how it ended nor its time (a `--` command's long line lost both)."""
    end = f"  ·  {how}  ·  {elapsed}"
    if width is not None and len(program) + len(end) > width:
        program = fit_text(program, max(8, width - len(end)))
    return program + end


# A place in the program, as a `where` says it: a path, then its line ("x/crawl.py:14").
_PLACE = re.compile(r"(\S+)(:\d+)")


def fit_place(line: str, width: int | None) -> str:
    """A line naming a place in the program ("loop blocked 5.03 s in requests.get ·
    examples/tutorial/gather_blocking.py:21"), in `width`: where it does not fit, the place's
    folders go first, never its line number (at 80 columns the ellipsis took ":21", the one
    thing to look up)."""
    if width is None or len(line) <= width:
        return line
    return _PLACE.sub(lambda found: os.path.basename(found[1]) + found[2], line, count=1)


def summary_lines(
    state: TraceState, room: int | None = None, width: int | None = None
) -> list[str]:
    """What the run came to, in a few lines (the table's head, the dashboard's panel, `room`
    lines of `width`)."""
    elapsed = state.elapsed(state.end or 0.0)
    lines = [title_line(state.program, state.how or "stopped", f"{elapsed:.2f} s", width)]
    if state.error:
        lines.append(f"fetchviz: {state.error}")
    count = len(state.tasks)
    processes = len(state.processes)
    threads = len(state.threads)
    tasks = len(state.async_tasks)
    if count:
        overlap = state.overlap(state.end or 0.0)
        interrupted = state.interrupted()
        lines.append(
            f"{count} request{'s' if count != 1 else ''}: {state.ok} ok, "
            f"{state.failed - interrupted} failed"
            + (f", {interrupted} interrupted" if interrupted else "")
            + (f", {state.cancelled_tasks} cancelled" if state.cancelled_tasks else "")
            + f" · most in flight {state.most_in_flight()}"
            + (f" · overlap {overlap:.1f}×" if overlap is not None else "")
        )
    lines.append(
        f"{processes} process{'es' if processes != 1 else ''}, {threads} thread"
        f"{'s' if threads != 1 else ''} started, {tasks} asyncio task{'s' if tasks != 1 else ''}"
        + (
            f" · loop lag worst {fmt_lag(state.loop_lag_worst)}"
            if state.loop_lag_worst is not None
            else ""
        )
    )
    # The blocks in what room is left (the dashboard's panel holds `room` lines), the note
    # kept: when they do not all fit, the last line says how many more.
    shown = BLOCKS_SHOWN if room is None else max(0, room - len(lines) - bool(state.note))
    if room is not None and len(state.blocked) > shown:  # the panel: room for "… more" too
        shown = max(0, shown - 1)
    for blocked in state.blocked[:shown]:
        took = (blocked.ended or state.end or blocked.started) - blocked.started
        where = blocked_in(state.relative(blocked.where) or "where is not known")
        lines.append(
            fit_place(f"loop blocked {fmt_lag(took)} {where.removeprefix('blocked ')}", width)
        )
    if len(state.blocked) > shown:
        more = len(state.blocked) - shown
        lines.append(
            f"loop blocked {more} more time{'s' if more != 1 else ''}"
            " (--headless lists five, --json all)"
        )
    if state.note:
        # Wrapped where there is room (at 80 columns "it made no HTTP request through the
        # clients fetchviz watches: http.client (…" hid the list it is there to give).
        left = None if room is None else max(1, room - len(lines))
        lines += (textwrap.wrap(state.note, width) if width else [])[:left] or [state.note]
    return lines


BLOCKS_SHOWN = 5


def print_table(state: TraceState, out: TextIO, width: int | None = None) -> None:
    """The summary, then a row a request. `width`: the columns to fit (default: the
    terminal's, where `out` is one; a pipe's rows are whole). Where a row does not fit (at 80
    columns each wrapped, from column 0), its thread and where go on a line under it, and
    the request's column takes what is left."""
    width = width or terminal_width(out)
    for line in summary_lines(state, None, width):  # its first line's command cut to fit
        out.write(line + "\n")
    if not state.tasks:
        return
    processes = len(state.processes) > 1  # a column of its own only then
    hosts = len(state.origins) > 1
    title = state.request_title()  # one server: its origin here, each row its path
    process_width = 8 if processes else 0
    below = width is not None and LEFT + REQUEST + 1 + process_width + 19 + WHERE > width
    request_width = max(12, width - LEFT - process_width - 1) if below and width else REQUEST
    title = fit_text(title, request_width)
    out.write(
        f"\n{'#':>5} {'start':>7} {'took':>7}  {'result':<22} {title:<{request_width}}"
        + (f" {'process':>7}" if processes else "")
        + (f"\n{'':6}{state.thread_title()} · where\n" if below else "")
        + ("" if below else f" {state.thread_title():<18} where\n")
    )
    rows = sorted(state.tasks, key=lambda row: row.started or 0.0)
    for row in rows[:ROWS_SHOWN]:
        assert isinstance(row, TracedRow)
        start = state.offset(row.started)
        took = row.duration
        result = row.error or (
            "cancelled" if row.cancelled else f"{row.status} · {row.nbytes} B" if row.status else ""
        )
        # Cut as the dashboard cuts it: the path's end, where a program's URLs differ (its
        # start, the host, is the same on every row unless it asks several servers).
        room = request_width - len(row.method) - 1 if row.method else request_width
        request = f"{row.method} {short_request(row.url, room, hosts)}".strip()
        thread = short_thread(TraceState.row_thread(row), 32 if below else 18)
        where = state.relative(row.where) or ""
        line = (
            f"{row.index:>5} {'' if start is None else f'{start:.3f}':>7} "
            f"{'' if took is None else f'{took:.3f}':>7}  {fit_text(result, 22):<22} "
            f"{fit_text(request, request_width):<{request_width}}"
            + (f" {row.pid or '':>7}" if processes else "")
        )
        if below:
            assert width is not None
            under = fit_text(f"{thread} · {where}" if where else thread, width - 6)
            out.write(f"{line.rstrip()}\n{'':6}{under}\n")
        else:
            out.write(f"{line} {thread:<18} {where}\n")
    if len(rows) > ROWS_SHOWN:
        out.write(f"  … {len(rows) - ROWS_SHOWN} more (--json has every request)\n")


def result_json(states: Sequence[TraceState], url: str | None = None) -> dict[str, Any]:
    """The shape of `fetchviz --json`: a run per run of the program (one, live; a replay's
    recording may hold more), its tasks the program's requests; the top level's exit code and
    elapsed time are its last run's."""
    runs = [state.to_json() for state in states]
    last = states[-1]
    return {
        "config": {"url": url, "cwd": last.cwd},
        "baseline": None,
        "argv": list(last.argv),
        "exit_code": last.exit_code,
        "elapsed": runs[-1]["elapsed"],
        "runs": runs,
    }


def print_json(states: Sequence[TraceState], out: TextIO, url: str | None = None) -> None:
    # One write (see headless.print_json).
    out.write(json.dumps(result_json(states, url), indent=2) + "\n")
