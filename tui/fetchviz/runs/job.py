"""What a strategy sees of its run: the target, the limits, and how to report each fetch."""

from __future__ import annotations

import asyncio
import functools
import ssl as tls
import threading
import time
from collections.abc import Callable, Sequence
from time import perf_counter
from types import TracebackType
from typing import Any, overload

from fetchviz.core.config import MAX_REDIRECTS, Config
from fetchviz.core.events import (
    Event,
    TaskCancelled,
    TaskFailed,
    TaskFinished,
    TasksQueued,
    TaskStarted,
)
from fetchviz.core.reasons import describe
from fetchviz.runs.phases import CURRENT, Marks

# A `with job.fetching(i) as fetch:` block left with no answer and no exception: a strategy of
# one's own that forgot its answer (it said "no response", though the server had answered).
NOT_DONE = "fetch.done(status, nbytes) was never called in its block"


class Job:
    """One run of one strategy. Safe to call from the run's thread and from pool threads.

    Every strategy plays by the same rules, so that a difference on screen is one between
    strategies, not between their clients' defaults: `timeout` is a limit on silence (how long
    connecting, or waiting for the server's next bytes, may take: what requests means by it,
    and what httpx.Timeout(t) and aiohttp's sock_connect/sock_read mean), not a deadline for
    the whole request; redirects are followed, up to `max_redirects`; an interim 1xx answer
    is never taken for the answer (see Fetch.done).

    There is no cancelling from inside: a run is cancelled by killing its process.
    """

    def __init__(
        self,
        run_id: int,
        config: Config,
        emit: Callable[[Event], None],
        emit_task: Callable[[type[Event], tuple[Any, ...]], None] | None = None,
    ) -> None:
        self.run_id = run_id
        self.config = config
        self.tasks = config.tasks
        self.url = config.url  # the first target (the only one, unless --url is repeated)
        self.urls = Targets(config)  # task i's URL is job.urls[i]
        self.timeout = config.timeout
        self.limit = config.in_flight_limit
        self.max_redirects = MAX_REDIRECTS
        self.cacert = config.cacert
        self.workers = config.workers  # a thread pool's size; None: Python's default
        self.loop = config.loop  # the event loop an async strategy runs on
        self.report = emit
        # A task's events, as (kind, fields): the run's sink sends the pair as it is (worker.py).
        self.report_task = emit_task or (lambda kind, fields: emit(kind(*fields)))
        self._fetched = bytearray(self.tasks)  # 1 where fetching(i) was entered
        # Read at every request, so worked out once: which targets are https, and the name
        # of each thread that fetches (as it was at its first request). With __exit__'s
        # short way out, the job's own cost went from 46,943 to 44,117 instructions a request
        # (callgrind, 2,000 against 22,000 fetches of a loop of `with job.fetching(i)`).
        self._https = tuple(url.startswith("https:") for url in config.targets)
        self._thread = threading.local()

    @property
    def verify(self) -> bool | str:
        """For requests' `verify=`: the system's CAs, or the --cacert file as well."""
        return self.cacert or True

    @functools.cached_property
    def ssl(self) -> bool | tls.SSLContext:
        """For httpx's `verify=` and aiohttp's `ssl=`: the clients' own default, or a context
        that trusts the --cacert file too (made once, when first asked for)."""
        if self.cacert is None:
            return True
        context = tls.create_default_context()
        context.load_verify_locations(cafile=self.cacert)
        return context

    def queue_all(self) -> range:
        """Stamp every task as created now (they wait for a thread or a slot), and list them."""
        self.report(TasksQueued(self.run_id, self.tasks, time.perf_counter()))
        return range(self.tasks)

    def fetching(self, index: int, raise_failure: bool = False) -> Fetch:
        """Wrap one request: stamps its start, and turns what it raises into a failed row.
        `raise_failure`: a failure (an exception, or a status of 400 or more) is reported and
        then raised as FetchFailed, for strategies that stop at the first (a TaskGroup).

        Each task has one row: an index out of range, or one fetched twice, is a mistake in
        the strategy (a user's own, most likely), raised as ValueError for the run to say."""
        if not 0 <= index < self.tasks:
            raise ValueError(
                f"job.fetching({index}): no such task, "
                f"the job has {self.tasks} (0 to {self.tasks - 1})"
            )
        if self._fetched[index]:
            raise ValueError(
                f"job.fetching({index}) a second time: each task is fetched once (retry inside it)"
            )
        self._fetched[index] = 1
        return Fetch(self, index, raise_failure)


class Targets(Sequence[str]):
    """Each task's URL, by index: the targets in turn (task i: URL i mod k), without a list
    of N strings."""

    __slots__ = ("_targets", "_tasks")

    def __init__(self, config: Config) -> None:
        self._targets = config.targets
        self._tasks = config.tasks

    def __len__(self) -> int:
        return self._tasks

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(self._tasks)[index]]
        if not -self._tasks <= index < self._tasks:
            raise IndexError(f"job.urls[{index}]: the job has {self._tasks} tasks")
        return self._targets[index % self._tasks % len(self._targets)]


class FetchFailed(Exception):
    """A fetch failed (its row says why already): raised where the strategy asked for it."""


class Fetch(Marks):
    """The context of one request; `done()` records the answer, an exception records why not.

    It is its own Marks: the clients stamp the request's phases on it (phases.py). One object
    a request, not two: every object alive mid-run is one more for each of the run's garbage
    collections to walk, and a full one with 1,000 connections open takes 50–90 ms.
    """

    __slots__ = ("_answered", "_ended", "_started", "_token", "index", "job", "raise_failure")

    def __init__(self, job: Job, index: int, raise_failure: bool = False) -> None:
        Marks.__init__(self)  # not super(): a lookup less, on every request
        self.job = job
        self.index = index
        self.raise_failure = raise_failure
        self._answered = False
        self._ended = False

    def __enter__(self) -> Fetch:
        job = self.job
        local = job._thread
        try:
            thread = local.name
        except AttributeError:
            thread = local.name = threading.current_thread().name
        self._started = now = perf_counter()
        job.report_task(TaskStarted, (job.run_id, self.index, now, thread))
        self._token = CURRENT.set(self)
        return self

    def _phases(self, end: float) -> tuple[float | None, ...] | None:
        https = self.job._https
        return self.phases(self._started, end, https[self.index % len(https)])

    def done(self, status: int, nbytes: int) -> None:
        """The answer: a status of 400 or more is a failure; so is an interim 1xx, which a
        client that cannot skip it (requests, through http.client) returns as if final."""
        now = perf_counter()
        if self._answered or self._ended or not hasattr(self, "_started"):
            raise ValueError(
                f"fetch.done() for task {self.index} outside its `with job.fetching(i) as fetch:`"
                " block, or a second time: one answer a task, given inside the block"
            )
        self._answered = True
        if 200 <= status < 400:
            job = self.job
            if self.sent is None and self.connect_start is None:  # the client told nothing
                phases = reused = None  # (pyreqwest): as Marks would say, two calls fewer
            else:
                phases, reused = self._phases(now), self.reused
            job.report_task(
                TaskFinished, (job.run_id, self.index, now, status, nbytes, phases, reused)
            )
            return
        if status < 200:
            reason = f"interim {status} taken for the answer (the client cannot skip 1xx)"
        else:
            reason = f"HTTP {status}"
        self.job.report_task(
            TaskFailed,
            (self.job.run_id, self.index, now, reason, status, self._phases(now), self.reused),
        )
        if self.raise_failure:
            raise FetchFailed(reason)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        try:
            CURRENT.reset(self._token)
        except ValueError:  # closed from another context (an async generator's finalizer)
            CURRENT.set(None)
        self._ended = True
        if exc is None and self._answered:  # the usual end: nothing more to say
            return False
        return self._end(exc)

    def _end(self, exc: BaseException | None) -> bool:
        if exc is None:
            if not self._answered:  # a block left without its answer: a strategy's slip
                self._fail(NOT_DONE)
                if self.raise_failure:
                    raise FetchFailed(NOT_DONE)
            return False
        if isinstance(exc, FetchFailed):  # reported already, on its way to the strategy
            return False
        if isinstance(exc, asyncio.CancelledError):  # a sibling's failure, in a TaskGroup
            if not self._answered:
                self.job.report_task(
                    TaskCancelled, (self.job.run_id, self.index, time.perf_counter())
                )
            return False
        if isinstance(exc, Exception) and self._answered:  # the answer is in: it stands
            return True
        if isinstance(exc, Exception):  # a failed fetch is a result
            reason = describe(exc, self.job.timeout, self.job.max_redirects)
            self._fail(reason)
            if self.raise_failure:
                raise FetchFailed(reason) from exc
            return True
        return False

    def _fail(self, reason: str) -> None:
        now = time.perf_counter()
        phases, reused = self._phases(now), self.reused
        self.job.report_task(
            TaskFailed, (self.job.run_id, self.index, now, reason, None, phases, reused)
        )
