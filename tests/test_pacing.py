"""Frame pacing: full rate while the run waits on the network, a small share of a core while
the run keeps a core busy."""

from __future__ import annotations

from fetchviz.pacing import FramePacer


class Clock:
    """The dashboard's CPU time, moved by hand."""

    def __init__(self) -> None:
        self.cpu = 0.0

    def pacer(self, **kwargs: float) -> FramePacer:
        return FramePacer(cpu_clock=lambda: self.cpu, **kwargs)


def test_a_run_waiting_on_the_network_is_drawn_at_the_frame_rate():
    clock = Clock()
    pacer = clock.pacer(idle_budget=0.5, min_interval=1 / 60)
    for _ in range(30):
        clock.cpu += 0.006  # 6 ms frames
        pause = pacer.pause(run_busy=0.1)
    assert pause == 1 / 60


def test_a_busy_run_keeps_the_cpu_the_frames_would_take():
    clock = Clock()
    pacer = clock.pacer(budget=0.08, min_interval=1 / 60, max_interval=1.0)
    for _ in range(30):
        clock.cpu += 0.008  # 8 ms frames; the run's process uses 90 % of a core
        pause = pacer.pause(run_busy=0.9)
    assert 0.09 <= pause <= 0.11  # 8 ms at 8 % of a core: one frame each 100 ms


def test_costly_frames_keep_the_dashboard_within_its_share_of_a_core():
    clock = Clock()
    pacer = clock.pacer(idle_budget=0.1, min_interval=1 / 60, max_interval=1.0)
    for _ in range(40):
        clock.cpu += 0.02  # 20 ms frames on a slow machine
        pause = pacer.pause()
    assert 0.19 <= pause <= 0.21  # 20 ms of CPU at 10 % of a core: one frame each 200 ms


def test_pauses_stay_within_bounds_and_a_new_run_starts_afresh():
    clock = Clock()
    pacer = clock.pacer(budget=0.05, max_interval=0.25)
    for _ in range(30):
        clock.cpu += 1.0
        assert pacer.pause(run_busy=2.0) <= 0.25
    pacer.reset()
    assert pacer.frame_cost == 0.0


def test_a_busy_run_delays_the_clock_not_the_events():
    clock = Clock()
    pacer = clock.pacer(budget=0.2, min_interval=1 / 60, tick=1 / 15, max_interval=0.25)
    pause = 0.0
    for frame in range(40):
        ticked = frame % 4 == 0
        pause = pacer.pause(run_busy=0.9, ticked=ticked)
        clock.cpu += 0.008 if ticked else 0.001  # a tick repaints every row; an event, a few
    assert pause < 1 / 30  # the events still show within two frames
    assert pacer.tick_interval(run_busy=0.9) >= 0.15  # the clock moves less often
    assert pacer.tick_interval(run_busy=0.0) == 1 / 15  # and at full rate once the run waits
