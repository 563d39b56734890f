"""Benchmark: N aiohttp requests at once on one unlimited session; prints the elapsed time."""

import asyncio
import sys
import time

import aiohttp


async def fetch(session, url):
    async with session.get(url) as resp:
        await resp.read()


async def main(url, count):
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(fetch(session, url) for _ in range(count)))


started = time.perf_counter()
asyncio.run(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000))
print(f"elapsed {time.perf_counter() - started:.4f}")
