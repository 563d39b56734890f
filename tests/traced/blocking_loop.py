"""An asyncio program that blocks its own event loop: a sleep standing in for CPU work,
then a blocking requests.get inside a coroutine.
"""

import asyncio
import sys
import time

import requests


async def crunch():
    # Pretend to do half a second of work, right on the event loop.
    time.sleep(0.5)


async def fetch(url):
    return requests.get(url, timeout=10)


async def main(url):
    started = time.perf_counter()
    await crunch()
    response = await fetch(url)
    print(f"status {response.status_code} after {time.perf_counter() - started:.2f} s")


asyncio.run(main(sys.argv[1]))
