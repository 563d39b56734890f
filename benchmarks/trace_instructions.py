"""What `fetchviz trace` costs a program per request, in instructions: a figure noise cannot move.

    python benchmarks/trace_instructions.py [PROGRAM] [SMALL] [LARGE]

The wall-clock ratio (run.py, trace_ab.py) moves by several per cent from one run to the next
on a busy 2-core machine, more than a change to the tracer saves. This counts what the
program's process executes instead, with valgrind's callgrind (repeatable to a few per cent at
worst for the same program and inputs: callgrind.py says why): the program plain, then the same
program under the real `fetchviz trace --json` (valgrind is the command it starts; the Python
under it is traced as any child would be). Each at SMALL and LARGE requests, so that the
per-request figure, (I(LARGE) - I(SMALL)) / (LARGE - SMALL), leaves out interpreter start-up
and the tracer's own import, which the program's `elapsed` line does not include either.

Under valgrind the program runs some 50 times slower, so what the tracer does by the clock (the
loop's heartbeat every 20 ms, the sender's wake-ups) counts for more here than it costs at
full speed: this figure is an upper bound on the hooks' share, and the way to compare two
versions of the tracer, not a replacement for run.py's wall-clock ratio. PROGRAM is one of
tests/traced/ (default many_aiohttp.py); SMALL and LARGE default to 200 and 1,000.
"""

from __future__ import annotations

import sys
from pathlib import Path

import callgrind

from fetchviz.runs.server import EmbeddedServer

TRACED = Path(__file__).resolve().parent.parent / "tests" / "traced"
USAGE = "python benchmarks/trace_instructions.py [PROGRAM] [SMALL] [LARGE]"


def instructions(program: Path, url: str, n: int, traced: bool) -> int:
    """The instructions the program's Python executed, as callgrind counts them."""
    command = [sys.executable, str(program), url, str(n)]
    if not traced:
        return callgrind.count(command)
    return callgrind.count(
        command,
        lambda valgrind: [sys.executable, "-m", "fetchviz", "trace", "--json", "--", *valgrind],
    )


def main() -> None:
    if not callgrind.available():
        sys.exit("trace_instructions.py: valgrind is not installed (apt-get install valgrind)")
    given = sys.argv[1:4]
    name, small, large = given + ["many_aiohttp.py", "200", "1000"][len(given) :]
    program = TRACED / name
    sizes_ok = small.isdigit() and large.isdigit() and int(small) < int(large)
    if not program.is_file() or not sizes_ok:
        print(f"usage: {USAGE} (PROGRAM one of tests/traced/, SMALL < LARGE)", file=sys.stderr)
        sys.exit(2)
    small_n, large_n = int(small), int(large)
    with EmbeddedServer(delay_ms=100) as server:
        server.wait_ready()
        url = server.url()
        per_request = {}
        for traced in (False, True):
            counts = {n: instructions(program, url, n, traced) for n in (small_n, large_n)}
            per_request[traced] = callgrind.per_request(counts)
            label = "traced" if traced else "plain"
            print(
                f"{label:>6}: {counts[small_n]:,} at N={small_n}, {counts[large_n]:,} at "
                f"N={large_n}: {per_request[traced]:,.0f} a request",
                flush=True,
            )
    extra = per_request[True] - per_request[False]
    print(
        f"{name}: the tracer adds {extra:,.0f} instructions a request, "
        f"{per_request[True] / per_request[False]:.3f}× the plain program's"
    )


if __name__ == "__main__":
    main()
