"""A request refused and its error left uncaught: in a thread, then in the main thread."""

import socket
import threading

import requests

closed = socket.socket()
closed.bind(("127.0.0.1", 0))  # bound and not listening: a connection to it is refused
url = f"http://127.0.0.1:{closed.getsockname()[1]}/"


def fetch() -> None:
    requests.get(url, timeout=5)


worker = threading.Thread(target=fetch, name="fetcher")
worker.start()
worker.join()
fetch()
