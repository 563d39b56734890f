"""A program that handles SIGURG itself, and blocks its loop: its handler is its own."""

import asyncio
import os
import signal
import sys
import time
import urllib.request

seen = []


async def main(url):
    signal.signal(signal.SIGURG, lambda signum, frame: seen.append(signum))
    await asyncio.sleep(0.05)
    time.sleep(0.3)  # blocks the loop
    await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())
    os.kill(os.getpid(), signal.SIGURG)
    await asyncio.sleep(0.05)
    print("its handler ran", len(seen), "times")


asyncio.run(main(sys.argv[1]))
