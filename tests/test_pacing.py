"""Frame pacing: full rate while the run waits on the network, a small share of a core while
the run keeps a core busy."""

from __future__ import annotations

from fetchviz.ui.pacing import FramePacer


class Clock:
    """The dashboard's CPU time and the wall clock, moved by hand."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = 0.0

    def pacer(self, **kwargs: float) -> FramePacer:
        return FramePacer(cpu_clock=lambda: self.cpu, wall_clock=lambda: self.wall, **kwargs)

    def frames(self, pacer: FramePacer, costs: list[float], run_busy: float = 0.0) -> float:
        """Draw frames costing `costs` of CPU each, each when the pacer says; the last pause."""
        pause = 0.0
        for cost in costs:
            self.cpu += cost
            pause = pacer.pause(run_busy)
            self.wall += pause
        return pause


def test_a_run_waiting_on_the_network_is_drawn_at_the_frame_rate():
    clock = Clock()
    pacer = clock.pacer(idle_budget=0.5, min_interval=1 / 60)
    assert clock.frames(pacer, [0.006] * 30, run_busy=0.1) == 1 / 60  # 6 ms frames


def test_a_busy_run_keeps_the_cpu_the_frames_would_take():
    clock = Clock()
    pacer = clock.pacer(budget=0.08, min_interval=1 / 60, max_interval=1.0)
    # 8 ms frames, while the run's process uses 90 % of a core
    pause = clock.frames(pacer, [0.008] * 30, run_busy=0.9)
    assert 0.09 <= pause <= 0.11  # 8 ms at 8 % of a core: one frame each 100 ms
    assert clock.cpu / clock.wall <= 0.085


def test_costly_frames_keep_the_dashboard_within_its_share_of_a_core():
    clock = Clock()
    pacer = clock.pacer(idle_budget=0.1, min_interval=1 / 60, max_interval=1.0)
    pause = clock.frames(pacer, [0.02] * 40)  # 20 ms frames on a slow machine
    assert 0.19 <= pause <= 0.21  # 20 ms of CPU at 10 % of a core: one frame each 200 ms


def test_cheap_frames_come_at_once_and_a_costly_one_is_paid_for_after():
    clock = Clock()
    pacer = clock.pacer(budget=0.2, min_interval=1 / 60, max_interval=1.0)
    assert clock.frames(pacer, [0.001] * 20, run_busy=0.9) == 1 / 60  # an event, a few lines
    after_tick = clock.frames(pacer, [0.020], run_busy=0.9)  # a tick: every row repainted
    assert 0.04 < after_tick <= 0.020 / 0.2
    assert clock.frames(pacer, [0.001] * 3, run_busy=0.9) == 1 / 60  # paid: full rate again


def test_pauses_stay_within_bounds_and_a_new_run_starts_afresh():
    clock = Clock()
    pacer = clock.pacer(budget=0.05, max_interval=0.25)
    assert clock.frames(pacer, [1.0] * 30, run_busy=2.0) <= 0.25
    pacer.reset()
    assert pacer.balance == 0.0 and pacer.tick_cost == 0.0


def test_a_busy_run_moves_the_clock_less_often():
    clock = Clock()
    pacer = clock.pacer(budget=0.2, min_interval=1 / 60, tick=1 / 15, max_interval=0.25)
    for frame in range(40):
        ticked = frame % 4 == 0
        clock.wall += pacer.pause(run_busy=0.9, ticked=ticked)
        clock.cpu += 0.008 if ticked else 0.001  # a tick repaints every row; an event, a few
    assert pacer.tick_interval(run_busy=0.9) >= 0.15  # 8 ms at a quarter of 20 % of a core
    assert pacer.tick_interval(run_busy=0.0) == 1 / 15  # at full rate once the run waits
