"""Choosing a client: each HTTP client fetchviz races, at N = 10, at N = 1,000 all at once, and
at N = 1,000 with --limit 100, against the embedded server; `hey` beside it on the same server.

    python benchmarks/clients.py [--rounds 3] [--delay 100]

Prints a Markdown table (docs/clients.md's "Choosing a client"): each client's best headless run of
ROUNDS (elapsed), with that run's CPU (its process, every thread), the server's CPU meanwhile,
and the connections it opened. requests is the `threads` strategy, a thread a request (or a
pool of --limit threads).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from typing import Any

from fetchviz.runs.cpu import process_cpu
from fetchviz.runs.server import EmbeddedServer

CLIENTS = {  # the client, as the table names it: the strategy that runs it
    "aiohttp": "aiohttp",
    "httpx": "httpx",
    "httpx2": "httpx2",
    "pyreqwest": "pyreqwest",
    "curl-cffi": "curl-cffi",
    "requests (threads)": "threads",
}
CASES = ((10, None), (1000, None), (1000, 100))  # (N, --limit)


def headless_run(
    strategy: str, url: str, n: int, limit: int | None, server: int | None
) -> dict[str, Any]:
    """One `fetchviz --json` run in a process of its own: its run's JSON, with the server's
    CPU around it (the server is this script's, not the run's own: --url)."""
    cmd = [sys.executable, "-m", "fetchviz", "--json", "--url", url, "-n", str(n), "-s", strategy]
    if limit is not None:
        cmd += ["--limit", str(limit)]
    if strategy in ("threads", "executor"):
        cmd += ["--workers", str(limit or n)]  # a thread a request in flight
    before = process_cpu(server)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True)
    after = process_cpu(server)
    run: dict[str, Any] = json.loads(done.stdout)["runs"][0]
    if before is not None and after is not None:  # the process's start-up included: ~0
        run["server_cpu"] = after - before
    return run


def best_run(
    strategy: str, url: str, n: int, limit: int | None, rounds: int, server: int | None
) -> dict[str, Any]:
    """The fastest of `rounds` runs that fetched everything (the others say nothing of speed)."""
    runs = [headless_run(strategy, url, n, limit, server) for _ in range(rounds)]
    whole = [run for run in runs if run["ok"] == n] or runs
    return min(whole, key=lambda run: run["elapsed"] if run["elapsed"] is not None else 1e9)


def hey(url: str, n: int, concurrency: int) -> float | None:
    """hey's total, best of three; None where hey is not installed."""
    if not shutil.which("hey"):
        return None
    times = []
    for _ in range(3):
        cmd = ["hey", "-n", str(n), "-c", str(concurrency), url]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
        total = next(line for line in out.splitlines() if "Total:" in line)
        times.append(float(total.split()[1]))
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay", type=int, default=100)
    args = parser.parse_args()
    with EmbeddedServer(delay_ms=args.delay) as server:
        server.wait_ready()
        url = server.url()
        print(
            f"N × {args.delay} ms against `fetchviz serve`, best of {args.rounds} headless runs: "
            "elapsed · CPU of the run's process · CPU of the server · connections\n"
        )
        heads = [f"N = {n:,}" + (f", --limit {limit}" if limit else "") for n, limit in CASES]
        print("| client | " + " | ".join(heads) + " |")
        print("|---|" + "---|" * len(CASES))
        for name, strategy in CLIENTS.items():
            cells = []
            for n, limit in CASES:
                run = best_run(strategy, url, n, limit, args.rounds, server.pid)
                ok = "" if run["ok"] == n else f" ({run['ok']}/{n} ok)"
                connections = "—" if run["connections"] is None else run["connections"]
                cells.append(
                    f"{run['elapsed']:.2f} s · {run['cpu']:.2f} · {run['server_cpu']:.2f} · "
                    f"{connections}{ok}"
                )
                print(f"  … {name} N={n} limit={limit}: {cells[-1]}", file=sys.stderr, flush=True)
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
        native = [hey(url, n, limit or n) for n, limit in CASES]
        if all(value is not None for value in native):
            print("| hey | " + " | ".join(f"{value:.2f} s" for value in native if value) + " |")


if __name__ == "__main__":
    main()
