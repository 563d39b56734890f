"""Ten requests in a plain for loop: each starts only when the one before has finished,
so the total time is the sum of their latencies. The baseline for the other three.
"""

import os
import sys
import time

import requests

URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FETCHVIZ_URL")
if not URL:
    print(f"usage: {sys.argv[0]} URL [COUNT]  (or set FETCHVIZ_URL)", file=sys.stderr)
    sys.exit(2)
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 10


def get(i):
    print(f"Started: {i}")
    requests.get(URL, timeout=10)
    print(f"Finished: {i}")


start = time.perf_counter()
for i in range(COUNT):
    get(i)
print(f"took {time.perf_counter() - start:.2f} s")
