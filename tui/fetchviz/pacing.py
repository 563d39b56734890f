"""How often the dashboard may draw while a run goes.

Every frame the dashboard draws takes the GIL from the fetches it measures: a Textual frame of
a full screen costs milliseconds of Python. So frames are paced to keep the dashboard's own CPU
under a fixed share of the wall time, and never faster than the frame rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class FramePacer:
    """Measures the UI thread's CPU per frame and says how long to wait before the next."""

    def __init__(
        self,
        budget: float = 0.08,
        min_interval: float = 1 / 30,
        max_interval: float = 0.25,
        cpu_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.budget = budget
        self.min_interval = min_interval
        self.max_interval = max_interval
        self._cpu_clock = cpu_clock
        self._cpu = cpu_clock()
        self.frame_cost = 0.0  # a moving average of the CPU one frame took, seconds

    def pause(self) -> float:
        """Seconds to wait from now: the CPU of a frame, stretched so it stays in budget.

        Called once per frame; a frame's CPU is all the UI thread did since the last call
        (applying events, Textual's compositor, timers).
        """
        cpu = self._cpu_clock()
        spent, self._cpu = cpu - self._cpu, cpu
        self.frame_cost = 0.7 * self.frame_cost + 0.3 * spent
        return min(self.max_interval, max(self.min_interval, self.frame_cost / self.budget))
