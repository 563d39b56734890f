"""Frame pacing keeps the dashboard's CPU within its budget while a run goes."""

from __future__ import annotations

from fetchviz.pacing import FramePacer


class FakeCPU:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_cheap_frames_run_at_the_frame_rate():
    cpu = FakeCPU()
    pacer = FramePacer(budget=0.1, min_interval=1 / 30, cpu_clock=cpu)
    for _ in range(20):
        cpu.now += 0.0005  # half a millisecond a frame
        assert pacer.pause() == 1 / 30


def test_costly_frames_are_spaced_to_stay_in_budget():
    cpu = FakeCPU()
    pacer = FramePacer(budget=0.1, min_interval=1 / 30, max_interval=1.0, cpu_clock=cpu)
    for _ in range(30):
        cpu.now += 0.02  # 20 ms a frame: 10% of the time means one frame each 200 ms
        pause = pacer.pause()
    assert 0.19 <= pause <= 0.21


def test_pauses_never_exceed_the_slowest_frame_rate():
    cpu = FakeCPU()
    pacer = FramePacer(budget=0.05, max_interval=0.25, cpu_clock=cpu)
    for _ in range(30):
        cpu.now += 1.0
        assert pacer.pause() <= 0.25
