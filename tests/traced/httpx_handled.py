"""httpx's responses closed while the program handles an exception not theirs: a fallback
after another request's ConnectError, and raise_for_status inside `with client.stream()`.
Each row is its own request's, as it went: refused, 200, 404."""

import sys

import httpx

url, missing = sys.argv[1], sys.argv[1].split("/delay/")[0] + "/missing"
with httpx.Client(timeout=10) as client:
    try:
        client.get("http://127.0.0.1:9/")  # nothing listens on the discard port
    except httpx.ConnectError:
        print("fallback", client.get(url).status_code)
    try:
        with client.stream("GET", missing) as response:
            response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        print("missing", exc.response.status_code)
