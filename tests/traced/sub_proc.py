"""A child Python process fetches the URL with urllib, then this one fetches it with requests."""

import subprocess
import sys

import requests

url = sys.argv[1]
child = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10).read()"
subprocess.run([sys.executable, "-c", child, url], check=True)
response = requests.get(url, timeout=10)
print(f"child done, parent got {response.status_code}")
