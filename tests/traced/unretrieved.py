"""A task that fails and is never awaited, one that is cancelled, and one that ends well, each
after a request: asyncio itself logs "Task exception was never retrieved" for the first, as
it does without fetchviz."""

import asyncio
import gc
import sys

import aiohttp


async def fetch(session, url, then):
    async with session.get(url) as response:
        await response.read()
    if then == "fail":
        raise ValueError("failed on purpose")
    if then == "wait":
        await asyncio.sleep(60)


async def main(url):
    async with aiohttp.ClientSession() as session:
        tasks = {
            then: asyncio.create_task(fetch(session, url, then), name=then)
            for then in ("fail", "wait", "done")
        }
        await asyncio.wait([tasks["fail"], tasks["done"]])
        tasks["wait"].cancel()
        await asyncio.wait([tasks["wait"]])
    del tasks
    gc.collect()  # the failed task, unreferenced: asyncio logs its exception now


asyncio.run(main(sys.argv[1]))
