"""Shared fixtures: one embedded latency server for the whole session, on loopback."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator

import pytest

from fetchviz.core.catalog import BY_ID
from fetchviz.core.config import Config
from fetchviz.core.events import Event
from fetchviz.core.model import RunState
from fetchviz.runs.headless import run_all
from fetchviz.runs.job import Job
from fetchviz.runs.server import EmbeddedServer
from fetchviz.runs.worker import execute

DELAY_MS = 40  # short, so the suite stays fast; long enough to tell a staircase from a column


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl+C as a terminal gives it: a suite started in the background (`pytest &` from a
    script) has SIGINT ignored, and every command a test starts inherits that, so the tests
    that stop one with SIGINT failed there (it ran on to its end)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def no_user_keymap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test meets the keymap of whoever runs it: $XDG_CONFIG_HOME is an empty folder (the
    commands a test starts inherit it)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        yield


@pytest.fixture(scope="session")
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(delay_ms=DELAY_MS) as embedded:
        embedded.wait_ready()
        yield embedded


def config_for(server: EmbeddedServer, **overrides: object) -> Config:
    settings: dict[str, object] = {"tasks": 6, "url": server.url(), "delay_ms": DELAY_MS}
    settings.update(overrides)
    return Config(**settings)  # type: ignore[arg-type]


def run_one(config: Config, strategy: str) -> RunState:
    """One run, to its end, with no sync sample after it: the tests that use this ask nothing
    of the baseline, and a sample against a slow fault (a drip) took three times the run."""
    return asyncio.run(run_all(config, [BY_ID[strategy]], sample=False))[0]


def run_here(config: Config, strategy: str) -> RunState:
    """The strategy run in this process, as the run's process runs it: a test can patch it."""
    events: list[Event] = []
    finished = execute(BY_ID[strategy], Job(1, config, events.append), config.workers)
    run = RunState.new(1, strategy, config.tasks, BY_ID[strategy].is_async)
    for event in [*events, finished]:
        run.apply(event)
    return run
