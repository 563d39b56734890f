"""Frame pacing: full rate while the run waits on the network, a small CPU share while its
threads want the GIL."""

from __future__ import annotations

from fetchviz.pacing import FramePacer


class Clocks:
    """The UI thread's CPU, the whole process's CPU, and the wall clock, moved by hand."""

    def __init__(self) -> None:
        self.ui = self.process = self.wall = 0.0

    def frame(self, ui: float, others: float, wall: float) -> None:
        self.ui += ui
        self.process += ui + others
        self.wall += wall

    def pacer(self, **kwargs: float) -> FramePacer:
        return FramePacer(
            ui_clock=lambda: self.ui,
            process_clock=lambda: self.process,
            wall_clock=lambda: self.wall,
            **kwargs,
        )


def test_a_run_waiting_on_the_network_is_drawn_at_the_frame_rate():
    clocks = Clocks()
    pacer = clocks.pacer(min_interval=1 / 30)
    for _ in range(30):
        clocks.frame(ui=0.008, others=0.002, wall=1 / 30)  # 8 ms frames, an idle runner
        pause = pacer.pause()
    assert pause == 1 / 30


def test_a_busy_run_gets_the_gil_the_frames_would_take():
    clocks = Clocks()
    pacer = clocks.pacer(budget=0.1, min_interval=1 / 30, max_interval=1.0)
    for _ in range(40):
        clocks.frame(ui=0.02, others=0.18, wall=0.2)  # the runner uses 90% of a core
        pause = pacer.pause()
    assert 0.19 <= pause <= 0.21  # 20 ms frames at 10% of the time: one each 200 ms


def test_pauses_stay_within_bounds():
    clocks = Clocks()
    pacer = clocks.pacer(budget=0.05, max_interval=0.25)
    for _ in range(30):
        clocks.frame(ui=1.0, others=1.0, wall=1.0)
        assert pacer.pause() <= 0.25
    pacer.reset()
    assert pacer.frame_cost == 0.0
