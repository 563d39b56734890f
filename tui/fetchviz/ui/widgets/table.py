"""The rows: one line per task, its state, its times and its timeline, and the header above."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.filter import LineFilter
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fetchviz.core.events import PHASES
from fetchviz.core.model import RunState, TaskRow, TaskState
from fetchviz.core.timeline import (
    FINAL_STEPS,
    FULL,
    LIVE_STEPS,
    THREAD_MAX,
    WAIT,
    axis,
    bar,
    fit_text,
    nice_scale,
    phase_runs,
    short_request,
    short_thread,
)
from fetchviz.core.trace import TracedRow, TraceState
from fetchviz.ui.widgets.layout import Steady


@dataclass(frozen=True, slots=True)
class Columns:
    """Column widths for a table width; the thread column gives way first, then the result.

    The result takes what the timeline can spare (a failure's reason is worth reading whole);
    the thread column is as wide as the run's longest thread name, so that no two threads
    read alike.
    """

    result: int
    thread: int
    timeline: int
    where: int = 0  # a traced program's rows: where each request was made, given room

    FIXED = 6 + 9 + 8 + 8  # index, state, start, took (each with its spacing)
    MIN_TIMELINE = 24

    @classmethod
    def fit(
        cls, width: int, thread_names: int = 0, wheres: int = 0, traced: bool = False
    ) -> Columns:
        spare = width - cls.FIXED
        wanted = min(THREAD_MAX, max(8, thread_names)) + 1
        # The result before the thread: a reason is worth reading ("connection refused" at
        # 80 columns); the timeline takes what is left, and never less than its minimum. A
        # thread's column narrower than its names keeps their ends ("…Executor-0_3"), where
        # they differ: at 100 columns a traced thread pool's rows said no thread at all. Only
        # for a traced program's rows, whose result is short (a run's reasons keep their room).
        room = spare - RESULT_MIN - cls.MIN_TIMELINE
        narrowed = room if traced and room >= THREAD_MIN + 1 else 0
        thread = wanted if room >= wanted else narrowed
        # A traced request's `where` last: only where the thread's column, a traced result
        # (method, path, status) and the timeline keep their room; else it is a click away.
        where = min(WHERE_MAX, max(12, wheres)) + 1 if wheres and thread else 0
        if where and spare < thread + where + TRACED_RESULT_MIN + cls.MIN_TIMELINE + 1:
            where = 0
        result = max(6, min(RESULT_MAX, spare - thread - where - cls.MIN_TIMELINE - 1))
        return cls(result, thread, max(0, spare - thread - where - result - 1), where)


RESULT_MAX = 40  # "timed out: no data for 10 s", "server closed the connection" fit whole
THREAD_MIN = 9  # "…tor-0_12": a pool thread's number and a little of its name
RESULT_MIN = 24  # below this, the thread column gives way
TRACED_RESULT_MIN = 30  # "GET /delay/500?i=3 200 · 11 B"
WHERE_MAX = 32  # "crawl.py:114 in fetch_page": longer ones keep their end


def short_url(url: str, width: int = 18) -> str:
    """'http://127.0.0.1:8081/delay/50' → '…:8081/delay/50': the end, where URLs differ."""
    text = url.split("://", 1)[-1]
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def fmt_seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


CURSOR = Style(reverse=True)


class TaskTable(ScrollView, can_focus=True):
    """One row per task, drawn line by line: only the visible rows cost anything."""

    @dataclass
    class Chosen(Message):
        """A row was clicked: show all there is to know of its task."""

        index: int

    # ↑↓ move a cursor over the rows (shown once moved), enter (the screens' `details`
    # action) opens the row under it: what a click does, without a mouse (on stage, over ssh).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
    ]

    cursor: int | None = None  # the row under the cursor; None: not moved yet

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y
        if self.run is not None and 0 <= index < len(self.run.tasks):
            self.move_cursor(index)
            self.post_message(self.Chosen(index))

    def action_cursor(self, step: int) -> None:
        if self.run is None or not self.run.tasks:
            return
        top = self.scroll_offset.y
        start = top - 1 if step > 0 else top + 1  # the first move lands on the top row
        self.move_cursor((start if self.cursor is None else self.cursor) + step)

    def move_cursor(self, index: int) -> None:
        if self.run is None:
            return
        index = max(0, min(index, len(self.run.tasks) - 1))
        before, self.cursor = self.cursor, index
        if before is not None:
            self.refresh_line(before)  # ScrollView's: the row's own y, less the scroll
        top, height = self.scroll_offset.y, self.scrollable_content_region.height
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False)
        self.refresh_line(index)

    def choose(self) -> None:
        """The row under the cursor, shown whole (the top row if the cursor never moved)."""
        if self.run is None or not self.run.tasks:
            return
        if self.cursor is None:
            self.move_cursor(self.scroll_offset.y)
        assert self.cursor is not None
        self.post_message(self.Chosen(self.cursor))

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tasktable--queued",
        "tasktable--started",
        "tasktable--finished",
        "tasktable--failed",
        "tasktable--cancelled",
        "tasktable--wait",
        "tasktable--dim",
        "tasktable--connect",
        "tasktable--tls",
        "tasktable--receive",
    }

    def __init__(self, clock: Callable[[], float] = time.perf_counter, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.run: RunState | None = None
        self._styles: dict[str, Style] = {}
        # What each visible line shows now, by task index: a frame repaints only the lines
        # whose text changed (a line costs Textual ~0.3 ms; a screen of them, most of a frame).
        self._drawn: dict[int, tuple[str, ...]] = {}
        self._ready: dict[int, list[Segment]] = {}  # computed by refresh_rows(), drawn next
        self._lines: dict[int, Strip] = {}  # what is drawn, by task index
        # Rows that can no longer change while the run, the width and the scale stay the same.
        self._settled: set[int] = set()
        self._settled_for: tuple[object, ...] = ()
        self._looked_at: float | None = None  # the clock at the last full look
        self._filters: Sequence[LineFilter] = ()  # the app's, when the styles were made
        self._background = Color(0, 0, 0)
        self._filtered_for: tuple[object, ...] = ()

    def notify_style_update(self) -> None:
        self._forget_styles()  # the theme or the CSS changed
        super().notify_style_update()

    def _forget_styles(self) -> None:
        self._styles.clear()
        self._lines.clear()
        self._ready.clear()

    def _check_filters(self) -> None:
        """The rows' styles are made once, already through the app's line filters (ANSI
        colours to true colour, NO_COLOR, dim): filtering a few styles costs less than
        filtering every line of every frame. When the filters or the background change,
        the styles and every line made with them go."""
        filters = self.get_line_filters()
        _, background = self.background_colors
        key = (tuple(map(id, filters)), background)
        if key != self._filtered_for:
            self._filtered_for, self._filters, self._background = key, filters, background
            self._forget_styles()

    def style_of(self, part: str) -> Style:
        """The row's style for a part, as it goes to the screen, cached: Textual computes a
        style by walking the DOM, which would cost more than the rest of the row."""
        style = self._styles.get(part)
        if style is None:
            base = self.rich_style
            style = base if part == "base" else base + self.get_component_rich_style(part)
            for line_filter in self._filters:  # each maps a segment's style on its own
                filtered = line_filter.apply([Segment(" ", style)], self._background)
                style = filtered[0].style or Style()
            self._styles[part] = style
        return style

    def show(self, run: RunState | None) -> None:
        self.run = run
        self.cursor = None
        self.virtual_size = Size(self.size.width, len(run.tasks) if run else 0)
        self.scroll_home(animate=False)
        self._forget()
        self.refresh()

    def refresh_rows(self, touched: Collection[int] | None = None) -> None:
        """Repaint the visible lines whose text has changed since they were drawn.

        `touched`: the rows that events changed since the last call. While the clock, the
        scale and the width stay the same, no other row can have changed, so only those are
        looked at: a frame that only shows events costs what the events changed, not a screen.
        None looks at every visible row.
        """
        run = self.run
        if run is None:
            return
        self._check_filters()
        width = self.scrollable_content_region.width
        cols, now, scale = (
            Columns.fit(width, run.thread_width, run.where_width, isinstance(run, TraceState)),
            self.clock(),
            self.scale(),
        )
        self._ready.clear()  # what the last pass made ready and nobody drew is out of date
        key = (run.run_id, width, scale, run.end, cols)
        if self._settled_for != key:
            self._settled_for = key
            self._settled.clear()
            touched = None
        if now != self._looked_at:  # the clock moved: every row in flight may have too
            self._looked_at = now
            touched = None
        top = self.scroll_offset.y
        visible = range(top, min(len(run.tasks), top + self.scrollable_content_region.height))
        looked: Iterable[int] = visible
        if touched is not None:
            looked = sorted(index for index in touched if index in visible)
        changed = []
        for index in looked:
            if index in self._settled:
                continue
            row = run.tasks[index]
            if row.finished is not None or run.done:
                self._settled.add(index)
            segments = self._row(run, row, cols, now, scale)
            texts = tuple(segment.text for segment in segments)
            if self._drawn.get(index) != texts:
                self._ready[index] = segments
                self._lines.pop(index, None)
                changed.append(index)
        if len(changed) > 8:  # past a few lines, one refresh costs less than one per line
            self.refresh()
        else:
            for index in changed:
                self.refresh_line(index)

    def on_resize(self) -> None:
        self._forget()  # every line is drawn anew at the new width

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        if round(old_value) != round(new_value):
            # Rows that come into view are drawn as they are now, not as they were last seen:
            # once a run is done, no frame comes to correct them.
            self._lines.clear()
        super().watch_scroll_y(old_value, new_value)

    def _forget(self) -> None:
        """Forget every line drawn: the next frame draws them all anew."""
        self._drawn.clear()
        self._ready.clear()
        self._lines.clear()
        self._settled.clear()
        self._looked_at = None

    def scale(self) -> float:
        run = self.run
        if run is None:
            return nice_scale(0.0)
        return nice_scale(run.elapsed(self.clock()), FINAL_STEPS if run.done else LIVE_STEPS)

    def render_lines(self, crop: Region) -> list[Strip]:
        """The rows, straight to the compositor, from a cache of lines by task.

        Textual's own path (Widget.render_lines) styles every line for borders, padding, tint
        and opacity, none of which a row has, at ~0.1 ms a line; a tick repaints a screenful.
        A cached line stays until refresh_rows() finds its row changed.
        """
        self._check_filters()
        width, top = self.size.width, self.scroll_offset.y
        strips = []
        for y in crop.line_range:
            strip = self._lines.get(top + y)
            if strip is None:
                strip = self._lines[top + y] = self._line(top + y, width)
            if top + y == self.cursor:  # styled as drawn: the cached line stays as it is
                strip = strip.apply_style(CURSOR)
            strips.append(strip)
        if crop.column_span != (0, width):
            strips = [strip.crop(*crop.column_span) for strip in strips]
        return strips

    def _line(self, index: int, width: int) -> Strip:
        run, base = self.run, self.style_of("base")
        if run is None or index >= len(run.tasks):
            return Strip.blank(width, base)
        segments = self._ready.pop(index, None) or self._row(
            run,
            run.tasks[index],
            Columns.fit(
                self.scrollable_content_region.width,
                run.thread_width,
                run.where_width,
                isinstance(run, TraceState),
            ),
            self.clock(),
            self.scale(),
        )
        self._drawn[index] = tuple(segment.text for segment in segments)
        # Every glyph here is one cell wide, so the length is known without measuring; a Strip
        # is costly enough (it carries its own caches) that one per line is plenty.
        length = sum(len(segment.text) for segment in segments)
        if length < width:  # under the scrollbar
            segments.append(Segment(" " * (width - length), base))
        elif length > width:
            return Strip(segments, length).crop(0, width)
        return Strip(segments, width)

    def _row(
        self, run: RunState, row: TaskRow, cols: Columns, now: float, scale: float
    ) -> list[Segment]:
        base = self.style_of("base")
        state = row.state
        style = self.style_of(f"tasktable--{state.name.lower()}")
        dim = self.style_of("tasktable--dim")
        took = row.duration
        if took is None and row.started is not None and not run.done:
            took = max(0.0, now - row.started)  # the frame's clock may predate a fresh start
        if state is TaskState.FAILED:
            result = row.error or "failed"
        elif row.status is not None:
            result = f"{row.status} · {row.nbytes} B"
        else:
            result = ""
        if isinstance(row, TracedRow):  # a traced program's: which request, and the answer
            if row.status is not None and state is not TaskState.FAILED:
                result = str(row.status)  # its size, where there is room for it
                sized = f"{row.status} · {row.nbytes} B"
                path = "/" + row.url.split("://", 1)[-1].partition("/")[2]
                if len(row.method) + len(path) + len(sized) + 3 <= cols.result:
                    result = sized
            room = max(6, cols.result - len(result) - len(row.method) - 4)
            hosts = len(getattr(run, "origins", ())) > 1
            result = f"{row.method} {short_request(row.url, room, hosts)} {result}".strip()
        elif len(run.targets) > 1:  # which of the URLs: their ends tell them apart
            # The URL's end, in what the result leaves: "200 · 11 B" stays whole.
            room = max(6, min(18, cols.result - 14))
            result = f"{short_url(run.url(row.index) or '', room)} {result}"
        segments = [
            Segment(f"{row.index:>5} ", dim),
            Segment(
                f"{row.shown_state(run.done):<9}",
                dim if run.done and row.finished is None else style,
            ),
            Segment(f"{fmt_seconds(run.offset(row.started)):>7} {fmt_seconds(took):>7} ", base),
            Segment(f" {fit_text(result, cols.result - 2):<{cols.result - 1}}", style),
        ]
        if cols.thread:
            name = short_thread(TraceState.row_thread(row), cols.thread - 1)
            segments.append(Segment(f"{name:<{cols.thread}}", dim))
        if cols.where:
            where = getattr(row, "where", None) or ""
            if len(where) >= cols.where:  # its end: the file's name, the line, the function
                where = "…" + where[-(cols.where - 2) :]
            segments.append(Segment(f"{where:<{cols.where}}", dim))
        if cols.timeline:
            end = row.finished if row.finished is not None else (run.end or now)
            end = max(end, row.started or end)
            lead, wait, req = bar(
                run.offset(row.queued),
                run.offset(row.started),
                run.offset(end),
                scale,
                cols.timeline,
            )
            segments += [
                Segment(" " + lead, base),
                Segment(wait, self.style_of("tasktable--wait")),
                *(
                    self._phases(row, run.offset(row.started) or 0.0, req, lead + wait, scale, cols)
                    if row.phases is not None and row.finished is not None and req
                    else [Segment(req, style)]
                ),
                Segment(" " * (cols.timeline - len(lead) - len(wait) - len(req)), base),
            ]
        return segments

    def _phases(
        self, row: TaskRow, started: float, req: str, before: str, scale: float, cols: Columns
    ) -> list[Segment]:
        """The request's bar in the shades of its phases (PHASES)."""
        assert row.phases is not None
        styles = list(PHASE_STYLES)
        styles[PHASES.index("first_byte")] = f"tasktable--{row.state.name.lower()}"
        segments, at = [], 0
        runs = phase_runs(started, row.phases, scale, cols.timeline, len(before), len(req))
        for index, cells in runs:
            text = req[at : at + cells]
            if PHASES[index] == "wait":  # waiting for a connection: shaded as waiting is
                text = text.replace(FULL, WAIT)
            segments.append(Segment(text, self.style_of(styles[index])))
            at += cells
        return segments


PHASE_STYLES = tuple(f"tasktable--{name.replace('_', '-')}" for name in PHASES)


class TableHeader(Steady):
    """Column titles, and the timeline's axis with its scale."""

    def show(
        self,
        width: int,
        scale: float,
        thread_names: int = 0,
        wheres: int = 0,
        thread_title: str = "thread",
        traced: bool = False,
        result_title: str = "result",
    ) -> None:
        """`thread_title`: what the thread's column holds (a traced request's asyncio task,
        where it has one: "thread/task"); `traced`: a traced program's rows; `result_title`:
        the result column's (a traced program's: its requests, and their one server)."""
        cols = Columns.fit(width, thread_names, wheres, traced)
        room = cols.result - 2
        # Where it is too long, the server alone ("http://127.0.0.1:8777"), then without its
        # scheme, then its end: its port is what tells one server from another.
        server = result_title.split(" · ", 1)[-1]
        fits = [t for t in (result_title, server, server.split("://")[-1]) if len(t) <= room]
        result = fits[0] if fits else "…" + server[1 - room :]
        text = f"{'#':>5} {'state':<9}{'start':>7} {'took':>7}  {result:<{cols.result - 1}}"
        if cols.thread:
            if len(thread_title) >= cols.thread:
                thread_title = thread_title.replace("thread/", "thr/")
            text += f"{thread_title[: cols.thread - 1]:<{cols.thread}}"
        if cols.where:
            text += f"{'where':<{cols.where}}"
        if cols.timeline:
            text += " " + axis(scale, cols.timeline)
        self.set_content(Text(text, style="bold"))
