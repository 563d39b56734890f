"""A chunked body (no Content-Length) read by each client over http.client: requests whole
and streamed, urllib.request, urllib3, http.client in pieces. Prints each one's length."""

import http.client
import sys
import urllib.parse
import urllib.request

import requests
import urllib3

url = sys.argv[1]
print(len(requests.get(url, timeout=10).content))
with requests.get(url, stream=True, timeout=10) as response:
    print(sum(len(chunk) for chunk in response.iter_content(65536)))
print(len(urllib.request.urlopen(url, timeout=10).read()))
print(len(urllib3.request("GET", url, timeout=10).data))
parts = urllib.parse.urlsplit(url)
conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
conn.request("GET", "/")
answer = conn.getresponse()
got = 0
while piece := answer.read(30_000):
    got += len(piece)
print(got)
