"""The standard library only: urllib.request.urlopen twice, one after the other."""

import sys
import urllib.request

url = sys.argv[1]
for i in range(2):
    with urllib.request.urlopen(url, timeout=10) as response:
        body = response.read()
    print(f"request {i}: {response.status}, {len(body)} bytes")
