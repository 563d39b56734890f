"""A request refused and its error handled as programs do: traceback.print_exc(), then
logging's exception() (an aiohttp one), each printing the program's traceback itself."""

import asyncio
import logging
import socket
import sys
import traceback

import aiohttp
import requests

closed = socket.socket()
closed.bind(("127.0.0.1", 0))  # bound and not listening: a connection to it is refused
url = f"http://127.0.0.1:{closed.getsockname()[1]}/"

try:
    requests.get(url, timeout=5)
except requests.ConnectionError:
    traceback.print_exc()


async def main() -> None:
    async with aiohttp.ClientSession() as session:
        try:
            await session.get(url)
        except aiohttp.ClientError:
            logging.exception("the fetch failed")


asyncio.run(main())

# As some code builds one itself: by keyword.
try:
    requests.get(url, timeout=5)
except requests.ConnectionError as error:
    shown = traceback.TracebackException(
        exc_type=type(error), exc_value=error, exc_traceback=error.__traceback__
    )
    print("".join(shown.format()), file=sys.stderr)
