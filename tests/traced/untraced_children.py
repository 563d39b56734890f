"""This process fetches, then starts three children: a Python in isolated mode (-I, which
loads no sitecustomize) that fetches too, a program that is not Python, and a plain Python
that fetches."""

import subprocess
import sys
import urllib.request

url = sys.argv[1]
fetch = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10).read()"
urllib.request.urlopen(url, timeout=10).read()
subprocess.run([sys.executable, "-I", "-c", fetch, url], check=True)
subprocess.run(["true"], check=True)
subprocess.run([sys.executable, "-c", fetch, url], check=True)
