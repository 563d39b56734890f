"""A strategy of your own: `fetchviz -s examples/bounded.py:bounded`.

aiohttp, with at most ten requests in flight, held by an asyncio.Semaphore: watch the rows
start ten at a time. Edit LIMIT, press `r` in the dashboard, and the next run uses the new one.
"""

import asyncio

import aiohttp

LIMIT = 10


async def bounded(job):
    """aiohttp behind a Semaphore: never more than ten in flight"""
    in_flight = asyncio.Semaphore(LIMIT)
    timeout = aiohttp.ClientTimeout(sock_connect=job.timeout, sock_read=job.timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def get(i):
            async with in_flight:
                with job.fetching(i) as fetch:
                    async with session.get(job.urls[i], ssl=job.ssl) as response:
                        fetch.done(response.status, len(await response.read()))

        await asyncio.gather(*(get(i) for i in job.queue_all()))
