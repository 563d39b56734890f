"""Killed by a signal (its first argument's name, SIGTERM by default) straight after its
answer came: the request finished, and the row must say so, not that it failed."""

import os
import signal
import sys

import requests

url = sys.argv[1]
how = getattr(signal, sys.argv[2] if len(sys.argv) > 2 else "SIGTERM")
response = requests.get(url, timeout=10)
os.kill(os.getpid(), how)
