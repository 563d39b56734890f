"""Benchmark: N requests over 50 threads, one requests.Session a thread; prints the elapsed time."""

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

url = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
local = threading.local()


def fetch(url):
    if not hasattr(local, "session"):
        local.session = requests.Session()
    local.session.get(url, timeout=10).raise_for_status()


started = time.perf_counter()
with ThreadPoolExecutor(max_workers=50) as pool:
    list(pool.map(fetch, [url] * count))
print(f"elapsed {time.perf_counter() - started:.4f}")
