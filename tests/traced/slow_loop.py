"""Requests one after another for a while, saying as each is done: a program to interrupt."""

import sys

import requests

url = sys.argv[1]
for i in range(50):
    requests.get(url, timeout=10)
    print(f"done {i}", flush=True)
