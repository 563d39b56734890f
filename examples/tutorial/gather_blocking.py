"""asyncio.gather over coroutines that call blocking requests.get: it looks concurrent, but
each call holds the event loop until its response arrives, so they still run one by one.
"""

import asyncio
import os
import sys
import time

import requests

URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FETCHVIZ_URL")
if not URL:
    print(f"usage: {sys.argv[0]} URL [COUNT]  (or set FETCHVIZ_URL)", file=sys.stderr)
    sys.exit(2)
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 10


async def get(i):
    print(f"Started: {i}")
    requests.get(URL, timeout=10)
    print(f"Finished: {i}")


async def main():
    await asyncio.gather(*(get(i) for i in range(COUNT)))


start = time.perf_counter()
asyncio.run(main())
print(f"took {time.perf_counter() - start:.2f} s")
