"""One request, then exit status 3."""

import sys

import requests

requests.get(sys.argv[1], timeout=10)
print("bye")
sys.exit(3)
