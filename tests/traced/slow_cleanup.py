"""A program that cleans up on Ctrl+C, taking its time: a request, then waiting; SIGINT
makes it spend a second on its way out."""

import sys
import time
import urllib.request

urllib.request.urlopen(sys.argv[1], timeout=10).read()
print("fetched; waiting for Ctrl+C", flush=True)
try:
    time.sleep(60)
except KeyboardInterrupt:
    print("cleaning up", flush=True)
    time.sleep(1)
    sys.exit(130)
