"""Six threads: three return at once, three sleep a little. A thread's id is reused once it
has ended, so the short ones share ids with those started after them."""

import sys
import threading
import time
import urllib.request


def work(i, url):
    if i % 2:
        time.sleep(0.05)
    else:
        urllib.request.urlopen(url, timeout=10).read()


threads = [threading.Thread(target=work, args=(i, sys.argv[1])) for i in range(6)]
for thread in threads:
    thread.start()
    thread.join(0.01)
for thread in threads:
    thread.join()
print(sorted(thread.name for thread in threads))
