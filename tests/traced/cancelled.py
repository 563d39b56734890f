"""Four aiohttp requests, one to a URL that refuses, three to a slow URL given 0.3 s by
asyncio.wait_for: the three are cancelled in flight."""

import asyncio
import sys

import aiohttp


async def main(slow: str) -> None:
    async with aiohttp.ClientSession() as session:

        async def get(url: str) -> int:
            async with session.get(url) as response:
                return response.status

        try:
            await get("http://127.0.0.1:9/")  # nothing listens on the discard port
        except aiohttp.ClientError as exc:
            print("refused:", type(exc).__name__)
        try:
            await asyncio.wait_for(asyncio.gather(*(get(slow) for _ in range(3))), 0.3)
        except TimeoutError:
            print("gave up after 0.3 s")


asyncio.run(main(sys.argv[1]))
