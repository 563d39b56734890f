"""uvloop's loop: five aiohttp requests at once, then the loop blocked, then one named task."""

import asyncio
import sys
import time

import aiohttp
import uvloop


async def fetch(session, url):
    async with session.get(url) as response:
        await response.read()


async def main(url):
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(fetch(session, url) for _ in range(5)))
        time.sleep(0.5)  # blocks the loop
        await asyncio.create_task(fetch(session, url), name="last")


uvloop.run(main(sys.argv[1]))
