"""A small answer read, then a second's work before the response is released, as programs do
inside `async with session.get(...) as response:`. The request took the server's time, not
the second after it."""

import asyncio
import sys

import aiohttp


async def main(url: str) -> None:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        print(len(await response.read()))
        await asyncio.sleep(1)


asyncio.run(main(sys.argv[1]))
