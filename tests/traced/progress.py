"""Output as a progress bar writes it: `\r` redraws of an unended line, a line on stderr while
one on stdout is still unended, and a last line the program never ends."""

import sys

import requests

url = sys.argv[1]
print("phase1")
for step in (1, 2, 3):
    print(f"\r[b]phase2 {step}/3", end="", flush=True)
    requests.get(url, timeout=10)
sys.stderr.write("oops\n")
print("\r[done] 3/3", end="", flush=True)
