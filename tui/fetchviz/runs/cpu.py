"""The CPU time the kernel counts for a process that is not this one: the embedded server's,
beside each run's (a run's own process measures itself, with time.process_time())."""

from __future__ import annotations

import os

try:
    TICK = 1 / os.sysconf("SC_CLK_TCK")  # /proc's unit: 10 ms on Linux
except (AttributeError, ValueError, OSError):
    TICK = 0.01


def process_cpu(pid: int | None) -> float | None:
    """Seconds of CPU, user + system, of every thread `pid` has had (those ended too), as
    /proc/PID/stat counts them (in ticks of TICK); None where it cannot tell (not Linux, the
    process gone)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read()
    except OSError:
        return None
    # After the command's name, in parentheses (which may hold spaces): state is field 3,
    # utime and stime fields 14 and 15.
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return (int(fields[11]) + int(fields[12])) * TICK
    except (IndexError, ValueError):
        return None
