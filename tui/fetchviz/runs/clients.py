"""The clients people choose between today, beside the tutorial's: pydantic's httpx2, Rust's
reqwest (pyreqwest), and libcurl (curl_cffi). Each reads like the built-ins in strategies.py
and is the code that runs, under the same rules: a limit on silence, 30 redirects, --limit,
--cacert. They come with `pip install 'fetchviz[clients]'`; without it, this module is not
imported (catalog.Strategy.installed says so first).
"""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta
from pathlib import Path

import httpx2
from curl_cffi import AsyncSession, CurlOpt
from pyreqwest.client import ClientBuilder

from fetchviz.runs.job import Job


async def httpx2_client(job: Job) -> None:
    in_flight = asyncio.Semaphore(job.limit)
    limits = httpx2.Limits(max_connections=job.limit)
    async with httpx2.AsyncClient(
        timeout=job.timeout,  # connect, and each read: a limit on silence, as in requests
        limits=limits,
        verify=job.ssl,  # the --cacert, if any, as every client trusts it
        follow_redirects=True,
        max_redirects=job.max_redirects,
    ) as client:

        async def get(i: int) -> None:
            async with in_flight:
                with job.fetching(i) as fetch:
                    response = await client.get(job.urls[i])
                    fetch.done(response.status_code, len(response.content))

        await asyncio.gather(*(get(i) for i in job.queue_all()))


async def pyreqwest_client(job: Job) -> None:
    silence = timedelta(seconds=job.timeout)
    builder = (
        ClientBuilder()
        .connect_timeout(silence)
        .read_timeout(silence)  # reset by every read: a limit on silence, not a deadline
        .max_connections(job.limit)  # its own pool's bound: in flight at once
        .max_redirects(job.max_redirects)
    )
    if job.cacert is not None:  # trusted besides the system's
        builder = builder.add_root_certificate_pem(Path(job.cacert).read_bytes())
    async with builder.build() as client:  # its requests run on reqwest's own threads

        async def get(i: int) -> None:
            with job.fetching(i) as fetch:
                response = await client.get(job.urls[i]).build().send()
                fetch.done(response.status, len(await response.bytes()))

        await asyncio.gather(*(get(i) for i in job.queue_all()))


async def curl_cffi_client(job: Job) -> None:
    in_flight = asyncio.Semaphore(job.limit)
    async with AsyncSession(
        max_clients=job.limit,  # libcurl's handles in flight at once (its default: 10)
        # Its timeout is a deadline for the whole request (None: none; its stubs say float
        # only): a limit on silence instead, as libcurl has one.
        timeout=None,  # type: ignore[arg-type]
        curl_options={
            # Whole seconds too: libcurl starts its silence clock at its first check, which a
            # connect timeout of 0.5 s put 0.5 s in: --timeout 0.5 waited 1.5 s, not 1.
            CurlOpt.CONNECTTIMEOUT_MS: math.ceil(job.timeout) * 1000,
            CurlOpt.LOW_SPEED_LIMIT: 1,  # under 1 byte a second, for whole seconds:
            CurlOpt.LOW_SPEED_TIME: math.ceil(job.timeout),  # never less than asked
        },
        max_redirects=job.max_redirects,
        verify=job.verify,  # type: ignore[arg-type]  # as requests takes it: a CA file too
    ) as session:

        async def get(i: int) -> None:
            # As httpx2's: a task starts when it has a slot. max_clients alone held it inside
            # session.get, so under --limit its row counted the wait as the request's own.
            async with in_flight:
                with job.fetching(i) as fetch:
                    response = await session.get(job.urls[i])
                    fetch.done(response.status_code, len(response.content))

        await asyncio.gather(*(get(i) for i in job.queue_all()))
