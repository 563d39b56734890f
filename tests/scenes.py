"""The recorded scenes (tests/recordings, made by scripts/record_scenes.py), replayed to their
end in the real dashboard: screens that do not depend on wall-clock luck."""

from __future__ import annotations

import time
from pathlib import Path

from textual.pilot import Pilot

from fetchviz.records.recording import read_recording
from fetchviz.records.replay import ReplaySource
from fetchviz.ui.app import FetchvizApp
from fetchviz.ui.launch import replay_app

RECORDINGS = Path(__file__).resolve().parent / "recordings"


def scene(name: str, theme: str | None = None) -> FetchvizApp:
    """The dashboard, about to replay a recorded scene."""
    recording = read_recording(RECORDINGS / f"{name}.jsonl.gz")
    source = ReplaySource(recording, speed=10)
    return replay_app(source, theme=theme)


async def play_to_end(pilot: Pilot[int]) -> None:
    """Every run of the recording, each at once (→), to the end of the last."""
    app = pilot.app
    assert isinstance(app, FetchvizApp) and app.session.replay is not None
    last = len(app.session.replay.recording.runs) - 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        playing = app.session.replay.current
        if playing is not None:
            playing.finish()
            if (
                playing.index == last
                and app.session.current is not None
                and app.session.current.closed
            ):
                break
        await pilot.pause(0.02)
    await pilot.pause(0.1)  # the last frame drawn
