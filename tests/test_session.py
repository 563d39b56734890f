"""The session without Textual: commands and events in, what the screens draw out."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from fetchviz.core.catalog import BY_ID, STRATEGIES
from fetchviz.core.config import Config
from fetchviz.core.events import (
    RunFinished,
    RunStarted,
    SyncSample,
    TaskFinished,
    TaskStarted,
)
from fetchviz.core.model import TaskState
from fetchviz.core.session import Session, catalog_of
from fetchviz.core.source import Batch, RunRequest
from fetchviz.records.playback import ReplaySession
from fetchviz.records.recording import RecordedRun, Recording
from fetchviz.records.replay import ReplaySource
from fetchviz.ui.dialogs.details import failure_summary
from fetchviz.ui.widgets.summary import no_baseline

CONFIG = Config(tasks=4, url="http://127.0.0.1:1/delay/40", delay_ms=40)


class Handle:
    def __init__(self, source: FakeSource, run_id: int, request: RunRequest) -> None:
        self.run_id, self.request, self.source = run_id, request, source
        self.begun = self.cancelled = False

    def begin(self) -> None:
        self.begun = True

    def cancel(self) -> None:
        self.cancelled = True


class FakeSource:
    """Starts nothing: it keeps what it was asked for; the test plays each run's events."""

    def __init__(self) -> None:
        self.started: list[Handle] = []
        self._ids = itertools.count(1)

    def open(self, deliver: Callable[[Batch], None]) -> None:
        pass

    def now(self) -> float:
        return 0.0

    def start(self, request: RunRequest) -> Handle:
        handle = Handle(self, next(self._ids), request)
        self.started.append(handle)
        return handle

    def close(self) -> None:
        pass


def answered(run_id: int, tasks: int, seconds: float, strategy: str = "x") -> Batch:
    """A whole run: every task answered, one after another, `seconds` in all."""
    events: Batch = [RunStarted(run_id, strategy, tasks, 0.0)]
    step = seconds / tasks
    for index in range(tasks):
        events += [
            TaskStarted(run_id, index, index * step, "t"),
            TaskFinished(run_id, index, (index + 1) * step, 200, 2),
        ]
    return [*events, RunFinished(run_id, seconds)]


def test_a_compare_all_keeps_its_n_when_plus_is_pressed_midway():
    source = FakeSource()
    session = Session(CONFIG, catalog_of([]), source)
    first, config = session.compare_all()
    assert first.id == "sync" and session.best_first
    session.start(first, config)
    session.more()  # + during the compare-all: for the next run, not this one's
    assert session.config.tasks == 5 and session.current_config.tasks == 4
    for _ in STRATEGIES[1:]:
        run = session.current
        applied = session.apply([answered(run.run_id, 4, 0.2, run.strategy)])
        assert applied.start_next is not None
        strategy, config = applied.start_next
        assert config.tasks == 4  # the compare-all's own N, whatever + said meanwhile
        session.start(strategy, config)
    last = session.current
    applied = session.apply([answered(last.run_id, 4, 0.1, last.strategy)])
    assert applied.start_next is None and not session.pending
    assert set(session.results()) == {s.id for s in STRATEGIES}  # the board ranks all eight
    assert [h.request.compare for h in source.started] == [True] * len(STRATEGIES)


def test_a_measured_baseline_holds_for_its_settings_only():
    source = FakeSource()
    session = Session(CONFIG, catalog_of([]), source)
    sync = session.start(BY_ID["sync"])
    session.apply([answered(sync.run_id, 4, 0.16, "sync")])
    baseline = session.baseline()
    assert baseline is not None and baseline.measured and baseline.elapsed == 0.16
    session.more()  # N = 5: the sync run at N = 4 says nothing of it
    aiohttp = session.start(BY_ID["aiohttp"])
    assert source.started[-1].request.sample  # so a sample is asked for, after the run
    assert session.baseline() is None
    session.apply([answered(aiohttp.run_id, 5, 0.05, "aiohttp")])
    session.apply([[SyncSample(aiohttp.run_id, 0.1, (0.04, 0.04, 0.04))]])
    estimate = session.baseline()
    assert estimate is not None and not estimate.measured and abs(estimate.elapsed - 0.2) < 1e-9


def test_a_failed_sample_leaves_no_estimate_until_a_later_one_gives_it():
    """What the run panel shows comes from the session as it is now: a sample that failed
    says so beside its run, never over a later good estimate (a toast did, for 5 s)."""
    session = Session(CONFIG, catalog_of([]), FakeSource())
    run = session.start(BY_ID["aiohttp"])
    session.apply([answered(run.run_id, 4, 0.05), [SyncSample(run.run_id, 0.1, (), "HTTP 500")]])
    assert session.baseline() is None and session.current.sample_error == "HTTP 500"
    assert no_baseline(session.current) == "no sample: HTTP 500 · b"
    again = session.start(BY_ID["httpx"])
    assert session.source.started[-1].request.sample  # asked again, after the next run
    session.apply([answered(again.run_id, 4, 0.05), [SyncSample(again.run_id, 0.1, (0.04,) * 3)]])
    assert session.baseline() is not None and not session.baseline().measured


def test_a_cancelled_run_is_cut_short_not_a_failed_sample():
    session = Session(CONFIG, catalog_of([]), FakeSource())
    run = session.start(BY_ID["sync"])
    session.apply([[RunStarted(run.run_id, "sync", 4, 0.0), TaskStarted(run.run_id, 0, 0.0, "t")]])
    session.cancel()
    assert session.source.started[-1].cancelled
    session.apply(
        [
            [RunFinished(run.run_id, 0.01, cancelled=True)],
            [SyncSample(run.run_id, 0.01, (), "cancelled")],
        ]
    )
    rows = [row.state for row in session.current.tasks]
    assert rows == [TaskState.CANCELLED] + [TaskState.QUEUED] * 3  # in flight: cut short
    assert no_baseline(session.current) == "b measures it"
    assert "cancelled" in failure_summary(session.current)


def test_escape_ends_a_compare_all_and_it_ranks_nothing():
    session = Session(CONFIG, catalog_of([]), FakeSource())
    session.start(*session.compare_all())
    session.cancel()
    assert not session.pending and not session.best_first
    assert session.source.started[0].cancelled


def test_minus_at_one_and_plus_at_the_most_say_so():
    session = Session(CONFIG.with_tasks(1), catalog_of([]), FakeSource())
    session.fewer()
    assert session.at_least and session.config.tasks == 1
    session.more()
    assert not session.at_least and session.config.tasks == 2


def recorded(run_id: int, strategy: str, compare: bool, seconds: float) -> RecordedRun:
    events = answered(run_id, 2, seconds, strategy)
    config = CONFIG.with_tasks(2)
    return RecordedRun(run_id, strategy, config, False, False, "", compare, 1e3, 0.0, events)


async def test_a_replay_steps_back_and_forth_and_keeps_the_compare_all_it_replays():
    """A recorded compare-all of three: n past each run, then p back from the last; the
    board keeps ranking the three (it showed two, and dashes, before)."""
    runs = [recorded(i + 1, s.id, True, 0.1 * (i + 1)) for i, s in enumerate(STRATEGIES[:3])]
    replay = ReplaySource(Recording("0", 1, runs, truncated=False), speed=10)
    delivered: list[Batch] = []
    replay.open(delivered.append)
    session = ReplaySession(replay)

    def settle() -> None:  # what the screen's consumer does with what was delivered
        while delivered:
            session.apply([delivered.pop(0)])

    assert session.play(0) is None
    for _ in range(2):
        assert session.step(+1) is None  # n: the run skipped ends as recorded
        settle()
    assert session.current.strategy == STRATEGIES[2].id
    assert session.step(+1) == "That was the last run of the recording."
    replay.current.finish()
    settle()
    assert set(session.results()) == {s.id for s in STRATEGIES[:3]}
    assert session.step(-1) is None  # p: the run before plays again, from its start
    settle()
    assert session.current.strategy == STRATEGIES[1].id and session.best_first
    replay.current.finish()
    settle()
    shown = session.results()
    assert set(shown) == {s.id for s in STRATEGIES[:3]}, "the replayed compare-all's board"


async def test_n_and_p_keep_a_paused_replay_paused():
    runs = [recorded(i + 1, s.id, False, 0.1) for i, s in enumerate(STRATEGIES[:2])]
    replay = ReplaySource(Recording("0", 1, runs, truncated=False), speed=1)
    replay.open(lambda batch: None)
    session = ReplaySession(replay)
    session.play(0)
    session.toggle_pause()
    assert session.step(+1) is None and replay.clock.paused  # at run 2's start, paused
    assert session.current.strategy == STRATEGIES[1].id and session.current.start is None
    assert session.step(-1) is None and replay.clock.paused
