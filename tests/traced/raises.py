"""One request, then an uncaught exception."""

import sys

import requests


def explode():
    raise RuntimeError("boom from the program")


response = requests.get(sys.argv[1], timeout=10)
print(f"got {response.status_code}")
explode()
