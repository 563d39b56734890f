"""How often the dashboard may draw while a run goes.

The run happens in a process of its own, so frames no longer take the GIL from it; but they
take CPU, and on a small machine the run, the latency server and the dashboard share a few
cores. While the run waits on the network, frames come at full rate. While the run's process
keeps a core busy (1,000 aiohttp requests at once, with the server busy on the other core),
every frame drawn is CPU taken from the run being measured: frames are then paced to keep
the dashboard under a small share of one core.

Frames are of two kinds, paced apart. An event frame shows what events changed (a row that
started, the counts): it costs what changed, a millisecond or two, and comes as soon as the
budget allows, because how late an event shows is what the viewer sees. A tick moves the clock:
every row in flight grows its bar, a screenful of lines; it is the costly kind, and when the
run is busy it is the one that waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class FramePacer:
    """Keeps the dashboard's CPU within a share of one core; says when the next frame may come.

    A balance of CPU time: it grows by the budget's share of each second waited, up to a small
    burst, and shrinks by what each frame cost (drawing it, and the events applied for it).
    A cheap frame comes at the full rate; a costly one is paid back by waiting before the next.
    """

    BUSY = 0.3  # the run's process keeps a third of a core busy: it wants the CPU

    def __init__(
        self,
        budget: float = 0.25,
        idle_budget: float = 0.5,
        min_interval: float = 1 / 60,
        tick: float = 1 / 15,
        max_interval: float = 0.25,
        tick_share: float = 0.25,
        burst: float = 0.005,
        cpu_clock: Callable[[], float] = time.process_time,
        wall_clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.budget = budget  # the share of one core the dashboard may take from a busy run
        self.idle_budget = idle_budget  # and from a run that waits on the network
        self.min_interval = min_interval  # between frames
        self.tick = tick  # between ticks, at the least
        self.max_interval = max_interval  # between frames, and between ticks, at the most
        self.tick_share = tick_share  # of the budget, for ticks: they are drawn last
        self.burst = burst  # CPU that may be spent at once after a quiet spell, seconds
        self._cpu_clock = cpu_clock
        self._wall_clock = wall_clock
        self.reset()

    def reset(self) -> None:
        """A new run: what the dashboard spent before it (start-up, the last run) does not count."""
        self._last = (self._cpu_clock(), self._wall_clock())
        self._last_ticked = False
        self.balance = 0.0  # CPU that may be spent now, seconds; below zero, what is owed
        self.tick_cost = 0.0  # a moving average of the CPU a tick costs, seconds

    def pause(self, run_busy: float = 0.0, ticked: bool = False) -> float:
        """Seconds from the start of this frame to the next. Called once per frame (`ticked`:
        this one moved the clock), with the run's CPU lately, in cores."""
        cpu, wall = self._cpu_clock(), self._wall_clock()
        spent, waited = cpu - self._last[0], wall - self._last[1]
        self._last = (cpu, wall)
        if self._last_ticked:  # what was spent since the last call was that tick's cost
            self.tick_cost = 0.7 * self.tick_cost + 0.3 * spent
        self._last_ticked = ticked
        budget = self._budget(run_busy)
        self.balance = min(self.burst, self.balance + budget * waited - spent)
        return self._clamp(max(0.0, -self.balance) / budget, self.min_interval)

    def tick_interval(self, run_busy: float = 0.0) -> float:
        """Seconds between two moves of the clock on screen."""
        if run_busy > self.BUSY:
            return self._clamp(self.tick_cost / (self.budget * self.tick_share), self.tick)
        return self._clamp(self.tick_cost / self.idle_budget, self.tick)

    def _budget(self, run_busy: float) -> float:
        return self.budget if run_busy > self.BUSY else self.idle_budget

    def _clamp(self, interval: float, least: float) -> float:
        return min(self.max_interval, max(least, interval))
