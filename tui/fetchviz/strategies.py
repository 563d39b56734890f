"""The six ways to fetch N URLs. Each reads like the tutorial code it stands for, and is the
very code that runs: the dashboard shows its source.

Every strategy gets a `Job` (the URL, the limits) and wraps each request in
`job.fetching(i)`, which stamps the start and the end of the request where they happen.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import httpx
import requests

from fetchviz.job import Job


def fetch_blocking(job: Job, i: int) -> None:
    """One requests.get: the calling thread waits for the answer."""
    with job.fetching(i) as fetch:
        response = requests.get(job.url, timeout=job.timeout)
        fetch.done(response.status_code, len(response.content))


def sync(job: Job) -> None:
    for i in range(job.tasks):
        fetch_blocking(job, i)


async def async_sequential(job: Job) -> None:
    async def get(i: int) -> None:
        fetch_blocking(job, i)  # no await inside: the loop never gets a turn

    for i in range(job.tasks):
        await get(i)


async def gather_blocking(job: Job) -> None:
    async def get(i: int) -> None:
        fetch_blocking(job, i)  # blocks the event loop until the answer is in

    await asyncio.gather(*(get(i) for i in job.queue_all()))


async def executor(job: Job) -> None:
    loop = asyncio.get_running_loop()
    futures = [loop.run_in_executor(None, fetch_blocking, job, i) for i in job.queue_all()]
    await asyncio.gather(*futures)


async def httpx_client(job: Job) -> None:
    in_flight = asyncio.Semaphore(job.limit)
    limits = httpx.Limits(max_connections=job.limit)
    async with httpx.AsyncClient(timeout=job.timeout, limits=limits) as client:

        async def get(i: int) -> None:
            async with in_flight:
                with job.fetching(i) as fetch:
                    response = await client.get(job.url)
                    fetch.done(response.status_code, len(response.content))

        await asyncio.gather(*(get(i) for i in job.queue_all()))


async def aiohttp_client(job: Job) -> None:
    in_flight = asyncio.Semaphore(job.limit)
    timeout = aiohttp.ClientTimeout(total=job.timeout)
    connector = aiohttp.TCPConnector(limit=job.limit)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def get(i: int) -> None:
            async with in_flight:
                with job.fetching(i) as fetch:
                    async with session.get(job.url) as response:
                        fetch.done(response.status, len(await response.read()))

        await asyncio.gather(*(get(i) for i in job.queue_all()))


@dataclass(frozen=True, slots=True)
class Strategy:
    """A strategy as the command line, the dashboard and the docs name it."""

    id: str
    key: str
    summary: str  # one line: what the user should see, and why
    run: Callable[[Job], None] | Callable[[Job], Awaitable[None]]

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.run)

    @property
    def uses_blocking_fetch(self) -> bool:
        return self.run in (sync, async_sequential, gather_blocking, executor)

    def source(self) -> str:
        """The code that runs, helpers included, as the dashboard shows it."""
        parts = [inspect.getsource(self.run)]
        if self.uses_blocking_fetch:
            parts.insert(0, inspect.getsource(fetch_blocking))
        return "\n\n".join(part.rstrip() for part in parts)


STRATEGIES: tuple[Strategy, ...] = (
    Strategy("sync", "1", "a plain for loop of requests.get, one by one: the baseline", sync),
    Strategy(
        "async-sequential",
        "2",
        "async def around requests.get, awaited in turn: no faster",
        async_sequential,
    ),
    Strategy(
        "gather-blocking",
        "3",
        "gather over blocking calls: a staircase, the loop stuck",
        gather_blocking,
    ),
    Strategy(
        "executor",
        "4",
        "run_in_executor: threads, in waves of the pool's size",
        executor,
    ),
    Strategy(
        "httpx",
        "5",
        "one httpx.AsyncClient; slows sharply with many in flight",
        httpx_client,
    ),
    Strategy(
        "aiohttp",
        "6",
        "one aiohttp.ClientSession: one thread, the fastest",
        aiohttp_client,
    ),
)

BY_ID: dict[str, Strategy] = {strategy.id: strategy for strategy in STRATEGIES}
