"""What recording a run costs each strategy's code, in instructions a request: a figure noise
moves far less than the clock (up to ~3 %: callgrind.py), beside run.py's "overhead with
phases" ratios by the clock.

    python benchmarks/instructions.py [STRATEGY ...] [--small 200] [--large 1000]

Each strategy's very code, counted under valgrind's callgrind (callgrind.py) at two sizes
against one embedded server (100 ms): `probes.py bare`, with a job that records nothing, and
`probes.py recorded`, as a headless run's process runs it (phases, events into a pipe's sink,
the heartbeat). Both in plain processes, so that what they count apart is the recording
alone. Default: aiohttp and the three newer clients. About a minute a strategy; needs
`valgrind`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import callgrind

from fetchviz.core.catalog import STRATEGIES
from fetchviz.runs.server import EmbeddedServer

PROBES = [sys.executable, str(Path(__file__).resolve().parent / "probes.py")]
DEFAULT = ("aiohttp", "pyreqwest", "curl-cffi", "httpx2")


def per_request(kind: str, strategy: str, url: str, small: int, large: int) -> float:
    return callgrind.per_request(
        {n: callgrind.count([*PROBES, kind, strategy, url, str(n)]) for n in (small, large)}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("strategies", nargs="*", default=list(DEFAULT))
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--large", type=int, default=1000)
    args = parser.parse_args()
    if not callgrind.available():
        sys.exit("instructions.py: valgrind is not installed (apt-get install valgrind)")
    known = {s.id: s for s in STRATEGIES}
    for name in args.strategies:
        if name not in known:
            sys.exit(f"instructions.py: no strategy {name!r} (one of {', '.join(known)})")
    with EmbeddedServer(delay_ms=100) as server:
        server.wait_ready()
        url = server.url()
        for name in args.strategies:
            if not known[name].installed:
                print(known[name].not_installed())
                continue
            bare = per_request("bare", name, url, args.small, args.large)
            recorded = per_request("recorded", name, url, args.small, args.large)
            print(
                f"{name}: {recorded:,.0f} instructions a request recorded, {bare:,.0f} bare: "
                f"{recorded / bare:.3f}×",
                flush=True,
            )


if __name__ == "__main__":
    main()
