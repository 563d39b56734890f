"""The eight ways to fetch N URLs. Each reads like the tutorial code it stands for, and is the
very code that runs: the dashboard shows its source (catalog.py names them).

Every strategy gets a `Job` (the URL, the limits) and wraps each request in
`job.fetching(i)`, which stamps the start and the end of the request where they happen.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import httpx
import requests

from fetchviz.runs.job import FetchFailed, Job


def fetch_blocking(job: Job, i: int) -> None:
    """One requests.get: the calling thread waits for the answer.

    requests follows up to 30 redirects (job.max_redirects) and times out on silence."""
    with job.fetching(i) as fetch:
        response = requests.get(job.urls[i], timeout=job.timeout, verify=job.verify)
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
    async with httpx.AsyncClient(
        timeout=job.timeout,  # connect, and each read: a limit on silence, as in requests
        limits=limits,
        verify=job.ssl,  # the --cacert, if any, as every client trusts it
        follow_redirects=True,  # as requests and aiohttp do
        max_redirects=job.max_redirects,
    ) as client:

        async def get(i: int) -> None:
            async with in_flight:
                with job.fetching(i) as fetch:
                    response = await client.get(job.urls[i])
                    fetch.done(response.status_code, len(response.content))

        await asyncio.gather(*(get(i) for i in job.queue_all()))


async def aiohttp_client(job: Job) -> None:
    in_flight = asyncio.Semaphore(job.limit)
    # A limit on silence, as in requests: no deadline for the whole request (total=None).
    timeout = aiohttp.ClientTimeout(sock_connect=job.timeout, sock_read=job.timeout)
    connector = aiohttp.TCPConnector(limit=job.limit, ssl=job.ssl)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def get(i: int) -> None:
            async with in_flight:
                with job.fetching(i) as fetch:
                    async with session.get(
                        job.urls[i], max_redirects=job.max_redirects
                    ) as response:
                        fetch.done(response.status, len(await response.read()))

        await asyncio.gather(*(get(i) for i in job.queue_all()))


async def taskgroup(job: Job) -> None:
    # A limit on silence, as in requests: no deadline for the whole request (total=None).
    timeout = aiohttp.ClientTimeout(sock_connect=job.timeout, sock_read=job.timeout)
    connector = aiohttp.TCPConnector(limit=job.limit, ssl=job.ssl)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def get(i: int) -> None:
            with job.fetching(i, raise_failure=True) as fetch:  # a failure is raised
                async with session.get(job.urls[i], max_redirects=job.max_redirects) as response:
                    fetch.done(response.status, len(await response.read()))

        try:
            async with asyncio.TaskGroup() as group:  # structured: all end here, together
                for i in job.queue_all():
                    group.create_task(get(i))
        except* FetchFailed:
            pass  # the first failure cancelled the rest: their rows say Cancelled


def threads(job: Job) -> None:
    with ThreadPoolExecutor(max_workers=job.workers) as pool:  # no asyncio at all
        list(pool.map(lambda i: fetch_blocking(job, i), job.queue_all()))
