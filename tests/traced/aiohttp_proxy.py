"""One HTTPS GET by aiohttp through a CONNECT proxy (its second argument), trusting the CA
file its third names: the proxy's answer to CONNECT is not the request's."""

import asyncio
import ssl
import sys

import aiohttp


async def main(url: str, proxy: str, cafile: str) -> None:
    context = ssl.create_default_context(cafile=cafile)
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, proxy=proxy, ssl=context) as response,
    ):
        print(response.status, len(await response.read()))


asyncio.run(main(*sys.argv[1:4]))
