"""One asyncio loop and nothing else: a request, then the loop blocked, then the threads the
program can see (fetchviz adds none to a program like this one)."""

import asyncio
import signal
import sys
import threading
import time

import aiohttp


async def main(url):
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        await response.read()
    time.sleep(0.3)  # blocks the loop
    print("threads", [thread.name for thread in threading.enumerate()])
    print("SIGURG", signal.getsignal(signal.SIGURG))


asyncio.run(main(sys.argv[1]))
