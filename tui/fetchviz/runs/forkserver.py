"""The runs' processes, forked from one that has imported everything already.

    python -m fetchviz.runs.forkserver      (started by runner.py, never by hand)

A run's process needs Python started, the three HTTP clients imported and every request's
timing hooked in (worker.prepare): 0.33 s of a core each time (measured: /proc's CPU of a
process that did it, waiting for its run). Done once here, each run's process is a fork of
this one, ready in milliseconds, its imports shared and out of the collector's sight.

One fork server per fetchviz process, started by the first run (`shared()`). It dies with the
thread that started it, and a run's process dies with it (procs.die_with_parent), so killing
fetchviz, however it goes, takes all of them. Each run's process leads a session of its own
(a user's strategy may start a process pool: killing the group kills it too), and is named
`fetchviz-run` (`ps -o pid,comm`: its command line is the server's).

What they say to each other, over a socket pair: the parent sends a byte with three file
descriptors (the run's stdin, its stdout, its stderr); the server forks, and answers with the
new process's id; when one exits, the server reaps it and sends its wait status. The parent
reads those answers whenever it asks about a process (`ForkedWorker`), never in the background.
"""

from __future__ import annotations

import collections
import contextlib
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from typing import IO

from fetchviz.runs.procs import (
    Child,
    copy_shared_memory,
    describe_exit,
    die_with_parent,
    last_line,
    name_this_process,
)
from fetchviz.runs.protocol import encode, write_all

# b"P" pid 0 0: forked; b"X" pid status peak: exited, its wait status and peak memory (KiB)
ANSWER = struct.Struct("<ciiq")
RUN_NAME = "fetchviz-run"  # what `ps -o comm` shows for a run's process
STARTING = 30.0  # seconds the server may take to import before its first fork is answered
# A process asked for and not yet forked, to be killed: at most this long is waited for its
# pid (the server's imports, on a busy machine). After that, its pipes are closed: it exits
# at its first write, or at once if its command never came.
KILLING = 3.0


class ForkServer(Child):
    """The parent's side: asks for processes, and keeps what it is told about them."""

    _shared: ForkServer | None = None
    _shared_lock = threading.Lock()

    def __init__(self) -> None:
        self._socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            super().__init__(
                "fetchviz.runs.forkserver",
                str(theirs.fileno()),
                stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
            )
        finally:
            theirs.close()
        self._lock = threading.RLock()  # one reader of the answers, one request at a time
        self._buffer = bytearray()
        self._waiting: collections.deque[ForkedWorker] = collections.deque()  # for their pid
        self._by_pid: dict[int, ForkedWorker] = {}
        self.gone = False  # its socket closed: it has exited, or is exiting

    @classmethod
    def shared(cls) -> ForkServer:
        """This process's fork server, started (again) if there is none alive."""
        with cls._shared_lock:
            server = cls._shared
            if server is None or server.gone or not server.running():
                if server is not None:
                    server.stop()
                server = cls._shared = cls()
            return server

    def fork(self) -> ForkedWorker:
        """A run's process, waiting for its command. It is asked for, not waited for: its
        pipes work at once, and its pid is known when the server answers."""
        command_r, command_w = os.pipe()
        events_r, events_w = os.pipe()
        stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the worker)
        worker = ForkedWorker(self, command_w, events_r, stderr)
        try:
            with self._lock:
                try:
                    socket.send_fds(self._socket, [b"F"], [command_r, events_w, stderr.fileno()])
                    self._waiting.append(worker)
                except OSError:  # it is gone: the worker's pipe ends at once, and says why
                    self.gone = True
                    worker.forked(None)
                self._read(block=False)  # what waits: keeps the socket's buffer from filling
        finally:
            os.close(command_r)
            os.close(events_w)
        return worker

    def _read(self, block: bool, timeout: float | None = None) -> None:
        """Take the answers that have come (with `block`, wait up to `timeout` for one)."""
        if self.gone:
            return
        ready = select.select([self._socket], [], [], timeout if block else 0)[0]
        if not ready:
            return
        try:
            data = self._socket.recv(1 << 16)
        except OSError:
            data = b""
        if not data:
            self._lost()
            return
        self._buffer += data
        while len(self._buffer) >= ANSWER.size:
            kind, pid, status, peak = ANSWER.unpack_from(self._buffer)
            del self._buffer[: ANSWER.size]
            if kind == b"P":
                forked = self._waiting.popleft()
                self._by_pid[pid] = forked
                forked.forked(pid)
            elif (exited := self._by_pid.pop(pid, None)) is not None:
                exited.exited(status, peak_kib=peak)

    def _lost(self) -> None:
        """The server went: what it had not forked never will be; its forks die with it."""
        self.gone = True
        reason = f"the fork server stopped: {self.why_it_stopped()}"
        while self._waiting:
            self._waiting.popleft().forked(None, reason)
        for worker in self._by_pid.values():
            worker.exited(None, reason)
        self._by_pid.clear()

    def wait_for(self, worker: ForkedWorker, forked: bool, timeout: float) -> None:
        """Read answers until `worker` has its pid (`forked`) or its exit, or time is up."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not self.gone and (worker.waiting_for_pid if forked else worker.running()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._read(block=True, timeout=left)

    def poll(self) -> None:
        with self._lock:
            self._read(block=False)

    def stop(self) -> None:
        """Kill it (its forks die with it) and reap it."""
        self.gone = True
        self.kill()
        self.close()
        self._socket.close()


class ForkedWorker:
    """A run's process, forked by the server: what runner.py needs of a child process."""

    def __init__(self, server: ForkServer, stdin: int, events: int, stderr: IO[bytes]) -> None:
        self._server = server
        self._stdin = stdin
        self.events_fd = events
        self._stderr = stderr
        self._pid: int | None = None
        self.waiting_for_pid = True
        self._status: int | None = None  # its wait status, once reaped
        self._lost: str | None = None  # why it never was, or why nothing is known of its end
        self._peak_kib: int | None = None  # its ru_maxrss, once reaped
        self._closed = False

    # Told by the server

    def forked(self, pid: int | None, why: str | None = None) -> None:
        self._pid, self.waiting_for_pid = pid, False
        if pid is None:  # its events' pipe is at its end: the run ends, and asks why
            self._lost = why or "the fork server is gone"

    def exited(self, status: int | None, why: str | None = None, peak_kib: int = 0) -> None:
        self._status = status if status is not None else -1
        self._peak_kib = peak_kib or None
        if status is None:
            self._lost = why

    # Asked by the runner

    @property
    def pid(self) -> int | None:
        if self.waiting_for_pid:
            self._server.wait_for(self, forked=True, timeout=STARTING)
        return self._pid

    def running(self) -> bool:
        """Not known to have exited (one still being forked counts as running)."""
        if self._status is None and self._pid is not None:
            self._server.poll()
        return self._status is None and self._lost is None

    @property
    def peak_rss_mb(self) -> float | None:
        """Its peak resident memory (ru_maxrss, as the server reaped it); None until then."""
        if self._peak_kib is None and self._pid is not None:
            self._server.poll()
        return self._peak_kib / 1024 if self._peak_kib is not None else None

    def send(self, message: object) -> None:
        write_all(self._stdin, encode(message))  # the pipe's end stays open: it reads "go"

    def why_it_stopped(self, wait: float = 0.5) -> str:
        """The last line it wrote on stderr, or how it exited."""
        if self.pid is not None and self._status is None:
            self._server.wait_for(self, forked=False, timeout=wait)
        line = last_line(self._stderr)
        if line:
            return line
        if self._lost is not None:
            return self._lost
        return describe_exit(self._status_code())

    def _status_code(self) -> int | None:
        if self._status is None or self._status < 0:
            return None
        return os.waitstatus_to_exitcode(self._status)

    def kill(self) -> None:
        """Kill it and what it started (its session), unless it has been reaped already."""
        if self.waiting_for_pid:
            self._server.wait_for(self, forked=True, timeout=KILLING)
        pid = self._pid
        if pid is not None and self.running():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def kill_and_reap(self) -> None:
        """Kill it; the server reaps it. Our ends of its pipes are closed."""
        self.kill()
        self._close_pipes()

    def _close_pipes(self) -> None:
        if self._closed:
            return
        self._closed = True
        for fd in (self._stdin, self.events_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._stderr.close()


# The server's side


def main() -> None:
    from fetchviz.runs import worker

    theirs = socket.socket(fileno=int(sys.argv[1]))
    server_pid = os.getpid()
    die_with_parent(os.getppid())
    worker.prepare()
    wake_r, wake_w = os.pipe()  # SIGCHLD writes a byte here: a process to reap
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    while True:
        ready = select.select([theirs.fileno(), wake_r], [], [])[0]
        if wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
            _reap(theirs)
        if theirs.fileno() in ready:
            message, fds, _, _ = socket.recv_fds(theirs, 1, 3)
            if not message:  # the parent is gone
                os._exit(0)
            pid = os.fork()
            if pid == 0:
                _become_the_run(fds, server_pid, (theirs.fileno(), wake_r, wake_w))
            for fd in fds:
                os.close(fd)
            _answer(theirs, b"P", pid, 0)
            _reap(theirs)


def _reap(theirs: socket.socket) -> None:
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _answer(theirs, b"X", pid, status, usage.ru_maxrss)


def _answer(theirs: socket.socket, kind: bytes, pid: int, status: int, peak: int = 0) -> None:
    try:
        theirs.sendall(ANSWER.pack(kind, pid, status, peak))
    except OSError:  # the parent is gone
        os._exit(0)


def _become_the_run(fds: list[int], server_pid: int, ours: tuple[int, ...]) -> None:
    """In the forked process: the run's pipes as its stdin, stdout and stderr, then the run.
    It never returns into the server's loop."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in ours:
            os.close(fd)
        os.setsid()
        name_this_process(RUN_NAME)
        copy_shared_memory()  # while it waits for its command: not in its run's time
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        from fetchviz.runs import worker

        worker.serve(server_pid)
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


if __name__ == "__main__":
    main()
