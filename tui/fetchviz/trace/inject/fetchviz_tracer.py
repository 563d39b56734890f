# mypy: disable-error-code="method-assign,assignment,attr-defined"
"""fetchviz's tracer, inside a traced program: its requests, threads, tasks and loop, reported.

Started by sitecustomize.py in every Python that `fetchviz trace` starts (FETCHVIZ_TRACE is the
path of the session's socket). Only the standard library, and nothing at start but a
connection and an import watcher: the hooks for a client are installed when the program
imports it (http.client, urllib3, httpx, aiohttp, asyncio), so a program that never imports
httpx pays nothing for it.

What it sends: messages over a Unix socket, each a 4-byte length and a marshal'd tuple (see
fetchviz/trace/wire.py for each), in batches. Stamps are time.perf_counter(), taken where
things happen (CLOCK_MONOTONIC: fetchviz reads the same clock).

Who sends them: a program whose only concurrency is one asyncio loop on its main thread gets
no thread of ours (one idle thread alone cost such a program 4-5 % of its elapsed time, see
docs/performance.md): its loop's heartbeat sends, and an alarm (a POSIX timer's SIGURG,
ignored by default) rings only when a beat is late, to say where the loop is stuck; the beat
sends for the program's other threads too (an executor's). Any other program (a loop on
another thread, requests while no loop runs, a SIGURG handler of its own) gets one daemon
thread that sends and watches the loops, from then on.

A request's row: where it began (a connection opened for it, or its request line sent), its
method and URL, the thread and asyncio task it ran in, and the first frame of the program's
own code that led to it (`where`); where it ended (its body read to the end, its response
closed, or what it raised); the moments inside it (connect, TLS, sent, first byte).
"""

from __future__ import annotations

import atexit
import collections
import functools
import itertools
import marshal
import os
import signal
import socket
import sys
import sysconfig
import threading
import time
from contextvars import ContextVar
from typing import Any

SENDER = "fetchviz-tracer"  # the sender thread's name
PERIOD = 0.01
BEAT = 0.02  # a watched loop beats this often
BLOCKED = 0.1  # a loop whose beat is this late is blocked: where it is stuck is sent
now = time.perf_counter
__tracebackhide__ = True  # pytest leaves this file's frames out of a failing test's traceback

_out: collections.deque[Any] = collections.deque()  # messages to send; deque: thread-safe
_put = _out.append
dumps = marshal.dumps
_sock: socket.socket | None = None
_ids = itertools.count(1)
_started = False
# A pool's worker process (multiprocessing) is killed as soon as its results are in: there,
# a request's end is handed over at once, not up to PERIOD later.
_eager = False
# Requests begun and not ended, all threads: when none is left, the last one's end goes at
# once (Request.end). A hint, read and written under the GIL only.
_in_flight = 0
_lock = threading.Lock()  # one batch on the socket at a time
_rest = b""  # what a loop's flush could not send without waiting: sent first, next time
_loops: dict[int, _Watched] = {}  # thread ident -> the loop it runs
_sender_started = False  # the sender thread runs (it starts once needed: _need_sender)
_alarm: _Alarm | None = None  # rings when the main thread's loop misses its beat
# http.client's requests whose answer came, body not yet read: at exit each ends with its
# status (urllib's HTTPError, uncaught, ends the program with its 404's body unread).
_answered: dict[int, Request] = {}
_here = os.path.dirname(os.path.abspath(__file__))


def send(*message: Any) -> None:
    """A message, encoded now (marshal): bytes, which the garbage collector does not track.
    Kept as tuples until sent, a 1,000-request aiohttp program's messages outlived its young
    collections and made its older ones come sooner: tracing cost it 11 % more CPU (5 % with
    bytes; /usr/bin/time over 8 interleaved rounds each). Its length is put before it when it
    is sent (flush), off the program's thread. The hooks on a hot path (aiohttp's, asyncio's)
    call _put(dumps(...)) themselves: a Python call fewer."""
    try:
        data = dumps(message)
    except ValueError:  # something not plain in it: said as text
        data = dumps(_plain(message))
    _put(data)


def flush(wait: bool = True) -> None:
    """What is waiting, sent: each message its 4-byte length and its bytes. A task's first
    message waits as (task, at, thread), its name read here: asyncio.create_task names a
    task after the loop made it. A loop's own flush (its beat) does not wait, for the lock
    nor for room in the socket: what does not fit is kept for the next flush."""
    global _sock, _rest
    if _sock is None or not _lock.acquire(blocking=wait):
        return
    try:
        batch = [_rest]
        take = _out.popleft
        while _out:
            message = take()
            if type(message) is tuple:  # a task's start or end, said now
                message = _task_message(*message) if len(message) == 4 else _ended_message(*message)
            batch.append(len(message).to_bytes(4, "little"))
            batch.append(message)
        data = b"".join(batch)
        if not data:
            return
        if wait:
            _sock.sendall(data)
            _rest = b""
        else:
            try:
                sent = _sock.send(data, _DONTWAIT)
            except BlockingIOError:
                sent = 0
            _rest = data[sent:]
    except OSError:  # fetchviz went: the program goes on, untraced
        _sock = None
    finally:
        _lock.release()


_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)


def _task_message(task: Any, at: float, thread: str, serial: int) -> bytes:
    return dumps(("task", task.get_name(), at, thread, serial))


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_plain(item) for item in value)
    return str(value)


# Where in the program: the first frame that is not a library's.


def _roots(*paths: str | None) -> tuple[str, ...]:
    return tuple(sorted({os.path.abspath(path) + os.sep for path in paths if path}))


def _site_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = [paths.get("purelib"), paths.get("platlib")]
    try:
        import site

        roots += [*site.getsitepackages(), site.getusersitepackages()]
    except Exception:  # an embedded or stripped Python: what sysconfig says will do
        pass
    return _roots(*roots)


_SITE = _site_roots()  # installed packages (under the stdlib's folder, in some Pythons)
_STDLIB = _roots(sysconfig.get_paths().get("stdlib"))
_HERE = _roots(_here)  # installed, this folder is under site-packages: it is still not a library
_CLIENTS = {"urllib3", "requests", "httpx", "httpcore", "aiohttp", "_vendor", "anyio", "h11"}
PROGRAM, LIBRARY, STDLIB, CLIENT = 0, 1, 2, 3
_TYPED = {"<string>", "<stdin>"}  # code given with -c or on stdin, as tracebacks name it
_kinds: dict[str, int] = {}  # a file's kind, worked out once


def _kind(filename: str) -> int:
    kind = _kinds.get(filename)
    if kind is None:
        if filename in _TYPED:  # `python -c CODE`, `python - < script`: the program's own
            kind = PROGRAM
        elif filename.startswith("<") or filename.startswith(_HERE):  # ours: never `where`
            kind = STDLIB
        elif filename.startswith(_SITE):
            parts = set(filename.split(os.sep))
            kind = CLIENT if parts & _CLIENTS else LIBRARY
        elif filename.startswith(_STDLIB):
            kind = STDLIB
        else:
            kind = PROGRAM
        _kinds[filename] = kind
    return kind


def where(frame: Any) -> tuple[Any, ...] | None:
    """[file, line, function] of the first frame of the program's own, walking out from
    `frame`; where every frame is a library's (pip, say), the first outside the standard
    library and the HTTP clients. A dict lookup a frame: cheap enough for every request."""
    fallback = None
    while frame is not None:
        code = frame.f_code
        # A task's own stack ends here: where was it made? At asyncio's Handle._run; under
        # uvloop, whose loop runs a task's steps from Cython with no Handle._run frame, at
        # the last Python frame on the thread, the tracer's own run_forever wrapper. (The
        # second check costs ~500 instructions a request of 1,070,000: trace_instructions.py.)
        if code is _HANDLE_RUN or code is _RUN_FOREVER:
            made = _tasks.get(id(_current_task()))
            return fallback if made is None else made[0]
        kind = _kinds.get(code.co_filename)  # _kind's first line, inline: it runs a request
        if kind is None:
            kind = _kind(code.co_filename)
        if kind == PROGRAM:
            return _place(frame, code)
        if kind == LIBRARY and fallback is None:
            fallback = _place(frame, code)
        frame = frame.f_back
    return getattr(_submitted, "where", None) or fallback


# (code, offset) -> (file, line, function): a frame's line is worked out from its code's line
# table (_PyCode_CheckLineNumber), and a program makes its requests from a few places.
_places: dict[tuple[Any, int], tuple[str, int, str]] = {}


def _place(frame: Any, code: Any) -> tuple[str, int, str]:
    key = (code, frame.f_lasti)
    place = _places.get(key)
    if place is None:
        place = _places[key] = (code.co_filename, frame.f_lineno, code.co_name)
    return place


# A pool thread's stack holds none of the program's frames: its work's `where` is where the
# program handed it over (executor.submit, loop.run_in_executor).
_submitted = threading.local()


def _hook_thread_pool(module: Any) -> None:
    submit = module.ThreadPoolExecutor.submit

    @functools.wraps(submit)
    def _submit(self: Any, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        made = where(sys._getframe(1))
        if made is None:
            return submit(self, fn, *args, **kwargs)

        def handed_over(*args: Any, **kwargs: Any) -> Any:
            _submitted.where = made
            try:
                return fn(*args, **kwargs)
            finally:
                _submitted.where = None

        return submit(self, handed_over, *args, **kwargs)

    module.ThreadPoolExecutor.submit = _submit


def _hook_subprocess(module: Any) -> None:
    """Each child started: a Python one says hello itself once its tracer loads; one that
    never does (not Python, or `python -I`) is named as untraced when the program ends."""
    popen = module.Popen.__init__

    @functools.wraps(popen)
    def __init__(self: Any, args: Any, *rest: Any, **kwargs: Any) -> None:
        popen(self, args, *rest, **kwargs)
        argv = [args] if isinstance(args, (str, bytes, os.PathLike)) else list(args)
        send("spawned", self.pid, [os.fsdecode(arg) for arg in argv], now())

    module.Popen.__init__ = __init__


_HANDLE_RUN: Any = None  # asyncio's Handle._run: below it, the loop, not the program
_RUN_FOREVER: Any = None  # the tracer's run_forever wrapper's code: below it under uvloop, too
# id(task) -> (where the program made it, its number in this process, in the order they were
# made: what tells apart the tasks a program names alike, ten workers called "worker").
_tasks: dict[int, tuple[tuple[Any, ...], int]] = {}
_serials = itertools.count(1)


def _current_task() -> Any:
    loop = _running_loop()
    return None if loop is None else _task_of(loop)


# Until asyncio is imported (_hook_asyncio), no loop runs. Then, asyncio's own lookups,
# without asyncio.current_task's Python call where it has one (3.11).
def _no_loop() -> None:
    return None


_running_loop: Any = _no_loop
_task_of: Any = None


_threads = threading.local()


def _thread_name() -> str:
    """The current thread's name as it was at its first request or task: read at each."""
    try:
        return _threads.name  # type: ignore[no-any-return]
    except AttributeError:
        name = _threads.name = threading.current_thread().name
        return name


def _task_named() -> tuple[str | None, int | None]:
    """The current task's name, and its number if the program made it (None: a task the
    program did not make, or none)."""
    task = _current_task()
    if task is None:
        return None, None
    made = _tasks.get(id(task))
    return task.get_name(), None if made is None else made[1]


# A request, from where it began to where it ended.


class Request:
    __slots__ = (
        "answers",
        "blocking",
        "blocks",
        "connect_start",
        "connected",
        "ended",
        "headers",
        "id",
        "length",
        "nbytes",
        "secured",
        "sent",
        "status",
        "tls_known",
    )

    def __init__(self, method: str, url: str, depth: int = 2) -> None:
        global _in_flight
        _in_flight += 1
        self.id = next(_ids)
        self.blocking = False  # a blocking client's (http.client, httpx's Client)
        self.blocks = False  # a blocking client's, on a loop's thread
        self.connect_start = self.connected = self.secured = self.sent = self.headers = None
        self.tls_known = True
        self.answers = 0
        self.status: int | None = None
        self.nbytes = 0
        self.length: int | None = None  # the body's size, where its headers said it
        self.ended = False
        task, serial = _task_named()
        message = (
            "start",
            self.id,
            now(),
            method,
            url,
            _thread_name(),
            task,
            where(sys._getframe(depth)),
            serial,
        )
        try:
            _put(dumps(message))
        except ValueError:  # something not plain in it
            send(*message)

    def stamp(self, name: str, first: bool = True) -> None:
        if not first or getattr(self, name) is None:
            setattr(self, name, now())
            if name == "headers":
                self.answers += 1

    def end(self, nbytes: int | None = None, error: BaseException | str | None = None) -> None:
        global _in_flight
        if self.ended:
            return
        self.ended = True
        _in_flight -= 1
        _answered.pop(self.id, None)
        reason = None
        if isinstance(error, BaseException):
            reason = [_chain(error), str(error)]
        elif error is not None:
            reason = [[], error]
        marks = (
            self.connect_start,
            self.connected,
            self.secured,
            self.sent,
            self.headers,
            self.tls_known,
            self.answers,
        )
        _put(dumps(("end", self.id, now(), self.status, nbytes, reason, marks)))
        if _eager:
            flush()
            return
        if self.blocks:  # the loop it blocked may stay blocked, elsewhere
            _moved(self)
        if self.blocking or not _in_flight:
            # Its end goes now, not at the sender's next wake (nor the loop's next beat): a
            # program can be killed as soon as it has its answer, and after SIGKILL (or
            # SIGTERM's default) no Python runs to hand it over. A blocking client's every
            # end: one send() a request, 1,000 requests.get over 50 threads (many_threads.py)
            # took the same time (1.001×, 10 interleaved rounds) for 5 % more CPU, fetchviz's
            # reading included (0.05 s; A/B by getrusage, 2026-12-07). An async client's,
            # when it was the last in flight: 1,000 at once cost one send, not 1,000.
            flush(wait=False)


def _chain(error: BaseException) -> list[str]:
    """The class names of an error and of those it wraps (fetchviz turns them into a reason)."""
    names: list[str] = []
    todo, seen = [error], set[int]()
    while todo and len(seen) < 16:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        names.append(type(current).__name__)
        inner = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        todo += [e for e in (*inner, *current.args) if isinstance(e, BaseException)]
    return names


# http.client: what requests, urllib3 (pip's vendored copy too) and urllib.request go through.
# The request is the connection's: `_fvz` on the connection, then on its response.


def _origin(conn: Any) -> str:
    https = getattr(conn, "default_port", 80) == 443
    port = "" if conn.port in (None, 443 if https else 80) else f":{conn.port}"
    host = f"[{conn.host}]" if ":" in str(conn.host) else conn.host
    return f"{'https' if https else 'http'}://{host}{port}"


def _current(conn: Any) -> Request | None:
    request = conn._fvz
    return None if request is None or request.ended else request


def _opening(conn: Any) -> Request:
    """A connection opens: for the request about to go, or (urllib3's HTTPS) before its
    request line, which fills in the method and path when it comes."""
    request = _current(conn)
    if request is None:
        request = conn._fvz = Request("", _origin(conn) + "/", depth=4)
        conn._fvz_unnamed = True
        _blocking_call(request)
    return request


def _failing(method: Any, conn_of: Any = lambda self: self) -> Any:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            conn = conn_of(self)
            request = _current(conn) if conn is not None else None
            if request is not None:
                request.end(error=exc)
            raise

    return call


def _opens(method: Any, before: str | None, after: str) -> Any:
    """A connection's opening, timed on the request it opens for (a new row if none is
    going yet); what it raises ends that request."""

    @functools.wraps(method)
    def opening(self: Any) -> Any:
        request = _opening(self)
        if before is not None:
            request.stamp(before)
        try:
            result = method(self)
        except Exception as exc:
            request.end(error=exc)
            raise
        request.stamp(after)
        return result

    return opening


def _hook_http_client(module: Any) -> None:
    C, S, R = module.HTTPConnection, module.HTTPSConnection, module.HTTPResponse
    putrequest = C.putrequest

    @functools.wraps(putrequest)
    def _putrequest(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        request = _current(self)
        full = url if "://" in url else _origin(self) + url
        if request is not None and self._fvz_unnamed:
            self._fvz_unnamed = False
            send("named", request.id, method, full)
        else:
            if request is not None:  # its answer was left unread: it ends here
                request.end()
            request = self._fvz = Request(method, full, depth=2)
            _blocking_call(request)
        request.stamp("sent")
        return putrequest(self, method, url, *args, **kwargs)

    getresponse = C.getresponse

    @functools.wraps(getresponse)
    def _getresponse(self: Any, *args: Any, **kwargs: Any) -> Any:
        request = _current(self)
        self._fvz_reading = True  # it closes the connection itself on `close`
        try:
            response = getresponse(self, *args, **kwargs)
        except TypeError:  # called as another Python's was (urllib3 1.x tries buffering=True)
            raise
        except BaseException as exc:  # Ctrl+C while it waited for the answer, too
            if request is not None:
                request.end(error=exc)
            raise
        finally:
            self._fvz_reading = False
        if request is not None:
            request.stamp("headers", first=False)
            request.status = response.status
            request.length = response.length
            response._fvz = request
            _answered[request.id] = request
            if response.length == 0 or response._method == "HEAD":
                request.end(0)  # nothing more comes
        return response

    close = C.close

    @functools.wraps(close)
    def _close(self: Any) -> Any:
        request = _current(self)
        if request is not None and not self._fvz_reading:
            request.end(error=None if request.headers else "closed before the answer")
        return close(self)

    def _ended(method: Any) -> Any:
        @functools.wraps(method)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            request = self._fvz
            result = method(self, *args, **kwargs)
            if request is not None and not request.ended and not self._fvz_in_read:
                request.end(request.length if request.length is not None else request.nbytes)
            return result

        return call

    # The body's bytes, as the program reads them (read, readinto, read1; readline reads
    # through them; urllib3 a chunked body through _safe_read): a chunked body has no
    # length to go by. A read that reaches the body's
    # end closes the response inside it: the row ends after its bytes are counted, here.
    def _counted(method: Any, size: Any) -> Any:
        @functools.wraps(method)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            request = self._fvz
            if request is None or self._fvz_in_read:  # one read inside another: once
                return method(self, *args, **kwargs)
            self._fvz_in_read = True
            try:
                result = method(self, *args, **kwargs)
            except Exception as exc:
                request.end(error=exc)
                raise
            finally:
                self._fvz_in_read = False
            request.nbytes += size(result)
            if self.fp is None and not request.ended:  # its end came inside this read
                request.end(request.length if request.length is not None else request.nbytes)
            return result

        return call

    C._fvz, C._fvz_unnamed, C._fvz_reading = None, False, False  # why: _hook_aiohttp
    R._fvz, R._fvz_in_read = None, False
    C.putrequest = _putrequest
    C.connect = _opens(C.connect, "connect_start", "connected")  # TCP
    S.connect = _opens(S.connect, None, "secured")  # its TCP connect (C's) stamps first
    C.getresponse = _getresponse
    C.close = _close
    C.endheaders = _failing(C.endheaders)
    R.read = _counted(R.read, len)
    R.readinto = _counted(R.readinto, int)
    R.read1 = _counted(R.read1, len)
    # urllib3 reads a chunked body through _safe_read, each chunk and then, on its own, the
    # CRLF that closes it: framing, not the body (a read of exactly those 2 bytes of a body
    # is miscounted, by 2).
    R._safe_read = _counted(R._safe_read, lambda data: 0 if data == b"\r\n" else len(data))
    R._close_conn = _ended(R._close_conn)
    R.close = _ended(R.close)


def _hook_urllib3(module: Any) -> None:
    """urllib3 opens its connections itself, not through http.client's connect()."""
    C, S = module.HTTPConnection, module.HTTPSConnection
    C._new_conn = _opens(C._new_conn, "connect_start", "connected")  # TCP
    S.connect = _opens(S.connect, None, "secured")  # TCP (its _new_conn), then TLS


# httpx: a row a Client.send (redirects followed inside it), its phases from httpcore's
# `trace` extension, the same names fetchviz's own runs read (fetchviz/runs/phases.py).

_HTTPCORE = {
    "connection.connect_tcp.started": ("connect_start", True),
    "connection.connect_tcp.complete": ("connected", True),
    "connection.start_tls.complete": ("secured", True),
    "http11.send_request_headers.started": ("sent", True),
    "http2.send_request_headers.started": ("sent", True),
    "http11.receive_response_headers.complete": ("headers", False),
    "http2.receive_response_headers.complete": ("headers", False),
}


def _hook_httpx(module: Any) -> None:
    """httpx, and httpx2 (pydantic's, the same API and `trace` extension): a row a request on
    the wire, as http.client's are, so a redirect's hops are rows of their own, each with its
    phases (Client._send_single_request: one call a hop, past redirects and auth). A row ends
    when its response is closed: httpx closes it once the body is read (Client.send without
    stream=True, or a hop it follows), the program does otherwise."""

    def traced(request: Request, extensions: dict[str, Any], is_async: bool) -> Any:
        theirs = extensions.get("trace")
        theirs = getattr(theirs, "_fvz_theirs", theirs)  # a hop before this one had ours

        def stamp(name: str) -> None:
            what = _HTTPCORE.get(name)
            if what is not None:
                request.stamp(*what)

        if is_async:

            async def atrace(name: str, info: Any) -> None:
                stamp(name)
                if theirs is not None:
                    await theirs(name, info)

            atrace._fvz_theirs = theirs
            return atrace

        def trace(name: str, info: Any) -> None:
            stamp(name)
            if theirs is not None:
                theirs(name, info)

        trace._fvz_theirs = theirs
        return trace

    def begun(self: Any, http_request: Any, is_async: bool) -> Request:
        request = Request(http_request.method, str(http_request.url), depth=3)
        if not is_async:
            _blocking_call(request)
        extensions = http_request.extensions
        extensions["trace"] = traced(request, extensions, is_async)
        return request

    def answered(request: Request, response: Any) -> None:
        request.status = response.status_code
        response._fvz = request

    sync_send = module.Client._send_single_request

    @functools.wraps(sync_send)
    def send_(self: Any, http_request: Any) -> Any:
        request = begun(self, http_request, False)
        try:
            response = sync_send(self, http_request)
        except BaseException as exc:
            request.end(error=exc)
            raise
        answered(request, response)
        return response

    async_send = module.AsyncClient._send_single_request

    @functools.wraps(async_send)
    async def asend(self: Any, http_request: Any) -> Any:
        request = begun(self, http_request, True)
        try:
            response = await async_send(self, http_request)
        except BaseException as exc:
            request.end(error=exc)
            raise
        answered(request, response)
        return response

    # httpx closes a response when a read of its body fails, in the `except` that re-raises:
    # an error being handled then is the row's if httpx raised it for this very request (it
    # names the request it was reading for), or if it cuts any code short (a cancel, Ctrl+C).
    # Not another request's error that the program is handling (`except ConnectError:` then
    # a fallback), nor raise_for_status's inside `with client.stream(...)`.
    failure = module.RequestError

    def closing(method: Any, is_async: bool) -> Any:
        def finish(response: Any) -> None:
            request = response._fvz
            if request is None or request.ended:
                return
            error = sys.exc_info()[1]
            if (
                isinstance(error, failure)
                and getattr(error, "_request", None) is getattr(response, "_request", None)
            ) or (error is not None and not isinstance(error, Exception)):
                request.end(error=error)
            else:
                request.end(response.num_bytes_downloaded)

        if is_async:

            @functools.wraps(method)
            async def aclose(self: Any) -> Any:
                try:
                    return await method(self)
                finally:
                    finish(self)

            return aclose

        @functools.wraps(method)
        def close(self: Any) -> Any:
            try:
                return method(self)
            finally:
                finish(self)

        return close

    module.Response._fvz = None  # read as an attribute, why: _hook_aiohttp
    module.Client._send_single_request = send_
    module.AsyncClient._send_single_request = asend
    module.Response.close = closing(module.Response.close, False)
    module.Response.aclose = closing(module.Response.aclose, True)


# The answers aiohttp goes on from inside one _request: a redirect, an auth challenge. Not a
# proxy's 200 to CONNECT, which its tunnel's protocol is told to expect too.
_FOLLOWED = frozenset({301, 302, 303, 307, 308, 401, 407})


def _hop(request: Request, req: Any) -> Request:
    """aiohttp follows a redirect inside one ClientSession._request: the hop that was
    answered ends, a row of its own as requests' hops are, when the next begins (aiohttp
    released it just before), and the next, `req` (its ClientRequest), is a new row."""
    request.end()
    method, url = ("GET", "") if req is None else (req.method, str(req.url))
    hop = Request(method, url, depth=3)
    _CURRENT.set(hop)
    return hop


# aiohttp: a row a ClientSession._request; it ends when the body has been read (or the
# response released or closed). Its phases from the connector and the connection's protocol.

_CURRENT: ContextVar[Request | None] = ContextVar("fetchviz_trace_request", default=None)


def _aiohttp_url(session: Any, url: Any, params: Any) -> str:
    """The URL aiohttp will ask for: joined to the session's base_url, `params` added to its
    query (a plain str(url) showed neither)."""
    try:
        built = session._build_url(url)
        return str(built.extend_query(params) if params else built)
    except Exception:  # not a URL aiohttp takes: it raises that itself, and the row says so
        return str(url)


def _hook_aiohttp(module: Any) -> None:
    """One coroutine wrapper, ClientSession._request, and plain functions for the rest: a
    coroutine wrapper is resumed each time the request's task is, and the three of them this
    had (connect, connection, answer) with _request cost a 1,000-request program 10 % of its
    wall time (1.157 against 1.053 without them, 30 interleaved rounds); the plain ones, a
    line or two a request, cost it about 1 %."""
    from aiohttp import client, client_proto, client_reqrep, connector

    session_request = client.ClientSession._request

    @functools.wraps(session_request)
    async def _request(self: Any, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        params = kwargs.get("params")
        if params or getattr(self, "_base_url", None) is not None:
            request = Request(method, _aiohttp_url(self, url, params))
        else:
            request = Request(method, str(url))
        token = _CURRENT.set(request)
        try:
            response = await session_request(self, method, url, *args, **kwargs)
            request = _CURRENT.get() or request  # a redirect's last hop (_hop)
        except BaseException as exc:
            (_CURRENT.get() or request).end(error=exc)
            raise
        finally:
            _CURRENT.reset(token)
        request.status = response.status
        response._fvz = request
        # The whole body came with the headers (a small one, or none): aiohttp has released
        # the connection already, and ends nothing more for it than the program's release,
        # which may come much later (`async with … as r:` then work): it ends now.
        if response.content.is_eof() and getattr(response, "_connection", None) is None:
            request.end(response.content.total_bytes)
        return response

    # Connecting: from the call that opens one (TCP and TLS in one call; the coroutine it
    # makes is awaited at once) to the connection's being handed to the request.
    create = connector.TCPConnector._create_connection

    @functools.wraps(create)
    def _create_connection(self: Any, *args: Any, **kwargs: Any) -> Any:
        request = _CURRENT.get()
        if request is not None:
            if request.headers is not None and request.status in _FOLLOWED:  # its next hop
                request = _hop(request, args[0] if args else kwargs.get("req"))
            if request.connect_start is None:
                request.connect_start = now()
                request.tls_known = False
        return create(self, *args, **kwargs)

    # Sent: the request has its connection (new or from the pool) and is about to be written
    # on it, which is when aiohttp tells the connection's protocol what answer to expect.
    handler = client_proto.ResponseHandler
    expect = handler.set_response_params

    @functools.wraps(expect)
    def _expect(self: Any, *args: Any, **kwargs: Any) -> None:
        expect(self, *args, **kwargs)
        request = _CURRENT.get()
        if request is not None:
            if request.headers is not None and request.status in _FOLLOWED:  # pooled
                request = _hop(request, sys._getframe(1).f_locals.get("req"))
            at = now()
            if request.connect_start is not None and request.connected is None:
                request.connected = at
            if request.sent is None:
                request.sent = at
            self._fvz = request  # its answer's headers: feed_data, below

    # The answer's headers: parsed and handed on (each answer's, a redirect's too: the last
    # one's kept, as many counted).
    feed = handler.feed_data

    @functools.wraps(feed)
    def _fed(self: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        feed(self, data, *args, **kwargs)
        request = self._fvz
        code = getattr(data[0], "code", 200)
        if request is not None and (code >= 200 or code == 101):  # not an interim 1xx
            request.headers = now()
            request.answers += 1
            request.status = code  # a redirect's hop ends with it (_hop)

    def ended(method: Any) -> Any:
        @functools.wraps(method)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = method(self, *args, **kwargs)
            request = self._fvz
            if request is not None:
                self._fvz = None  # ended once: then nothing to do
            if request is not None and not request.ended:
                content = getattr(self, "content", None)
                request.end(getattr(content, "total_bytes", None))
            return result

        return call

    response = client_reqrep.ClientResponse
    # Read as attributes, never through __dict__: asking an object for its __dict__ turns its
    # attributes' inline values into a dict for the rest of its life, and every attribute
    # aiohttp reads on that protocol or response got slower. With these defaults the tracer
    # cost many_aiohttp.py 17,900 fewer instructions a request, 1,083,446 -> 1,065,552
    # (benchmarks/trace_instructions.py's method; 957,247 untraced).
    handler._fvz = None
    response._fvz = None
    client.ClientSession._request = _request
    connector.TCPConnector._create_connection = _create_connection
    handler.set_response_params = _expect
    handler.feed_data = _fed
    response._response_eof = ended(response._response_eof)
    response.release = ended(response.release)
    response.close = ended(response.close)


# asyncio: every task's life, and each loop's heartbeat, which the sender watches.


class _Watched:
    __slots__ = ("beat_at", "blocked", "moved_at", "thread", "where", "worst")

    def __init__(self) -> None:
        self.beat_at = now()
        self.blocked = False
        self.worst = 0.0
        self.thread = threading.current_thread().name
        self.where: list[Any] | None = None  # the block's, as first seen
        # A blocking request began or ended inside the block: from then, the loop may be
        # stuck elsewhere (requests.get, then time.sleep), and is looked at again.
        self.moved_at: float | None = None


_ASYNCIO_OWN = ("shutdown_asyncgens", "shutdown_default_executor", "close")
_ASYNCIO_FILES = ("runners.py", "base_events.py")


def _made_by_program(frame: Any) -> tuple[Any, ...] | None:
    """Where the program made a task; None for a task an HTTP client or asyncio.run made for
    itself (anyio's connection attempts, the shutdown of async generators)."""
    while frame is not None:
        code = frame.f_code
        if code is _HANDLE_RUN:
            made = _tasks.get(id(_current_task()))
            return None if made is None else made[0]
        kind = _kinds.get(code.co_filename)  # _kind's first line, inline: it runs a task
        if kind is None:
            kind = _kind(code.co_filename)
        if kind == PROGRAM:
            return _place(frame, code)
        if kind == CLIENT:
            return None  # a client's own
        if code.co_name in _ASYNCIO_OWN and code.co_filename.endswith(_ASYNCIO_FILES):
            return None
        frame = frame.f_back
    return None


def _hook_asyncio(module: Any) -> None:
    global _HANDLE_RUN, _running_loop, _task_of
    _HANDLE_RUN = module.events.Handle._run.__code__
    _running_loop = module.events._get_running_loop
    current = getattr(module.tasks, "_current_tasks", None)  # C's own dict (3.11, 3.12)
    _task_of = current.get if isinstance(current, dict) else module.current_task
    _watch_loop_class(module.base_events.BaseEventLoop)


def _task_done(task: Any) -> None:
    """A task's end, stamped: said when sent (_ended_message). A done callback costs a task a
    call_soon and a Handle whatever it does (2 µs here): this one does no more than it must."""
    _put((task, now()))


def _ended_message(task: Any, at: float) -> bytes:
    made = _tasks.pop(id(task), None)  # the task is alive till now: its id is still its own
    if hasattr(task, "_exception"):
        # Read as asyncio keeps them: task.exception() would mark the exception retrieved, and
        # asyncio would no longer log the program's "Task exception was never retrieved".
        cancelled, failed = task._state == "CANCELLED", task._exception is not None
    else:  # a task factory's own kind of task
        cancelled = task.cancelled()
        failed = not cancelled and task.exception() is not None
    state = "cancelled" if cancelled else "failed" if failed else "done"
    return dumps(("task_end", task.get_name(), at, state, 0 if made is None else made[1]))


def _watch_loop_class(base: Any) -> None:
    """Every task a loop of this class makes, and a heartbeat while it runs: asyncio's own
    loops, and uvloop's, whose Loop is a Python class over its Cython one."""
    create_task = base.create_task

    @functools.wraps(create_task)
    def _create_task(self: Any, *args: Any, **kwargs: Any) -> Any:
        task = create_task(self, *args, **kwargs)
        made_at = _made_by_program(sys._getframe(1))
        if made_at is not None:
            serial = next(_serials)
            _tasks[id(task)] = (made_at, serial)
            _put((task, now(), _thread_name(), serial))  # named when sent
            task.add_done_callback(_task_done)
        return task

    global _RUN_FOREVER
    run_forever = base.run_forever

    @functools.wraps(run_forever)
    def _run_forever(self: Any) -> Any:
        ident = threading.get_ident()
        if ident in _loops:  # a loop inside a running one: asyncio refuses it, as it would
            return run_forever(self)
        watched = _loops[ident] = _Watched()
        alarm = _lone_loop_alarm()

        def beat() -> None:
            nonlocal alarm
            at = now()
            watched.worst = max(watched.worst, at - watched.beat_at - BEAT)
            if watched.blocked:
                watched.blocked = False
                send("unblocked", watched.thread, at)
            watched.beat_at, watched.moved_at = at, None
            handle[0] = self.call_later(BEAT, beat)
            if alarm is not None:
                _reset_rings()
                if _alarm_is_ours():
                    alarm.ring_in(BEAT + BLOCKED + 0.001)  # unless the next beat comes first
                    if _sender_started:  # it started meanwhile: it watches, not the alarm
                        alarm.ring_in(0)
                else:
                    alarm.ring_in(0)
                    alarm = None
                    _need_sender()
            if _out or _rest:  # from the loop's thread, not the sender's: see _pause
                flush(wait=False)

        handle = [self.call_soon(beat)]
        if alarm is not None:  # from now: what runs before the first beat may block it too
            alarm.ring_in(BEAT + BLOCKED + 0.001)
        try:
            return run_forever(self)
        finally:
            handle[0].cancel()
            if alarm is not None:
                alarm.ring_in(0)  # off
            _loops.pop(ident, None)
            if watched.blocked:
                send("unblocked", watched.thread, now())
            send("lag", watched.thread, watched.worst)
            if not _sender_started:  # the loop's last events go now, not at exit
                flush(wait=False)
                if _rest:
                    _need_sender()

    base.create_task = _create_task
    base.run_forever = _run_forever
    _RUN_FOREVER = _run_forever.__code__


def _blocked_where(ident: int) -> list[Any] | None:
    """Where a loop's thread is stuck: the program's frame, and what it called there."""
    frame = sys._current_frames().get(ident)
    while frame is not None and frame.f_code in _ALARM_CODE:  # read in the alarm: skip it
        frame = frame.f_back
    inner = None
    while frame is not None:
        code = frame.f_code
        if _kind(code.co_filename) == PROGRAM:
            called = None
            if inner is not None:
                module = inner.f_globals.get("__name__", "")
                called = f"{module.split('.')[0]}.{inner.f_code.co_name}"
            return [code.co_filename, frame.f_lineno, code.co_name, called]
        inner = frame
        frame = frame.f_back
    return None


def _watch_loops() -> None:
    at = now()
    for ident, watched in list(_loops.items()):  # a copy: a thread may add to it meanwhile
        late = at - watched.beat_at - BEAT
        if late < BLOCKED:
            continue
        if not watched.blocked:
            watched.blocked = True
            watched.where = _blocked_where(ident)
            send("blocked", watched.thread, watched.beat_at + BEAT, watched.where)
        elif watched.moved_at is not None:
            # Stuck on another line since a request began or ended there: one block said as
            # two (0.3 s in requests.get, then 5 s at time.sleep), not all of it as the first.
            # The same line (what requests does after the answer) is looked at again, for up
            # to BLOCKED after the move.
            here = _blocked_where(ident)
            if here is not None and (watched.where is None or here[:3] != watched.where[:3]):
                send("unblocked", watched.thread, watched.moved_at)
                send("blocked", watched.thread, watched.moved_at, here)
                watched.where, watched.moved_at = here, None
            elif at - watched.moved_at > BLOCKED:
                watched.moved_at = None


def _moved(request: Request) -> None:
    """A blocking request on a loop's thread began or ended: if that loop is blocked, it is
    looked at again soon (the alarm, once; or the sender's next wake)."""
    watched = _loops.get(threading.get_ident())
    if watched is None or not watched.blocked or watched.moved_at is not None:
        return
    global _rings
    watched.moved_at = now()
    if not _sender_started and _alarm is not None and _rings < RINGS:
        _rings += 1  # each ring is a byte in the loop's wakeup fd, as in _rung
        _alarm.ring_in(BEAT)


# Threads: each one's life.


# A traced program's traceback is its own: the frames of this file's wrappers (a request's,
# between the program's call and the library's raise) are left out of what Python prints of
# an uncaught exception, in the main thread or another. pytest leaves out a frame whose
# globals say __tracebackhide__ (the module's line near the top): `trace -- pytest` too.


def _without_ours(error: BaseException | None, seen: set[int]) -> None:
    """Take this file's wrappers out of the error's traceback, and its causes', contexts' and
    (an ExceptionGroup's) members'. One that began in this file (a tracer's bug) keeps them."""
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        tb, frames = error.__traceback__, []
        while tb is not None:
            frames.append(tb)
            tb = tb.tb_next
        if frames and frames[-1].tb_frame.f_code.co_filename != __file__:
            kept = [tb for tb in frames if tb.tb_frame.f_code.co_filename != __file__]
            for i, this in enumerate(kept):  # no zip(strict=): the program's Python may be 3.8
                this.tb_next = kept[i + 1] if i + 1 < len(kept) else None
            error.__traceback__ = kept[0]
        for member in getattr(error, "exceptions", None) or ():
            if isinstance(member, BaseException):
                _without_ours(member, seen)
        _without_ours(error.__cause__, seen)
        error = error.__context__


def _hook_tracebacks() -> None:
    # Not before 3.11: there, the exceptiongroup backport (anyio, httpx and trio pull it in)
    # formats groups only where sys.excepthook is still Python's own.
    if sys.version_info < (3, 11):  # noqa: UP036  the program's Python, not fetchviz's
        return
    shown, shown_in_thread = sys.excepthook, threading.excepthook

    def excepthook(kind: Any, error: Any, tb: Any) -> None:
        if isinstance(error, BaseException):
            error.__traceback__ = tb  # the traceback given is the one to show
            _without_ours(error, set())
            tb = error.__traceback__
        shown(kind, error, tb)

    def thread_excepthook(args: Any) -> None:
        error = args.exc_value
        if isinstance(error, BaseException):
            error.__traceback__ = args.exc_traceback
            _without_ours(error, set())
            args = threading.ExceptHookArgs(
                (args.exc_type, error, error.__traceback__, args.thread)
            )
        shown_in_thread(args)

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook


def _hook_traceback(module: Any) -> None:
    """What the traceback module formats (traceback.print_exc(), logging's exception(), a
    web framework's error page) leaves the wrappers out too: it formats through
    TracebackException. Not before 3.11, where the exceptiongroup backport replaces it."""
    if sys.version_info < (3, 11):  # noqa: UP036  the program's Python, not fetchviz's
        return
    made = module.TracebackException.__init__

    @functools.wraps(made)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        # Its arguments as the caller gave them, by position or by name (exc_value=...): the
        # program's own call, which must work as it would untraced, whatever it passes.
        try:
            error = args[1] if len(args) > 1 else kwargs.get("exc_value")
            tb = args[2] if len(args) > 2 else kwargs.get("exc_traceback")
            if isinstance(error, BaseException) and tb is error.__traceback__:  # as raised
                _without_ours(error, set())
                if len(args) > 2:
                    args = (*args[:2], error.__traceback__, *args[3:])
                else:
                    kwargs["exc_traceback"] = error.__traceback__
        except Exception:  # a tracer's bug: the traceback is shown whole, never lost
            pass
        made(self, *args, **kwargs)

    module.TracebackException.__init__ = __init__


def _hook_threads() -> None:
    bootstrap = threading.Thread._bootstrap_inner

    @functools.wraps(bootstrap)
    def _bootstrap_inner(self: threading.Thread) -> None:
        if self.name == SENDER:  # ours (a forked child's own): not the program's
            bootstrap(self)
            return
        ident = threading.get_ident()
        send("thread", ident, self.name, now())
        # With no sender yet (no request has blocked a thread) and no loop beating, nothing
        # else may flush soon: a multiprocessing Pool's parent, waiting in pool.map, showed
        # its threads at exit. (A loop's beat flushes: a task's name is read on its thread.)
        if not _sender_started and not _loops:
            flush(wait=False)
        try:
            bootstrap(self)
        finally:
            send("thread_end", ident, now())
            if not _sender_started and not _loops:
                flush(wait=False)

    threading.Thread._bootstrap_inner = _bootstrap_inner


# Hooks when their module is imported, not before.


def _hook_uvloop(module: Any) -> None:
    _watch_loop_class(module.Loop)


HOOKS = {
    "uvloop": _hook_uvloop,
    "concurrent.futures.thread": _hook_thread_pool,
    "subprocess": _hook_subprocess,
    "http.client": _hook_http_client,
    "httpx": _hook_httpx,
    "httpx2": _hook_httpx,
    "aiohttp": _hook_aiohttp,
    "asyncio": _hook_asyncio,
    "traceback": _hook_traceback,
}
SUFFIX_HOOKS = {"urllib3.connection": _hook_urllib3}  # pip's vendored copy too


def _hook_for(name: str) -> Any:
    hook = HOOKS.get(name)
    if hook is None and name.endswith("urllib3.connection"):
        hook = _hook_urllib3
    return hook


def _run_hook(name: str, hook: Any, module: Any) -> None:
    try:
        hook(module)
    except Exception as exc:  # a version we do not know: its requests go untraced
        send("note", f"{name} is not traced in this process: {type(exc).__name__}: {exc}")


class _Watcher:
    """On sys.meta_path: lets each module load as it would, then hooks the ones above."""

    def __init__(self) -> None:
        self.busy: set[str] = set()

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        hook = _hook_for(name)
        if hook is None or name in self.busy:
            return None
        self.busy.add(name)
        try:
            spec = None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    break
        finally:
            self.busy.discard(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_hook(module: Any) -> None:
            exec_module(module)
            _run_hook(name, hook, module)

        loader.exec_module = exec_and_hook
        return spec


# The sender: one daemon thread, which also watches the loops; or, while the program's only
# concurrency is one loop on the main thread, that loop's beat and an alarm.


def _blocking_call(request: Request) -> None:
    """A blocking client's request has begun. With no sender: on a loop's thread it is about
    to block that loop, so what waits goes now (its row, live), and so will its end; on
    another thread (a loop's executor) the loop's next beat sends it; with no loop at all,
    the sender is needed."""
    request.blocking = True
    if threading.get_ident() in _loops:
        request.blocks = True
        _moved(request)
        if not _sender_started:
            flush(wait=False)
    elif not _loops and not _sender_started:
        _need_sender()


def _need_sender() -> None:
    global _sender_started
    with _start_lock:
        if _sender_started or _sock is None:
            return
        _sender_started = True
    if _alarm is not None:
        _alarm.ring_in(0)  # the sender watches the loops from now on
    try:
        threading.Thread(target=_sender, name=SENDER, daemon=True).start()
    except Exception:  # at interpreter shutdown (3.12+), or no thread to be had: send now
        _sender_started = False
        flush()


_start_lock = threading.Lock()


class _Alarm:
    """A one-shot POSIX timer that sends SIGURG to the thread that made it (Linux's
    SIGEV_THREAD_ID), so that the program's own SIGALRM and interval timers are left alone,
    and a blocked call in that thread is interrupted (EINTR: Python runs the handler and
    retries the call, PEP 475) for the handler to read where it is."""

    def __init__(self) -> None:
        import ctypes

        if sys.platform != "linux":  # SIGEV_THREAD_ID and this struct sigevent are Linux's
            raise OSError("no thread-directed timer here")
        libc = ctypes.CDLL(None, use_errno=True)
        if not hasattr(libc, "timer_create"):  # glibc before 2.34 keeps it in librt
            libc = ctypes.CDLL("librt.so.1", use_errno=True)

        class SigEvent(ctypes.Structure):  # struct sigevent: 64 bytes, 32- and 64-bit alike
            _fields_ = [
                ("value", ctypes.c_void_p),
                ("signo", ctypes.c_int),
                ("notify", ctypes.c_int),
                ("tid", ctypes.c_int),
                ("pad", ctypes.c_byte * (64 - ctypes.sizeof(ctypes.c_void_p) - 12)),
            ]

        class Spec(ctypes.Structure):  # struct itimerspec: interval, then value
            _fields_ = [(name, ctypes.c_long) for name in ("i_s", "i_ns", "v_s", "v_ns")]

        event = SigEvent(signo=signal.SIGURG, notify=4, tid=threading.get_native_id())
        timer = ctypes.c_void_p()
        if libc.timer_create(time.CLOCK_MONOTONIC, ctypes.byref(event), ctypes.byref(timer)):
            raise OSError(ctypes.get_errno(), "timer_create")
        self._spec = Spec()
        self._set = functools.partial(libc.timer_settime, timer, 0, ctypes.byref(self._spec), None)

    def ring_in(self, seconds: float) -> None:
        """Ring once, `seconds` from now (0: not at all); a beat resets it, for ~1 µs."""
        spec = self._spec
        spec.v_s, nanoseconds = divmod(int(seconds * 1e9), 1_000_000_000)
        spec.v_ns = nanoseconds
        self._set()


def _lone_loop_alarm() -> _Alarm | None:
    """The alarm, where this loop is the program's only concurrency so far (the main thread,
    no thread of the program's, a SIGURG of nobody else's); else the sender."""
    global _alarm
    if _sender_started or _sock is None:
        return None
    # FETCHVIZ_TRACE_THREAD=1, the user's: a thread, never a signal. The alarm interrupts the
    # blocked call once; C code that takes EINTR as final (libc's sleep through ctypes
    # returns early) would run otherwise than without fetchviz.
    if (
        threading.current_thread() is not threading.main_thread()
        or not hasattr(signal, "SIGURG")
        or os.environ.get("FETCHVIZ_TRACE_THREAD")
    ):
        _need_sender()
        return None
    if _alarm is None:
        try:
            # None: a handler not set from Python (a Go or JVM runtime's): not ours to take.
            if _getsignal(signal.SIGURG) not in (signal.SIG_DFL, signal.SIG_IGN, _rung):
                raise OSError("SIGURG is the program's")
            alarm = _Alarm()
            signal.signal(signal.SIGURG, _rung)
        except Exception:  # not Linux, no timer_create, SIGURG taken: the sender watches
            _need_sender()
            return None
        _alarm = alarm
    return _alarm


def _alarm_is_ours() -> bool:
    """SIGURG still ours, and fetchviz still there (a beat asks: one C call). A program can
    take SIGURG past the watched signal.signal (`_signal.signal`, a copy made before)."""
    return _sock is not None and _getsignal(signal.SIGURG) is _rung


def _rung(signum: int, frame: Any) -> None:
    """The loop missed its beat: say where it is stuck and hand over what waits. While the
    loop stays blocked it rings again only where other threads may have more to send (a
    loop's executor), less often each time and at most RINGS times: each ring interrupts the
    blocked call and writes a byte to the loop's wakeup fd, which the blocked loop does not
    read (asyncio's holds some 270). Between any two of the program's bytecodes: it must
    never raise into the program."""
    global _rung_again, _rings
    if _sender_started:
        return
    try:
        _watch_loops()
        flush(wait=False)
        if _alarm is None or _rings >= RINGS:
            return
        watched = list(_loops.values())
        if any(w.moved_at is not None for w in watched):  # still to see where it went
            _rings += 1
            _alarm.ring_in(BEAT)
            return
        others = _out or _rest or threading.active_count() > 1
        if others and any(w.blocked for w in watched):
            _rings += 1
            _rung_again = min(1.0, _rung_again * 2)
            _alarm.ring_in(_rung_again)
    except Exception:
        pass


RINGS = 200
_rung_again = BLOCKED / 2  # the next ring while blocked: doubles up to a second
_rings = 0  # rings in this block


def _reset_rings() -> None:
    global _rung_again, _rings
    _rung_again, _rings = BLOCKED / 2, 0


_ALARM_CODE = frozenset(f.__code__ for f in (_rung, _watch_loops, _blocked_where))


def _signal_hook(original: Any) -> Any:
    """signal.signal, watched: a program that takes SIGURG for itself gets it, and the sender
    watches its loop instead of the alarm. What it had before is what it had set, or the
    default, never the alarm's handler."""

    @functools.wraps(original)
    def _signal(signalnum: Any, handler: Any) -> Any:
        if signalnum == signal.SIGURG and handler is not _rung:
            _need_sender()
        before = original(signalnum, handler)
        return signal.SIG_DFL if before is _rung else before

    return _signal


_getsignal = signal.getsignal


@functools.wraps(_getsignal)
def _program_getsignal(signalnum: Any) -> Any:
    """signal.getsignal as the program would see it without fetchviz: SIGURG's default."""
    handler = _getsignal(signalnum)
    return signal.SIG_DFL if handler is _rung else handler


def _sender() -> None:
    while True:
        time.sleep(_pause())
        if _loops:
            _watch_loops()
        if _out or _rest:
            flush()
        if _sock is None:
            return


def _pause() -> float:
    """How long the sender sleeps: PERIOD; while every loop beats, till the first of them
    would be late enough to be blocked, since each beat flushes. Each time this thread wakes
    it takes the GIL from the program's; waking every PERIOD through a 1,000-request aiohttp
    program cost it 3 to 7 % of its wall time (on 2 cores, 20 interleaved rounds)."""
    if _rest or not _loops:
        return PERIOD
    at, soonest = now(), BLOCKED
    for watched in list(_loops.values()):
        if watched.blocked:
            return PERIOD
        soonest = min(soonest, watched.beat_at + BEAT + BLOCKED - at)
    return max(soonest, 0.001)


def _argv() -> list[str]:
    """sys.argv as the program will see it; at start-up, for `-m mod`, it is still
    ['-m', …] (runpy puts the module's path there later): the module is named from
    sys.orig_argv."""
    argv = list(getattr(sys, "argv", []))
    original = getattr(sys, "orig_argv", [])
    if argv[:1] == ["-m"] and "-m" in original[:-1]:
        argv[:1] = ["-m", original[original.index("-m") + 1]]
    return argv


def _connect() -> None:
    global _sock
    path = os.environ["FETCHVIZ_TRACE"]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    _sock = sock
    send(
        "hello",
        os.getpid(),
        os.getppid(),
        _argv(),
        sys.executable,
        now(),
        sys.version.split()[0],
    )
    flush()  # the sender thread starts once something needs it (_need_sender)


def _at_exit() -> None:
    for request in list(_answered.values()):
        request.end(request.nbytes or None)
    for watched in _loops.values():
        if watched.blocked:
            send("unblocked", watched.thread, now())
    send("bye", now())
    flush()


def _after_fork() -> None:
    """A forked child (multiprocessing's fork): a connection of its own, a sender of its own."""
    global _sock, _eager, _rest, _sender_started, _alarm, _start_lock, _lock, _in_flight
    _eager = True
    _in_flight = 0  # the parent's requests are not the child's
    _sender_started = False  # the parent's sender is not in the child; nor its timer (POSIX)
    _alarm = None
    _start_lock = threading.Lock()
    _lock = threading.Lock()  # held by another thread of the parent's when it forked, maybe
    _out.clear()  # the parent's (_put is bound to this deque)
    _rest = b""
    _loops.clear()
    old, _sock = _sock, None
    if old is not None:
        old.detach()  # the parent's socket: not ours to close
    try:
        _connect()
    except OSError:
        return


def _exit_flushed(exit: Any) -> Any:
    """os._exit skips atexit (multiprocessing's children end so): hand over first."""

    @functools.wraps(exit)
    def _exit(code: int) -> None:
        if _sock is not None:
            _at_exit()
        exit(code)

    return _exit


def start() -> None:
    global _started, _eager
    if _started:
        return
    _started = True
    _eager = any("multiprocessing" in arg for arg in getattr(sys, "orig_argv", ()))
    if os.environ.get("FETCHVIZ_TRACE_LINES"):  # on the dashboard: each line as it is printed
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(line_buffering=True)
    _connect()
    _hook_threads()
    _hook_tracebacks()
    signal.signal = _signal_hook(signal.signal)  # before the program copies it (uvloop does)
    signal.getsignal = _program_getsignal
    sys.meta_path.insert(0, _Watcher())
    for name, hook in HOOKS.items():  # imported before us (rare: a .pth file's doing)
        if name in sys.modules:
            _run_hook(name, hook, sys.modules[name])
    for name in list(sys.modules):
        if name.endswith("urllib3.connection"):
            _run_hook(name, _hook_urllib3, sys.modules[name])
    atexit.register(_at_exit)
    os.register_at_fork(after_in_child=_after_fork)
    os._exit = _exit_flushed(os._exit)
