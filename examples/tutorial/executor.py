"""gather over loop.run_in_executor: each blocking requests.get runs in a worker thread of
the loop's default executor, so the requests overlap and the loop stays free.
"""

import asyncio
import functools
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
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, functools.partial(requests.get, URL, timeout=10))
    print(f"Finished: {i}")


async def main():
    await asyncio.gather(*(get(i) for i in range(COUNT)))


start = time.perf_counter()
asyncio.run(main())
print(f"took {time.perf_counter() - start:.2f} s")
