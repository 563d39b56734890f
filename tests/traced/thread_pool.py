"""Eight requests over a pool of four threads, each thread with its own requests.Session."""

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

url = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 8
local = threading.local()


def fetch(i):
    if not hasattr(local, "session"):
        local.session = requests.Session()
    response = local.session.get(url, timeout=10)
    return response.status_code


with ThreadPoolExecutor(max_workers=4) as pool:
    statuses = list(pool.map(fetch, range(count)))
print(f"{len(statuses)} responses: {statuses}")
