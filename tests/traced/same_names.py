"""A pool of workers all named "worker", as people name them, each taking two URLs off a
queue; then one request in main(), the task asyncio.run made."""

import asyncio
import sys
import urllib.request

import aiohttp


async def worker(session, queue):
    for _ in range(2):
        url = await queue.get()
        async with session.get(url) as response:
            await response.read()


async def main(url):
    queue = asyncio.Queue()
    for _ in range(6):
        queue.put_nowait(url)
    async with aiohttp.ClientSession() as session:
        workers = [asyncio.create_task(worker(session, queue), name="worker") for _ in range(3)]
        await asyncio.gather(*workers)
    urllib.request.urlopen(url, timeout=10).read()


asyncio.run(main(sys.argv[1]))
