"""How often the dashboard may draw while a run goes.

The run happens in a process of its own, so frames no longer take the GIL from it; but they
take CPU, and on a small machine the run, the latency server and the dashboard share a few
cores. Frames are paced so that the dashboard's own CPU stays under a share of one core,
whatever a frame costs on this machine and this screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class FramePacer:
    """Measures the dashboard's CPU per frame; says how long to wait before the next one."""

    def __init__(
        self,
        budget: float = 0.5,
        min_interval: float = 1 / 60,
        max_interval: float = 0.25,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        self.budget = budget  # the share of one core the dashboard may use while a run goes
        self.min_interval = min_interval
        self.max_interval = max_interval
        self._cpu_clock = cpu_clock
        self.frame_cost = 0.0  # a moving average of the CPU per frame, seconds
        self.reset()

    def reset(self) -> None:
        """A new run: what the dashboard spent before it (start-up, the last run) does not count."""
        self._last = self._cpu_clock()
        self.frame_cost = 0.0

    def pause(self) -> float:
        """Seconds from the start of this frame to the next. Called once per frame."""
        now = self._cpu_clock()
        self.frame_cost = 0.7 * self.frame_cost + 0.3 * (now - self._last)
        self._last = now
        return min(self.max_interval, max(self.min_interval, self.frame_cost / self.budget))
