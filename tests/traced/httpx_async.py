"""httpx: N requests gathered on one AsyncClient, then one plain synchronous httpx.get."""

import asyncio
import sys

import httpx


async def main(url, count):
    async with httpx.AsyncClient(timeout=10) as client:
        responses = await asyncio.gather(*(client.get(url) for _ in range(count)))
    return [r.status_code for r in responses]


url = sys.argv[1]
statuses = asyncio.run(main(url, int(sys.argv[2]) if len(sys.argv) > 2 else 5))
last = httpx.get(url, timeout=10)
print(f"async: {statuses}, sync: {last.status_code}")
