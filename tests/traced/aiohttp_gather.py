"""One aiohttp session, N named tasks fetching at once, gathered."""

import asyncio
import sys

import aiohttp


async def fetch(session, url):
    async with session.get(url) as resp:
        body = await resp.read()
        return resp.status, len(body)


async def main(url, count):
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        tasks = [asyncio.create_task(fetch(session, url), name=f"fetch-{i}") for i in range(count)]
        results = await asyncio.gather(*tasks)
    statuses = sorted({status for status, _ in results})
    print(f"{len(results)} responses, statuses {statuses}, {sum(n for _, n in results)} bytes")


asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20))
