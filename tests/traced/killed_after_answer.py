"""Killed by a signal (its second argument's name, SIGTERM by default) straight after its
answer came, by requests (or aiohttp: a third argument): the request finished, and the row
must say so, not that it failed."""

import asyncio
import os
import signal
import sys

url = sys.argv[1]
how = getattr(signal, sys.argv[2] if len(sys.argv) > 2 else "SIGTERM")
if sys.argv[3:] == ["aiohttp"]:
    import aiohttp

    async def main() -> None:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            await response.read()
            os.kill(os.getpid(), how)

    asyncio.run(main())
else:
    import requests

    requests.get(url, timeout=10)
    os.kill(os.getpid(), how)
