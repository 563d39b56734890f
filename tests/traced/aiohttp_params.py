"""aiohttp with a base_url: paths joined to it, and a query from params=."""

import asyncio
import sys

import aiohttp
from yarl import URL


async def main(url):
    async with aiohttp.ClientSession(base_url=URL(url).origin()) as session:
        async with session.get("/delay/10", params={"page": "2"}) as response:
            await response.read()
        async with session.get("/delay/10?inline=1") as response:
            await response.read()


asyncio.run(main(sys.argv[1]))
