"""`fetchviz trace` on screen: a program of the user's, its requests as rows, live, with its
loop, its output and how it ended; r runs it again, escape stops it, t lists its threads."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.widgets import Footer, RichLog

from fetchviz.core.actions import TRACE
from fetchviz.core.model import blocked_in, fmt_lag
from fetchviz.core.source import Batch
from fetchviz.core.timeline import fit_text
from fetchviz.core.trace import TracedRow, TraceState
from fetchviz.core.trace import task_label as named_task
from fetchviz.trace.report import fit_place, summary_lines, title_line
from fetchviz.trace.source import GRACE, TraceFeed
from fetchviz.ui.dialogs.details import Details, LiveDetails, task_details
from fetchviz.ui.keys import bindings
from fetchviz.ui.screens.plain import PlainScreen
from fetchviz.ui.widgets.layout import Column, Steady, set_titles
from fetchviz.ui.widgets.table import TableHeader, TaskTable

if TYPE_CHECKING:
    from fetchviz.ui.app import FetchvizApp

FRAME = 1 / 30  # a program's events are drawn at most this often
TICK = 1 / 10  # the clock on screen moves this often while it runs
OUTPUT_BESIDE = 150  # from this width, the output sits beside the rows, not under them
OUTPUT_MOST = 8  # below the rows, the output panel's height at most, its border in


class TraceScreen(PlainScreen[None], inherit_bindings=False):
    """The traced program's run: a summary, its requests, its output."""

    MODE: ClassVar[str] = TRACE
    BINDINGS: ClassVar[list[BindingType]] = bindings(TRACE)
    DEFAULT_CSS = """
    TraceScreen #trace-summary {
        height: 7;  /* SUMMARY_LINES and its border */
        border: round $primary;
        border-subtitle-color: $text-muted;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    TraceScreen #trace-body { height: 1fr; layout: vertical; }
    TraceScreen #trace-body.beside { layout: horizontal; }
    TraceScreen #trace-output {
        height: 8;
        border: round $secondary;
        border-subtitle-color: $text-muted;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    TraceScreen #trace-body.beside #trace-output { height: 1fr; width: 40%; }
    """

    def __init__(self, source: TraceFeed) -> None:
        super().__init__()
        self.source = source
        self.state: TraceState | None = None
        self.shown_output = 0  # lines of the state's output written to the panel
        self.shown_done = False  # the footer shows the run's end (no esc Stop once it is over)
        self.stopping = False  # escape sent SIGINT: the summary says so until it has ended

    @property
    def fetchviz(self) -> FetchvizApp:
        from fetchviz.ui.app import FetchvizApp

        assert isinstance(self.app, FetchvizApp)
        return self.app

    def compose(self) -> ComposeResult:
        self.summary = Steady(id="trace-summary")
        self.header = TableHeader(id="header")
        self.table = TaskTable(id="table", clock=self.source.now)
        self.output = RichLog(id="trace-output", max_lines=2000, wrap=False, markup=True)
        yield self.summary
        with Column(id="trace-body"):
            with Column(id="rows"):
                yield self.header
                yield self.table
            yield self.output
        yield Footer(compact=True, show_command_palette=False)  # ? says ctrl+p

    def on_mount(self) -> None:
        self.summary.border_title = self.source.program.name
        self.output.border_title = "output"
        self.output.border_subtitle = self.output_note()
        self._fit(self.app.size.width)
        self.screen_layout_refresh_signal.subscribe(self, lambda _screen: self.redraw())
        self._consume_events()
        self.call_after_refresh(self.start)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        body = self.query_one("#trace-body")
        body.set_class(width >= OUTPUT_BESIDE, "beside")
        self._size_output()

    def _size_output(self) -> None:
        """Below the rows, the output panel as tall as its lines, up to OUTPUT_MOST: at 80×24
        its eight lines for a program's one left 7 of 12 rows. Beside them, the CSS's."""
        if self.query_one("#trace-body").has_class("beside"):
            self.output.styles.height = None
            return
        written = self.state.output_count if self.state is not None else 0
        self.output.styles.height = min(OUTPUT_MOST, max(1, written) + 2)  # and its border

    def output_note(self) -> str:
        return "its stdin is not the terminal"

    # The program

    def start(self) -> None:
        handle = self.source.start()
        program = self.source.program
        self.state = TraceState.traced(handle.run_id, program.shown, program.cwd)
        self.output.clear()
        self.shown_output = 0
        self._size_output()
        self.table.show(self.state)
        self.shown_done = False
        self.stopping = False
        self.refresh_bindings()
        self.redraw()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """escape stops a program that runs: once it has ended, the footer offers only r."""
        return action != "stop" or (self.state is not None and not self.state.done)

    def action_rerun(self) -> None:
        self.start()

    def action_stop(self) -> None:
        state = self.state
        if state is None or state.done:
            self.notify("The program is not running: r runs it again.", timeout=3)
            return
        run = self.source.current
        if run is not None:
            run.cancel()
            # On the summary's first line, not a toast: it goes the frame the program ends
            # (a toast outlived it, and taking it down took every other toast with it).
            self.stopping = True
            self.redraw()

    def action_toggle_output(self) -> None:
        self.output.display = not self.output.display

    def action_threads(self) -> None:
        state = self.state
        if state is not None:
            live = LiveDetails(
                "threads and tasks", lambda: threads_text(state), lambda: not state.done
            )
            self.app.push_screen(live)

    def action_details(self) -> None:
        self.table.choose()

    def on_task_table_chosen(self, message: TaskTable.Chosen) -> None:
        state = self.state
        if state is not None and message.index < len(state.tasks):
            row = state.tasks[message.index]
            self.app.push_screen(Details(f"request {row.index}", request_details(state, row)))

    # Events

    @work(group="events")
    async def _consume_events(self) -> None:
        queue = self.fetchviz.event_queue
        while True:
            batches: list[Batch] = []
            timeout = TICK if self.state is not None and not self.state.done else None
            with contextlib.suppress(TimeoutError):
                batches.append(await asyncio.wait_for(queue.get(), timeout))
            while not queue.empty():
                batches.append(queue.get_nowait())
            touched: set[int] = set()
            state = self.state
            for batch in batches:
                for event in batch:
                    if state is not None and event.run_id == state.run_id:
                        state.apply(event)
                        index = getattr(event, "index", None)
                        if index is not None:
                            touched.add(index)
            grew = state is not None and self.table.virtual_size.height != len(state.tasks)
            self.redraw(None if grew else touched)
            if state is not None and state.done:
                if not self.shown_done:
                    self.shown_done = True
                    self.refresh_bindings()
                    self.stopping = False
                self.ended(state)
            await asyncio.sleep(FRAME)

    def ended(self, state: TraceState) -> None:
        """The run shown has ended (called after each frame from then on)."""

    # Drawing

    def redraw(self, touched: set[int] | None = None) -> None:
        state = self.state
        if state is None or not self.table.is_attached:
            return
        now = self.source.now()
        if self.table.virtual_size.height != len(state.tasks):
            self.table.virtual_size = self.table.virtual_size.with_height(len(state.tasks))
            touched = None
        self.summary.set_content(self.summary_text(state, now))
        set_titles(self.summary, self.source.program.name, self.status(state))
        self.header.show(
            self.table.scrollable_content_region.width,
            self.table.scale(),
            state.thread_width,
            state.where_width,
            state.thread_title(),
            traced=True,
            result_title=state.request_title(),
        )
        self.table.refresh_rows(touched)
        self._write_output(state)

    def status(self, state: TraceState) -> str:
        if not state.done:
            return "stopping" if self.stopping else "running"
        return state.how or "stopped"

    def summary_text(self, state: TraceState, now: float) -> Text:
        width = self.summary.content_size.width or None
        if state.done:
            lines = summary_lines(state, SUMMARY_LINES, width)
        else:
            elapsed = state.elapsed(now)
            how = (
                f"stopping (SIGINT sent; killed after {GRACE:g} s)" if self.stopping else "running"
            )
            lines = [title_line(state.program, how, f"{elapsed:.1f} s", width)]
            count = len(state.tasks)
            lines.append(
                f"{count} request{'s' if count != 1 else ''}: {state.in_flight} in flight, "
                f"{state.ok} ok, {state.failed} failed · most in flight {state.most_seen}"
            )
            lines.append(
                f"{len(state.processes)} process{'es' if len(state.processes) != 1 else ''}, "
                f"{len(state.threads)} thread{'' if len(state.threads) == 1 else 's'}, "
                f"{len(state.async_tasks)} asyncio task{'' if len(state.async_tasks) == 1 else 's'}"
                " · t lists them"
            )
            blocked = state.blocked_now()
            if blocked is not None:
                where = blocked_in(state.relative(blocked.where) or "where is not known")
                where = where.removeprefix("blocked ")  # "in requests.get · …" or "at …"
                lines.append(
                    fit_place(f"loop blocked {fmt_lag(now - blocked.started)} {where}", width)
                )
            elif state.blocked:
                last = state.blocked[-1]
                took = (last.ended or now) - last.started
                where = state.relative(last.where) or "where is not known"
                lines.append(fit_place(f"loop was blocked {fmt_lag(took)} at {where}", width))
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, line in enumerate(lines):
            style = "bold" if i == 0 else ("bold red" if "blocked" in line else "")
            text.append(line + "\n", style=style)
        return text

    def _write_output(self, state: TraceState) -> None:
        """The program's new lines, each with its time in the run (as the rows have); the
        line it is still writing (a progress bar) in the panel's lower edge."""
        writing = next(reversed(state.partial.values()), None)
        # Content, not markup: the program's text is its own ("[done] 3/3").
        shown = self.output_note() if writing is None else Content(f"▸ {writing}")
        self.output.border_subtitle = shown
        new = state.output_count - self.shown_output
        if new <= 0:
            return
        lines = list(state.output)[-min(new, len(state.output)) :]
        for at, stream, text in lines:
            offset = state.offset(at) or 0.0
            colour = "red" if stream == "stderr" else "yellow" if stream == "fetchviz" else ""
            body = escape(text)
            self.output.write(
                f"[dim]{offset:7.3f}[/] " + (f"[{colour}]{body}[/]" if colour else body)
            )
        self.shown_output = state.output_count
        self._size_output()


SUMMARY_LINES = 5  # the summary panel's lines (its height, 7, less its border)


def request_details(state: TraceState, row: TracedRow | object) -> str:
    assert isinstance(row, TracedRow)
    lines = [
        f"{row.method} {row.url}",
        f"where    {state.relative(row.where) or '—'}",
        f"thread   {row.thread or '—'}",
        f"task     {task_label(row)}",
        f"process  {row.pid}",
        "",
        task_details(state, row, "request"),
    ]
    return "\n".join(lines)


def task_label(row: TracedRow) -> str:
    """The asyncio task a request ran in: its name and number (`fetch #2`), or —."""
    return "—" if row.task is None else named_task(row.task, row.task_number)


def counted(requests: int) -> str:
    return f"{requests} request{'' if requests == 1 else 's'}"


LISTED = 100  # threads, and tasks, listed a process: 100,000 lines took 10 s to draw


def threads_text(state: TraceState) -> str:
    """Every process of the program, with its threads and asyncio tasks (the first LISTED of
    each, and how many more), each with its life and requests."""

    def span(started: float, ended: float | None) -> str:
        start = state.offset(started) or 0.0
        end = state.offset(ended)
        return f"{start:7.3f} → {'…' if end is None else f'{end:.3f}'}"

    requests = Counter(row.pid for row in state.tasks if isinstance(row, TracedRow))
    listed: dict[tuple[int, str], list[str]] = defaultdict(list)
    more: Counter[tuple[int, str]] = Counter()
    spans = [("thread", t) for t in state.threads.values()]
    spans += [("task", t) for t in state.async_tasks.values()]
    for kind, life in spans:
        lines = listed[life.pid, kind]
        if len(lines) < LISTED:
            # A task's end before its requests: "failed · 0 requests", not "0 requests failed".
            state_of = "" if kind == "thread" or not life.state else f"{life.state} · "
            # 22 wide: a task's line, its state too, fits 80 columns.
            line = f"  {kind:<6} {fit_text(life.label, 22):<22} {span(life.started, life.ended)}"
            lines.append(f"{line}  {state_of}{counted(life.requests)}")
        else:
            more[life.pid, kind] += 1
    lines = []
    for process in sorted(state.processes.values(), key=lambda p: p.seen):
        pid = process.pid
        argv = " ".join(process.argv) or "?"
        lines.append(f"process {pid} ({argv}) {span(process.seen, process.ended)}")
        lines.append(f"  {counted(requests[pid])}")
        for kind in ("thread", "task"):
            lines += listed[pid, kind]
            if more[pid, kind]:
                lines.append(f"  … and {more[pid, kind]:,} more {kind}s (--json lists them all)")
    return "\n".join(lines) or "nothing yet: the program has not started"
