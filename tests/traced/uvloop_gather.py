"""httpx and aiohttp requests gathered as tasks of their own, on uvloop's loop when asked
("uvloop"), asyncio's otherwise: each request's `where` is the line that made its task, not
the one that started the loop."""

import asyncio
import sys

import aiohttp
import httpx
import uvloop


async def main(url: str) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.gather(*(client.get(url) for _ in range(2)))  # httpx's line
        await asyncio.wait_for(client.get(url), 10)  # the third's
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(session.get(url) for _ in range(2)))  # aiohttp's line


run = uvloop.run if sys.argv[2:] == ["uvloop"] else asyncio.run
run(main(sys.argv[1]))  # the loop's
