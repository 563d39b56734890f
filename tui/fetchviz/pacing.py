"""How often the dashboard may draw while a run goes.

Every frame the dashboard draws takes the GIL from the fetches it measures: a Textual frame of
a full screen costs milliseconds of Python. When the run's threads are busy with Python (1,000
aiohttp requests at once), frames are paced to keep the dashboard's own CPU under a small
share of the time; when they mostly wait on the network, the dashboard draws at full rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable

BUSY = 0.5  # the run's threads use more than half a core: they want the GIL


class FramePacer:
    """Measures the CPU of the UI thread and of the rest; says how long to wait to draw."""

    def __init__(
        self,
        budget: float = 0.08,
        idle_budget: float = 0.5,
        min_interval: float = 1 / 30,
        max_interval: float = 0.25,
        ui_clock: Callable[[], float] = time.thread_time,
        process_clock: Callable[[], float] = time.process_time,
        wall_clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.budget = budget
        self.idle_budget = idle_budget
        self.min_interval = min_interval
        self.max_interval = max_interval
        self._clocks = (ui_clock, process_clock, wall_clock)
        self.frame_cost = 0.0  # a moving average of the UI's CPU per frame, seconds
        self.others_share = 0.0  # the other threads' CPU, in cores
        self.reset()

    def _read(self) -> tuple[float, float, float]:
        ui, process, wall = self._clocks
        return ui(), process(), wall()

    def reset(self) -> None:
        """A new run: what the UI spent before it (start-up, the last run) does not count."""
        self._last = self._read()
        self.frame_cost = 0.0
        self.others_share = 0.0

    def pause(self) -> float:
        """Seconds to wait from now before the next frame. Called once per frame."""
        now = self._read()
        ui, process, wall = (b - a for a, b in zip(self._last, now, strict=True))
        self._last = now
        self.frame_cost = 0.7 * self.frame_cost + 0.3 * ui
        if wall > 0:
            self.others_share = 0.7 * self.others_share + 0.3 * max(0.0, process - ui) / wall
        budget = self.budget if self.others_share > BUSY else self.idle_budget
        return min(self.max_interval, max(self.min_interval, self.frame_cost / budget))
