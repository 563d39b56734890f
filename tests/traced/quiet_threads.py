"""Threads that make no request while the main thread waits for them (as a multiprocessing
Pool's parent waits in pool.map): they are seen as they start, not at exit."""

import sys
import threading
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
workers = [
    threading.Thread(target=time.sleep, args=(seconds,), name=f"quiet-{i}") for i in range(2)
]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
print("done")
