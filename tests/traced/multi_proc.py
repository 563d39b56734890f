"""A multiprocessing Pool of two processes mapping requests.get over four URLs; the start
method (fork or spawn) is the third argument.
"""

import multiprocessing
import sys

import requests


def fetch(url):
    return requests.get(url, timeout=10).status_code


if __name__ == "__main__":
    url = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    method = sys.argv[3] if len(sys.argv) > 3 else "spawn"
    context = multiprocessing.get_context(method)
    with context.Pool(2) as pool:
        statuses = pool.map(fetch, [url] * count)
    print(f"{method}: {statuses}")
