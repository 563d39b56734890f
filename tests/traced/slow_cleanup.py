"""A program that cleans up on Ctrl+C, taking its time: a request, then waiting; SIGINT
makes it spend a second on its way out."""

import os
import sys
import time
import urllib.request

url = sys.argv[1] if len(sys.argv) > 1 else os.environ["FETCHVIZ_URL"]
urllib.request.urlopen(url, timeout=10).read()
print("fetched; waiting for Ctrl+C", flush=True)
try:
    time.sleep(60)
except KeyboardInterrupt:
    print("cleaning up", flush=True)
    time.sleep(1)
    sys.exit(130)
