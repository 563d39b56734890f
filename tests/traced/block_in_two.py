"""One block of the loop that is two: a blocking request, then a sleep, in one coroutine."""

import asyncio
import sys
import time

import requests


async def main(url):
    requests.get(url, timeout=10)  # about 0.4 s
    time.sleep(1.0)  # then a second more, the loop still blocked


asyncio.run(main(sys.argv[1]))
