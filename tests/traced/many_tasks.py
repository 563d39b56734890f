"""150 asyncio tasks that wait until the file named by the second argument exists (the test
says when: the program runs for as long as it looks), then one request."""

import asyncio
import os
import sys
import urllib.request


async def wait_for(path):
    for _ in range(600):  # 30 s at most: never left behind
        if os.path.exists(path):
            return
        await asyncio.sleep(0.05)


async def main(url, path):
    await asyncio.gather(*(wait_for(path) for _ in range(150)))
    await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())


asyncio.run(main(sys.argv[1], sys.argv[2]))
