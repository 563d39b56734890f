"""urllib.request: a page, then one that is not there, its HTTPError left uncaught."""

import sys
import urllib.request

url = sys.argv[1]
with urllib.request.urlopen(url, timeout=10) as response:
    print(response.status, len(response.read()))
urllib.request.urlopen(url + "x", timeout=10)  # raises HTTPError 404, and the program ends
