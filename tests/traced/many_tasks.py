"""150 asyncio tasks that wait half a second each, then one request."""

import asyncio
import sys
import urllib.request


async def main(url):
    await asyncio.gather(*(asyncio.sleep(0.5) for _ in range(150)))
    await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())


asyncio.run(main(sys.argv[1]))
