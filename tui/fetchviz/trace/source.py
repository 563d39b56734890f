"""The live source of a traced program: starts it, listens to what its processes' tracers say,
reads its output, and says how it ended. Events go to the consumer in batches, as a run's do.

The channel is a Unix socket in a folder made for the session, which only the user can enter
(mkdtemp makes it 0700), removed when the source closes: nothing listens on a network port.
Every process of the program connects to it once (a forked child again, on its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import itertools
import os
import select
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Protocol

from fetchviz.core.events import (
    Event,
    ProcessEnded,
    ProgramExited,
    ProgramOutput,
    RunFinished,
    RunStarted,
)
from fetchviz.core.source import Batch, Feed
from fetchviz.core.timeline import fit_text
from fetchviz.core.trace import CLIENTS
from fetchviz.trace.program import Program, bundle
from fetchviz.trace.wire import Decoder, in_start_order, messages

Deliver = Callable[[Batch], None]
GRACE = 3.0  # escape: SIGINT first, so the program can clean up; killed after this long
READ = 1 << 16


def exit_code(returncode: int) -> tuple[int, str]:
    """The exit code a shell would say, and in words."""
    if returncode < 0:
        number = -returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return 128 + number, f"killed by {name}"
    return returncode, f"exited with {returncode}"


def _die_with_us() -> None:
    """In the program's process, before it starts: killed if fetchviz dies (Linux)."""
    with contextlib.suppress(Exception):
        assert _LIBC is not None
        _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


_LIBC: ctypes.CDLL | None
try:
    _LIBC = ctypes.CDLL(None, use_errno=True)  # loaded now: not in the forked child
except OSError:  # not a libc we can load (not Linux): the process group is killed instead
    _LIBC = None


def _unfinished_utf8(data: bytes | bytearray) -> int:
    """How many bytes at the end of `data` begin a UTF-8 character not finished yet (0-3):
    a read can end inside tqdm's `█` (3 bytes)."""
    for back in range(1, min(3, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: the character's first
            length = (
                2
                if byte >> 5 == 0b110
                else 3
                if byte >> 4 == 0b1110
                else 4
                if byte >> 3 == 0b11110
                else 1
            )
            return back if length > back else 0
    return 0


def as_shown(line: str) -> str:
    """A line as a terminal leaves it: what follows its last carriage return. A progress bar
    that redraws itself so shows as its last drawing, not as every one run together."""
    return line.rstrip("\r").rsplit("\r", 1)[-1]


class TracedRun:
    """One run of the program: its process, its connections, its output."""

    def __init__(self, source: TraceSource, run_id: int) -> None:
        self.source = source
        self.run_id = run_id
        self.decoder = Decoder(run_id)
        self.connections: dict[int, tuple[socket.socket, list[int | None], bytearray]] = {}
        self.output: dict[int, tuple[str, bytearray]] = {}
        # Connections closed, with what they said and when: (pid, bytes, closed at).
        self.gone: list[tuple[list[int | None], bytearray, float]] = []
        self.proc: subprocess.Popen[bytes] | None = None
        self.finished = False
        self.stopping: asyncio.TimerHandle | None = None
        self.requests = 0
        self.held: list[Event] | None = None  # headless, at the end: delivered in one batch

    def deliver(self, events: list[Event]) -> None:
        if self.held is not None:
            self.held += events
        elif events and not self.finished:
            self.source.deliver(events)

    # Starting and stopping

    def begin(self) -> None:
        source, program = self.source, self.source.program
        live, kept = source.live, source.keep_output
        env = program.environment(source.socket_path, kept, source.url, source.cacert)
        # Live, its own session: the terminal's keys are the dashboard's, its stdin is not the
        # terminal. Headless, it has the terminal, as it would without fetchviz (its output
        # through a pipe of ours only when recorded).
        stdin: int | None = subprocess.DEVNULL if live else None
        stdout: int | None = subprocess.PIPE if kept else source.stdout
        stderr: int | None = subprocess.PIPE if kept else None
        self.deliver([RunStarted(self.run_id, "trace", 0, time.perf_counter())])
        try:
            self.proc = subprocess.Popen(
                program.argv,
                cwd=program.cwd,
                env=env,
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                start_new_session=live,
                preexec_fn=_die_with_us if _LIBC is not None else None,
            )
        except OSError as exc:
            self._end(None, f"could not start {program.target}: {exc.strerror or exc}")
            return
        loop = source.loop
        if kept:
            for stream, name in ((self.proc.stdout, "stdout"), (self.proc.stderr, "stderr")):
                assert stream is not None
                fd = stream.fileno()
                os.set_blocking(fd, False)
                self.output[fd] = (name, bytearray())
                loop.add_reader(fd, self._on_output, fd)
        threading.Thread(target=self._wait, name="fetchviz-trace-reaper", daemon=True).start()

    def _wait(self) -> None:
        assert self.proc is not None
        self.proc.wait()
        with contextlib.suppress(RuntimeError):  # the loop closed: fetchviz is quitting
            self.source.loop.call_soon_threadsafe(self._exited)

    def cancel(self) -> None:
        """Stop it as Ctrl+C would (SIGINT to its process group), killed after GRACE."""
        if self.proc is None or self.finished:
            return
        self._signal(signal.SIGINT)
        if self.stopping is None:
            self.stopping = self.source.loop.call_later(GRACE, self.kill)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def killed_code(self) -> int | None:
        """Once killed (fetchviz quitting mid-run): its exit code as a shell would say it, so
        that `fetchviz trace` exits with it (not 0) as the program did."""
        if self.proc is None:
            return None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=1)  # SIGKILL'd: reaped in a few ms
        return None if self.proc.returncode is None else exit_code(self.proc.returncode)[0]

    def _signal(self, signum: int) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.source.live:
                os.killpg(self.proc.pid, signum)
            else:
                self.proc.send_signal(signum)

    def _kill_the_rest(self) -> None:
        """What the program left running (its children): nothing of it outlives its run."""
        if self.proc is not None and self.source.live:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        main = self.proc.pid if self.proc is not None else None
        for pid in self.decoder.pids - {main}:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    # What it says

    def connected(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        fd = conn.fileno()
        self.connections[fd] = (conn, [None], bytearray())
        self.source.loop.add_reader(fd, self._on_message, fd)

    def _on_message(self, fd: int, now: bool = False) -> None:
        """What a process said. Live, decoded as it comes; headless, kept as it came and
        decoded once the program has ended (`now`): on 2 cores, decoding 4,000 messages while
        a 1,000-request aiohttp program runs took its CPU from the program (it ran 1.2-1.3×
        its plain time; kept for later, see benchmarks/run.py's `fetchviz trace` figures)."""
        conn, pid, buffer = self.connections[fd]
        closed = False
        while True:
            try:
                data = conn.recv(READ)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                closed = True
                break
            buffer += data
            if len(data) < READ:
                break
        if closed:
            self.source.loop.remove_reader(fd)
            conn.close()
            del self.connections[fd]
            self.gone.append((pid, buffer, time.perf_counter()))
        if self.source.live or now:
            self._decode_gone()
            if not closed:
                self.deliver(self._decode(pid, buffer))

    def _decode(self, pid: list[int | None], buffer: bytearray) -> list[Event]:
        events: list[Event] = []
        for message in messages(buffer):
            pid[0], decoded = self.decoder.decode(pid[0], message)
            events += decoded
        self.requests = self.decoder.count
        return events

    def _decode_gone(self) -> None:
        """The processes whose connections closed: what they said, then that they ended."""
        for pid, buffer, at in self.gone:
            events = self._decode(pid, buffer)
            if pid[0] is not None:  # a process gone: what it had in flight ends with it
                why = "its process ended before the answer"
                events += self.decoder.unfinished({pid[0]}, at, why)
                events.append(ProcessEnded(self.run_id, at, pid[0], "ended"))
            self.deliver(events)
        self.gone.clear()

    def _on_output(self, fd: int) -> None:
        name, buffer = self.output[fd]
        try:
            data = os.read(fd, READ)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        at = time.perf_counter()
        if data and not self.source.live:  # headless, recorded: it reaches the terminal too
            self._pass_on(name, data)
        if not data:  # its last line, unended
            self.source.loop.remove_reader(fd)
            del self.output[fd]
            self.deliver(self._ended_lines(at, [(name, buffer)]))
            return
        buffer += data
        *lines, rest = buffer.split(b"\n")
        # What a terminal would still show of the unended line: past its last `\r` but a
        # trailing one. A spinner that never ends its line kept every drawing, and each
        # read decoded them all again.
        redrawn = rest.rstrip(b"\r").rfind(b"\r")
        buffer[:] = rest[redrawn + 1 :]
        rest = buffer
        events: list[Event] = []
        if lines:  # another stream's unended line came first: a terminal shows it first
            others = [(other, waiting) for other, waiting in self.output.values() if other != name]
            events += self._ended_lines(at, others, more_to_come=True)
        events += [
            ProgramOutput(self.run_id, at, name, as_shown(line.decode(errors="replace")))
            for line in lines
        ]
        if rest:  # the line being written, shown as it is so far (a progress bar's `\r`s)
            shown = rest[: len(rest) - _unfinished_utf8(rest)].decode(errors="replace")
            events.append(ProgramOutput(self.run_id, at, name, as_shown(shown), True))
        self.deliver(events)

    def _pass_on(self, name: str, data: bytes) -> None:
        """Headless: what it wrote, as it wrote it, where it would have gone (with --json its
        stdout goes to our stderr: our stdout is the JSON's)."""
        fd = (self.source.stdout or 1) if name == "stdout" else 2
        view = memoryview(data)
        with contextlib.suppress(OSError):  # the terminal gone: the run goes on
            while view:
                try:
                    view = view[os.write(fd, view) :]
                except BlockingIOError:  # a terminal set non-blocking: wait until it takes more
                    select.select([], [fd], [], 1.0)

    def _ended_lines(
        self, at: float, streams: list[tuple[str, bytearray]], more_to_come: bool = False
    ) -> list[Event]:
        """Unended lines, each taken as a line of its own, and their buffers emptied; with
        `more_to_come`, but for a character whose first bytes only have come."""
        events: list[Event] = []
        for name, buffer in streams:
            whole = len(buffer) - (_unfinished_utf8(buffer) if more_to_come else 0)
            if whole:
                text = as_shown(buffer[:whole].decode(errors="replace"))
                events.append(ProgramOutput(self.run_id, at, name, text))
                del buffer[:whole]
        return events

    # How it ended

    def _exited(self) -> None:
        """Its first process ended: take in what is still on the way, then end the run."""
        assert self.proc is not None
        if not self.source.live:  # decoded a process at a time: numbered in start order after
            self.held = []
        # A process can connect, say everything and exit before this loop's turn came to
        # accept it (a busy machine): its connection waits in the listener's backlog.
        self.source.accept_waiting()
        for fd in list(self.connections):
            self._on_message(fd, now=True)
        self._decode_gone()
        for fd in list(self.output):
            self._on_output(fd)
        self._kill_the_rest()
        self._end(self.proc.returncode, None)

    def _end(self, returncode: int | None, error: str | None) -> None:
        if self.finished:
            return
        at = time.perf_counter()
        loop = self.source.loop
        events: list[Event] = self.decoder.unfinished(
            None, at, "the program ended before the answer"
        )
        # A last line never ended, whose pipe had not said end of file yet (read once at
        # exit; a grandchild may hold it open): a line of its own, not lost with its buffer.
        events[:0] = self._ended_lines(at, list(self.output.values()))
        cancelled = self.stopping is not None
        if returncode is not None:
            code, how = exit_code(returncode)
            events.append(ProgramExited(self.run_id, at, code, how, self._note()))
        events.append(RunFinished(self.run_id, at, cancelled=cancelled, error=error))
        if self.held is not None:
            events, self.held = in_start_order(self.held + events), None
        self.deliver(events)
        self.finished = True
        if self.stopping is not None:
            self.stopping.cancel()
        for fd in list(self.connections):
            loop.remove_reader(fd)
            self.connections.pop(fd)[0].close()
        for fd in list(self.output):
            loop.remove_reader(fd)
            del self.output[fd]
        if self.proc is not None:
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()
        self.source.ended(self)

    def _note(self) -> str | None:
        main = self.proc.pid if self.proc is not None else None
        notes = []
        if main not in self.decoder.pids:
            if not self.decoder.pids:
                return (
                    "the program ran untraced: its Python did not load fetchviz's tracer "
                    "(python -I or -E, or not a Python program)"
                )
            # `-- sh -c 'python …'`: the shell is not Python, the Pythons it started were.
            notes.append(
                f"its first process ({fit_text(shlex.join(self.source.program.argv), 30)}) "
                "ran untraced (not Python, or -I, -E): its Python children were traced"
            )
        if not self.decoder.count:
            notes.append(f"it made no HTTP request through the clients fetchviz watches: {CLIENTS}")
        untraced: list[tuple[int, list[str]]] = []
        running: list[tuple[int, list[str]]] = []
        for pid, argv in self.decoder.untraced():
            (running if _alive(pid) else untraced).append((pid, argv))
        if untraced:
            notes.append(
                "untraced (not Python, or a Python that did not load the tracer: -I, -E): "
                + _named(untraced)
            )
        if running:  # left running, not traced (yet): not Python, or not started far enough
            notes.append("still running when the program ended, not traced: " + _named(running))
        return " · ".join(notes) or None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _named(processes: list[tuple[int, list[str]]]) -> str:
    named = "; ".join(f"{pid} ({fit_text(shlex.join(argv), 50)})" for pid, argv in processes[:3])
    return named + (f" and {len(processes) - 3} more" if len(processes) > 3 else "")


class TraceHandle(Protocol):
    """A run of the program as the screen holds it: a live one, or one played back."""

    run_id: int

    def cancel(self) -> None:
        """Stop it (a live program: SIGINT, killed after GRACE)."""


class TraceFeed(Feed, Protocol):
    """What shows a traced program's runs takes them from: the live TraceSource, recorded or
    not, or a recording played back (trace.recorded.TracePlayback)."""

    @property
    def program(self) -> Program: ...

    @property
    def current(self) -> TraceHandle | None: ...

    def start(self) -> TraceHandle:
        """A run of the program: its events come through open()'s `deliver`."""
        ...


class TraceSource:
    """Runs the program, once a start(), and passes on every batch of what it does."""

    def __init__(
        self,
        program: Program,
        live: bool = True,
        url: str | None = None,
        stdout: int | None = None,
        cacert: str | None = None,
        keep_output: bool = False,
    ) -> None:
        self.program = program
        self.live = live
        # Its output read line by line, as events: on the dashboard, and headless when it is
        # recorded (a replay shows it), passed through to the terminal then as it comes.
        self.keep_output = live or keep_output
        self.url = url  # --serve: the embedded server's, for the program to use
        self.stdout = stdout  # headless: where its stdout goes (None: ours)
        self._ids = itertools.count(1)
        self._dir = tempfile.mkdtemp(prefix="fetchviz-trace-")  # 0700: only the user's
        self.socket_path = os.path.join(self._dir, "s")
        self.cacert = bundle(cacert, self._dir) if cacert is not None else None
        self.current: TracedRun | None = None
        self.quit_code: int | None = None  # the exit code of a run that close() killed
        self._listener: socket.socket | None = None
        self._deliver: Deliver | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "open() first"
        return self._loop

    def open(self, deliver: Deliver) -> None:
        self._loop = asyncio.get_running_loop()
        self._deliver = deliver
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.socket_path)
        listener.listen(128)
        listener.setblocking(False)
        self._listener = listener
        self._loop.add_reader(listener.fileno(), self.accept_waiting)

    def now(self) -> float:
        return time.perf_counter()

    def deliver(self, events: Batch) -> None:
        if self._deliver is not None:
            self._deliver(events)

    def start(self) -> TracedRun:
        """The program, run afresh (a run still going is stopped first)."""
        if self.current is not None:
            self.current.kill()
            self.current._end(None, None)
        run = self.current = TracedRun(self, next(self._ids))
        run.begin()
        return run

    def ended(self, run: TracedRun) -> None:
        if self.current is run:
            self.current = None

    def accept_waiting(self) -> None:
        """Listen to each process that has connected (none waits: the listener never blocks)."""
        if self._listener is None:
            return
        while True:
            try:
                conn, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if self.current is None:  # a process of a run that ended: not listened to
                conn.close()
                continue
            self.current.connected(conn)

    def close(self) -> None:
        """Kill the program and what it started; remove the socket and its folder."""
        if self.current is not None:
            self.current.kill()
            self.current._kill_the_rest()
            self.current.finished = True
            self.quit_code = self.current.killed_code()
        if self._listener is not None:
            with contextlib.suppress(Exception):
                self.loop.remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None
        shutil.rmtree(self._dir, ignore_errors=True)
