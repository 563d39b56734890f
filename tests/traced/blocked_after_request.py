"""A coroutine that fetches with requests, then keeps its loop blocked for a while longer."""

import asyncio
import sys
import time

import requests


async def main(url):
    requests.get(url, timeout=10)
    time.sleep(1.5)  # the loop stays blocked after the request has been answered


asyncio.run(main(sys.argv[1]))
