"""Process-wide settings of fetchviz's own process, made here and nowhere else, and undone when
no longer needed: the environment Textual reads, the garbage collector, signal handlers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
from collections.abc import Callable, Iterator

# Textual composes a frame on its screen timer, whose period is 1/TEXTUAL_FPS (60 by default);
# after each frame it sleeps one to two periods before it can compose the next, so a redraw
# that comes then waits. The dashboard paces its own frames (app.FRAME, pacing.py): a finer
# timer only shows each redraw sooner (event → screen p50 18.8 → 16.7 ms at N = 1,000,
# docs/performance.md), not more often. A user's own setting wins.
TEXTUAL_FPS = "1000"


@contextlib.contextmanager
def dashboard_settings() -> Iterator[None]:
    """For as long as the dashboard runs; enter it before Textual is imported (it reads its
    environment then)."""
    before = os.environ.get("TEXTUAL_FPS")
    os.environ.setdefault("TEXTUAL_FPS", TEXTUAL_FPS)
    try:
        with collection_deferred():
            yield
    finally:
        release_memory()
        if before is None:
            os.environ.pop("TEXTUAL_FPS", None)
        else:
            os.environ["TEXTUAL_FPS"] = before


# Set while collection_deferred() holds the collector off, until the first frame is up.
_deferred = False


@contextlib.contextmanager
def collection_deferred() -> Iterator[None]:
    """From launch to the first frame, no garbage collection: what startup makes (Textual's
    modules, the CSS, the widgets) lives as long as the process, so collecting it frees
    nothing, and it took 48 ms of a 0.52 s first frame (100 young and two full collections;
    docs/performance.md). `resume_collection()` ends it once the frame is up, or the way out
    does. Nested, the outer one ends it."""
    global _deferred
    if _deferred or not gc.isenabled():  # already off: whoever turned it off turns it on
        yield
        return
    gc.disable()
    _deferred = True
    try:
        yield
    finally:
        if _deferred:
            _deferred = False
            gc.enable()


def resume_collection() -> None:
    """The first frame is up: what startup made is set out of the collector's sight as it is
    (there is little garbage in it to look for), and collection resumes."""
    global _deferred
    if _deferred:
        _deferred = False
        gc.freeze()
        gc.enable()


def settle_memory() -> None:
    """Before a run: collect what earlier runs left, and set what lives on (Textual, the
    widgets, the history) out of the collector's sight, so that a collection during the run
    walks only what the run makes (with the last run's rows in sight, one took 16 ms mid-run).
    Before the first run nothing has been collected since launch, and nothing needs to be: a
    full collection then took 22-30 ms, just before the first frame."""
    if _deferred:
        resume_collection()
        return
    gc.collect()
    gc.freeze()


def release_memory() -> None:
    """After a run: what was frozen is the collector's again (a run's rows, once the history
    lets them go, must be collectable)."""
    gc.unfreeze()


def on_signal(signum: int, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` on the running loop when `signum` comes; returns what undoes it (the
    handler before is put back). A no-op where the loop cannot take signals (Windows)."""
    loop = asyncio.get_running_loop()
    before = signal.getsignal(signum)
    try:
        loop.add_signal_handler(signum, callback)
    except (NotImplementedError, RuntimeError):
        return lambda: None

    def undo() -> None:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signum)
            signal.signal(signum, before)

    return undo


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """SIGTERM unwinds like an exception (through the `finally` that stops the server), with
    the exit code a shell expects, 128 + 15."""

    def on_sigterm(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    before = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)
