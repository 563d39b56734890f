"""uvloop, whose loop handles SIGURG for the program (add_signal_handler), and a block."""

import asyncio
import os
import signal
import sys
import time
import urllib.request

import uvloop

seen = []


async def main(url):
    asyncio.get_running_loop().add_signal_handler(signal.SIGURG, seen.append, "urg")
    await asyncio.sleep(0.05)
    time.sleep(0.3)  # blocks the loop
    await asyncio.sleep(0.05)
    await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())
    os.kill(os.getpid(), signal.SIGURG)
    await asyncio.sleep(0.1)
    print("its handler ran", len(seen), "times")


uvloop.run(main(sys.argv[1]))
