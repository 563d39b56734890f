"""Leaves while a request is still in flight: a daemon thread fetches a slow URL, and the
main thread exits 0.3 s later without waiting for it.
"""

import sys
import threading
import time

import requests

url = sys.argv[1]
threading.Thread(target=requests.get, args=(url,), kwargs={"timeout": 10}, daemon=True).start()
time.sleep(0.3)
print("leaving with the request in flight")
sys.exit(0)
