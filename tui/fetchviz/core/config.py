"""The settings of a run, fixed once the command line is read."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

DEFAULT_TASKS = 10
DEFAULT_DELAY_MS = 500
DEFAULT_TIMEOUT = 10.0
MAX_TASKS = 100_000
# Every client follows redirects, up to this many: requests' own limit, which `requests.get`
# offers no way to change; httpx and aiohttp are told the same (tests check all three).
MAX_REDIRECTS = 30

BaselineKey = tuple[int, tuple[str, ...], float, str | None]  # what a sync run's time depends on
SampleKey = tuple[tuple[str, ...], float, str | None]  # and one sequential request's


@dataclass(frozen=True, slots=True)
class Config:
    """What every strategy of a run shares: how many fetches, of what, with which limits."""

    tasks: int = DEFAULT_TASKS
    url: str = ""  # the first target; the only one unless `urls` names more
    urls: tuple[str, ...] = ()  # every target (--url repeated, --urls): task i gets i mod k
    delay_ms: int | None = DEFAULT_DELAY_MS  # None when --url names a server of the user's
    jitter_ms: int = 0
    timeout: float = DEFAULT_TIMEOUT
    workers: int | None = None  # None: the event loop's default executor
    limit: int | None = None  # None: as many in flight as there are tasks
    cacert: str | None = None  # a CA file every client trusts besides the system's (--cacert)
    loop: str = "asyncio"  # the asyncio strategies' event loop: "asyncio" or "uvloop" (--loop)

    @property
    def targets(self) -> tuple[str, ...]:
        """The URLs the tasks fetch, in turn: task i fetches targets[i % len(targets)]."""
        return self.urls or (self.url,)

    def target(self, index: int) -> str:
        targets = self.targets
        return targets[index % len(targets)]

    def used_targets(self) -> tuple[str, ...]:
        """The targets some task fetches: N tasks over more URLs than N use the first N."""
        return self.targets[: self.tasks]

    @property
    def in_flight_limit(self) -> int:
        """The async clients' concurrency bound: --limit, or every task at once."""
        return self.limit if self.limit is not None else self.tasks

    def to_json(self) -> dict[str, Any]:
        """The settings as every JSON prints them (--json, replay --json, the sweep's): every
        field, so that none is left out; `urls` is every target, the first one alone too."""
        settings = {field.name: getattr(self, field.name) for field in fields(self)}
        settings["urls"] = list(self.targets)
        return settings

    def with_tasks(self, tasks: int) -> Config:
        return replace(self, tasks=max(1, min(MAX_TASKS, tasks)))

    def baseline_key(self) -> BaselineKey:
        """What a sync run's elapsed time depends on: two configs with the same key share it."""
        return (self.tasks, self.targets, self.timeout, self.cacert)

    def sample_key(self) -> SampleKey:
        """What one sequential request's time depends on (not N: the estimate scales it)."""
        return (self.used_targets(), self.timeout, self.cacert)
