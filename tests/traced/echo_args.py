"""Prints what it was started with (argv, cwd, __name__, __file__), then fetches argv[1]."""

import json
import os
import sys

import requests

print(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "main": __name__, "file": __file__}))
requests.get(sys.argv[1], timeout=10)
