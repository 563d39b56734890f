"""How often the dashboard may draw while a run goes.

The run happens in a process of its own, so frames no longer take the GIL from it; but they
take CPU, and on a small machine the run, the latency server and the dashboard share a few
cores. While the run waits on the network, frames come at full rate. While the run's process
keeps a core busy (1,000 aiohttp requests at once, with the server busy on the other core),
every frame drawn is CPU taken from the run being measured: frames are then paced to keep
the dashboard under a small share of one core.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class FramePacer:
    """Measures the dashboard's CPU per frame; says how long to wait before the next one."""

    BUSY = 0.3  # the run's process keeps a third of a core busy: it wants the CPU

    def __init__(
        self,
        budget: float = 0.12,
        idle_budget: float = 0.5,
        min_interval: float = 1 / 60,
        max_interval: float = 0.25,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        self.budget = budget  # the share of one core the dashboard may take from a busy run
        self.idle_budget = idle_budget  # and from a run that waits on the network
        self.min_interval = min_interval
        self.max_interval = max_interval
        self._cpu_clock = cpu_clock
        self.frame_cost = 0.0  # a moving average of the CPU per frame, seconds
        self.reset()

    def reset(self) -> None:
        """A new run: what the dashboard spent before it (start-up, the last run) does not count."""
        self._last = self._cpu_clock()
        self.frame_cost = 0.0

    def pause(self, run_busy: float = 0.0) -> float:
        """Seconds from the start of this frame to the next. Called once per frame, with the
        run's CPU lately, in cores."""
        now = self._cpu_clock()
        self.frame_cost = 0.7 * self.frame_cost + 0.3 * (now - self._last)
        self._last = now
        budget = self.budget if run_busy > self.BUSY else self.idle_budget
        return min(self.max_interval, max(self.min_interval, self.frame_cost / budget))
