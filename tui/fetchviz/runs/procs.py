"""The child processes' common ground: spawn one with its stderr kept for the reason it
stopped, make it die with its parent, give it room for thousands of sockets.

Used by the run's process (worker.py) and the latency server (server.py).
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import errno
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any


class Child:
    """A `python -m MODULE` child in a session of its own (the terminal's Ctrl+C is the
    parent's to handle), its stdin a pipe the parent holds, its stderr kept in a file."""

    def __init__(self, module: str, *args: str, stdout: Any, pass_fds: tuple[int, ...] = ()):
        self.stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.proc = subprocess.Popen(
            # -P: the working directory is not on sys.path, so a user's httpx.py or queue.py
            # there cannot shadow a module the run imports.
            [sys.executable, "-P", "-m", module, *args],
            stdin=subprocess.PIPE,
            stdout=stdout,
            stderr=self.stderr,
            pass_fds=pass_fds,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def why_it_stopped(self, wait: float = 0.5) -> str:
        """The last line it wrote on stderr, or how it exited."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=wait)
        return last_line(self.stderr) or describe_exit(self.proc.returncode)

    def kill(self) -> None:
        """Kill it and what it started (it leads a session of its own: a user's strategy may
        have started a process pool)."""
        if self.proc.returncode is None:  # not reaped: its id is still its group's
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    def close(self) -> None:
        """Reap it (it was killed, or has exited) and close our ends of its pipes."""
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.stderr):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()


# What a process that ran out of file descriptors wrote somewhere in its last words (Python's
# OSError, Rust's io::Error: "Too many open files (os error 24)"), whatever its last line: a
# pyreqwest run's process then panics, and its last line was "thread caused non-unwinding
# panic. aborting.".
OUT_OF_FILES = "too many open files"
LAST_WORDS = 60  # lines of its stderr's end read for it


def last_line(stderr: IO[bytes]) -> str:
    """Why a child stopped, from its stderr file: the last line written ('' if none, or
    closed already), or, where it ran out of file descriptors, that and what to do."""
    with contextlib.suppress(ValueError, OSError):
        stderr.seek(0)
        lines = stderr.read().decode(errors="replace").strip().splitlines()
        # Its last words only (a panic's backtrace is some 30 lines): an EMFILE logged early
        # in a run that later died of something else is not why it died.
        if any(OUT_OF_FILES in line.lower() for line in lines[-LAST_WORDS:]):
            return "too many open files: lower --limit"
        if lines:
            return lines[-1]
    return ""


def describe_exit(code: int | None) -> str:
    """A return code as Popen gives it (-N: killed by signal N), in words."""
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


PR_SET_PDEATHSIG = 1  # linux/prctl.h
PR_SET_NAME = 15
MADV_POPULATE_WRITE = 23  # linux/mman.h, Linux >= 5.14
PRESENT, EXCLUSIVE = 1 << 63, 1 << 56  # a /proc/PID/pagemap entry's flags (pagemap.rst)


def name_this_process(name: str) -> None:
    """The name `ps -o comm`, top and /proc/PID/comm show (up to 15 bytes; Linux only): a
    fork keeps its parent's command line, and this tells the two apart."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(PR_SET_NAME, name.encode()[:15])


def copy_shared_memory() -> None:
    """In a process just forked, before its run: take now the private copy of each page it
    still shares with the fork server, that its first write would take mid-run.

    Each such write is a copy-on-write fault, and a fault is where the kernel lets another
    task have the CPU: a forked run's process took 1,480 more faults than the same run in a
    fresh process (4,840 against 3,360, aiohttp at N = 1,000) and was preempted 70-130 times
    against 5 (getrusage's ru_minflt and ru_nivcsw). Copying its 37 MB of writable pages up
    front takes 20-30 ms, before its run's clock, and brings both counts to a fresh
    process's. Only the pages the fork server had (present, not yet the process's own) are
    copied: the rest, say an idle thread's stack, cost nothing until used. Linux only: where
    /proc or madvise(MADV_POPULATE_WRITE) is missing, pages are copied as they are written.
    """
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
        madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        page = os.sysconf("SC_PAGE_SIZE")
        with open("/proc/self/maps") as maps, open("/proc/self/pagemap", "rb") as pagemap:
            for line in maps.readlines():  # read whole first: the walk must not change it
                fields = line.split()
                perms, name = fields[1], fields[5] if len(fields) > 5 else ""
                if perms[1] != "w" or perms[3] != "p" or name.startswith("[v"):
                    continue  # read-only, shared, or the kernel's own ([vvar], [vsyscall])
                start, end = (int(bound, 16) for bound in fields[0].split("-"))
                for at, entries in _present(pagemap, start, end, page):
                    if not _copy_runs(madvise, at, entries, page):
                        return  # the kernel has no MADV_POPULATE_WRITE (before 5.14)
    except Exception:  # best effort: the run goes on, its pages copied as they are written
        return


PAGEMAP_CHUNK = 1 << 16  # entries read at a time: 256 MB of address space, 512 KB read


def _present(pagemap: IO[bytes], start: int, end: int, page: int) -> Iterator[tuple[int, Any]]:
    """A mapping's pagemap entries in chunks, skipping those with no page present (a large
    reservation, mostly empty, is read but not walked in Python)."""
    for first in range(start, end, PAGEMAP_CHUNK * page):
        count = min(PAGEMAP_CHUNK, (end - first) // page)
        pagemap.seek(first // page * 8)
        data = pagemap.read(count * 8)
        if data.count(0) != len(data):
            yield first, array.array("Q", data)


def _copy_runs(madvise: Any, at: int, entries: Any, page: int) -> bool:
    """Copy each run of shared pages among `entries` (from address `at`); False where the
    kernel refuses the advice itself."""
    run_start = None
    for i, entry in enumerate([*entries, 0]):  # a last 0 ends the last run
        shared = entry & PRESENT and not entry & EXCLUSIVE
        if shared and run_start is None:
            run_start = i
        elif not shared and run_start is not None:
            size = (i - run_start) * page
            refused = madvise(at + run_start * page, size, MADV_POPULATE_WRITE) != 0
            if refused and ctypes.get_errno() == errno.EINVAL:
                return False
            run_start = None
    return True


def die_with_parent(parent: int) -> None:
    """Exit when the parent does, however it goes (even SIGKILL).

    On Linux the kernel sees to it, and no thread of ours is needed (an idle thread costs a
    run's process measurable time: worker.py). The signal comes when the parent *thread* that
    spawned us ends, so the parent spawns from a thread that lives as long as it does (its
    main thread). Elsewhere, a thread reads stdin to its end: the parent holds it open.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) == 0:
            if os.getppid() != parent:  # it went before we could ask
                os._exit(0)
            return
    except (OSError, AttributeError):  # not Linux
        pass
    threading.Thread(target=_exit_at_end_of_stdin, name="fetchviz-lifeline", daemon=True).start()


def _exit_at_end_of_stdin() -> None:
    with contextlib.suppress(OSError):
        while sys.stdin.buffer.read(4096):
            pass
    os._exit(0)


def raise_open_file_limit() -> None:
    """Let 1,000s of sockets be open at once: lift the soft limit up to the hard one."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
