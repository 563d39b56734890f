"""One redirected GET by each client the tracer knows, one after another: requests, httpx
and httpx2 (sync and async), aiohttp. Each hop is a request on the wire, and a row."""

import asyncio
import sys

import aiohttp
import httpx
import httpx2
import requests

url = sys.argv[1]
print("requests", requests.get(url, timeout=10).status_code)
print("httpx", httpx.get(url, follow_redirects=True, timeout=10).status_code)
print("httpx2", httpx2.get(url, follow_redirects=True, timeout=10).status_code)


async def main() -> None:
    async with httpx.AsyncClient(follow_redirects=True, timeout=10) as client:
        print("httpx async", (await client.get(url)).status_code)
    async with httpx2.AsyncClient(follow_redirects=True, timeout=10) as client:
        print("httpx2 async", (await client.get(url)).status_code)
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        print("aiohttp", response.status, await response.text())


asyncio.run(main())
