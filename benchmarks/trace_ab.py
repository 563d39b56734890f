"""`fetchviz trace` against plain python, alone: run.py's two traced programs, interleaved.

    python benchmarks/trace_ab.py [ROUNDS] [MOST_ROUNDS] [N]

Prints each program's ratio (traced over plain, by the program's own elapsed line), its 95 %
interval and the verdict against ≤ 1.05, as run.py judges it, without run.py's other figures;
and first, the floor: the plain program with one idle thread beside it (no tracer) over plain.
"""

from __future__ import annotations

import statistics
import sys

from confidence import decide
from run import idle_thread_program, paired, plain_program, traced_program

from fetchviz.runs.server import EmbeddedServer

PROGRAMS = ("many_aiohttp.py", "many_threads.py")


def main() -> None:
    rounds, most = (int(arg) for arg in (sys.argv[1:3] + ["15", "30"][len(sys.argv[1:3]) :]))
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    with EmbeddedServer(delay_ms=100) as server:
        server.wait_ready()
        url = server.url()
        for program in PROGRAMS:
            for name, other in (
                ("one idle thread", idle_thread_program),
                ("traced", traced_program),
            ):
                interval, said, done = decide(
                    paired(
                        lambda p=program: plain_program(p, url, n),
                        lambda p=program, o=other: o(p, url, n),
                    ),
                    1.05,
                    rounds,
                    most,
                )
                plain = statistics.median(a for a, _ in done)
                theirs = statistics.median(b for _, b in done)
                print(
                    f"{program}, {name}: {interval.value:.3f} "
                    f"[{interval.low:.3f}, {interval.high:.3f}] {said}, {len(done)} rounds; "
                    f"plain {plain:.3f} s, {name} {theirs:.3f} s",
                    flush=True,
                )


if __name__ == "__main__":
    main()
