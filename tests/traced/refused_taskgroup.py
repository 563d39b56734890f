"""An aiohttp request refused inside a TaskGroup, its ExceptionGroup left uncaught."""

import asyncio
import socket

import aiohttp

closed = socket.socket()
closed.bind(("127.0.0.1", 0))  # bound and not listening: a connection to it is refused
url = f"http://127.0.0.1:{closed.getsockname()[1]}/"


async def fetch(session: aiohttp.ClientSession) -> None:
    async with session.get(url) as response:
        await response.read()


async def main() -> None:
    async with aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
        group.create_task(fetch(session))


asyncio.run(main())
