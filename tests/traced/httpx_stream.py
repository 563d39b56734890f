"""httpx: a streamed answer (Client.stream hands send its request as `request=`), sync and async."""

import asyncio
import sys

import httpx


async def main(url):
    async with httpx.AsyncClient(timeout=10) as client, client.stream("GET", url) as response:
        return len(await response.aread())


url = sys.argv[1]
with httpx.Client(timeout=10) as client, client.stream("GET", url) as response:
    size = len(response.read())
print(f"sync: {size}, async: {asyncio.run(main(url))}")
