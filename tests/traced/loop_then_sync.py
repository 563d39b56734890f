"""A request on an asyncio loop, then a second of work with no loop running."""

import asyncio
import sys
import time

import aiohttp


async def main(url):
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        await response.read()


asyncio.run(main(sys.argv[1]))
time.sleep(1.0)  # the loop has ended: what it did is on screen already
print("done")
