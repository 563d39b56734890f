"""The strategies as the command line, the dashboard and the docs name them.

Only names, keys and summaries live here, so that the dashboard draws its first frame without
importing any HTTP client: the code itself is in strategies.py, imported by the runner process
alone, and read from there as text for the code panel.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

RUNS = Path(__file__).parent.parent / "runs"  # where the built-ins' modules are
CODE = RUNS / "strategies.py"
BLOCKING_FETCH = "fetch_blocking"  # the helper the requests-based strategies share
# What installs the clients of today: from a package index, and in a clone's environment.
CLIENTS_EXTRA = "pip install 'fetchviz[clients]' (from a clone: pip install '.[clients]')"


@dataclass(frozen=True, slots=True)
class Code:
    """A top-level function of strategies.py, read as text."""

    source: str
    is_async: bool
    names: frozenset[str]  # every name it refers to


@functools.cache
def _functions(module: str = "strategies") -> dict[str, Code]:
    return functions_in((RUNS / f"{module}.py").read_text(encoding="utf-8"))


@functools.cache
def _installed(name: str) -> bool:
    """Whether `name` can be imported, without importing it (the dashboard's first frame
    imports no HTTP client)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def functions_in(text: str) -> dict[str, Code]:
    """The top-level functions of a module's text, by name."""
    lines = text.splitlines()
    return {
        # Whole lines, not the node's segment: a comment after the last statement is code
        # the reader should see too.
        node.name: Code(
            "\n".join(lines[node.lineno - 1 : node.end_lineno or node.lineno]),
            isinstance(node, ast.AsyncFunctionDef),
            frozenset(name.id for name in ast.walk(node) if isinstance(name, ast.Name)),
        )
        for node in ast.parse(text).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


@dataclass(frozen=True, slots=True)
class Strategy:
    """A strategy by name; `function` names its code: in strategies.py, or for a user's own
    strategy in `path`, a file read afresh each time it is asked about (it may be edited)."""

    id: str
    key: str
    summary: str  # one line: what the user should see, and why
    function: str
    path: str | None = None  # the user's file; None for a built-in
    module: str = "strategies"  # a built-in's module in runs/
    needs: str | None = None  # what an extra installs ('fetchviz[clients]'); None: always there
    whole_seconds: bool = False  # its limit on silence is kept in whole seconds (libcurl's)

    @property
    def installed(self) -> bool:
        return self.needs is None or _installed(self.needs)

    def not_installed(self) -> str:
        """What to say when it is asked for and not installed: one line, what to do."""
        return f"{self.id} is not installed: {CLIENTS_EXTRA} adds it"

    def timeout_caveat(self, timeout: float) -> str | None:
        """Where this client cannot keep --timeout to the letter, one line that says so: a run
        against the others would otherwise look like a client that does not time out."""
        if not self.whole_seconds or timeout == math.ceil(timeout):
            return None
        kept = math.ceil(timeout)
        return f"{self.id} keeps --timeout in whole seconds: {timeout:g} s waits up to {kept} s"

    @property
    def spec(self) -> str:
        """How the command line names it: the id, or PATH.py:FUNCTION."""
        return self.id if self.path is None else f"{self.path}:{self.function}"

    def _code(self) -> dict[str, Code]:
        if self.path is None:
            return _functions(self.module)
        try:
            return functions_in(Path(self.path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            return {}  # the run will say what is wrong with the file

    @property
    def is_async(self) -> bool:
        code = self._code().get(self.function)
        return code is not None and code.is_async

    @property
    def uses_blocking_fetch(self) -> bool:
        """True where a built-in's requests.get blocks a thread: the run's, or a pool's.
        (Of a user's code nothing is assumed.)"""
        code = _functions(self.module).get(self.function) if self.path is None else None
        return code is not None and BLOCKING_FETCH in code.names

    def source(self) -> str:
        """The code that runs, as the dashboard shows it: the strategy's own first (on a
        small screen it is what shows), then the helpers of its module it calls."""
        functions = self._code()
        own = functions.get(self.function)
        if own is None:  # a user's file, broken since launch: show it as it is
            return _raw(self.path) if self.path else ""
        helpers = BLOCKING_FETCH if self.path is None and self.module == "strategies" else ""
        parts = [own.source] + [
            code.source
            for name, code in functions.items()
            if name != self.function and name in own.names and (not helpers or name == helpers)
        ]
        return "\n\n".join(part.rstrip() for part in parts)


def _raw(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"# {path}: cannot be read ({exc})"


# The tutorial's strategies, keys 1-8: what the tour compares.
TUTORIAL: tuple[Strategy, ...] = (
    Strategy("sync", "1", "a plain for loop of requests.get, one by one: the baseline", "sync"),
    Strategy(
        "async-sequential",
        "2",
        "async def around requests.get, awaited in turn: no faster",
        "async_sequential",
    ),
    Strategy(
        "gather-blocking",
        "3",
        "gather over blocking calls: a staircase, the loop stuck",
        "gather_blocking",
    ),
    Strategy(
        "executor",
        "4",
        "run_in_executor: threads, in waves of the pool's size",
        "executor",
    ),
    Strategy(
        "httpx",
        "5",
        "one httpx.AsyncClient; slows sharply with many in flight",
        "httpx_client",
    ),
    Strategy(
        "aiohttp",
        "6",
        "one aiohttp.ClientSession: one thread, the fastest",
        "aiohttp_client",
    ),
    Strategy(
        "taskgroup",
        "7",
        "asyncio.TaskGroup: structured; the first failure cancels the rest",
        "taskgroup",
    ),
    Strategy(
        "threads",
        "8",
        "ThreadPoolExecutor.map, no asyncio: the same waves as executor",
        "threads",
    ),
)

# The clients people choose between today, beside the tutorial's: with the extra only.
CLIENTS: tuple[Strategy, ...] = (
    Strategy(
        "httpx2",
        "h",
        "httpx2.AsyncClient: httpx's API, its pool rewritten",
        "httpx2_client",
        module="clients",
        needs="httpx2",
    ),
    Strategy(
        "pyreqwest",
        "p",
        "pyreqwest: Rust's reqwest on a runtime of its own",
        "pyreqwest_client",
        module="clients",
        needs="pyreqwest",
    ),
    Strategy(
        "curl-cffi",
        "l",
        "curl_cffi.AsyncSession: libcurl's multi on the loop",
        "curl_cffi_client",
        module="clients",
        needs="curl_cffi",
        whole_seconds=True,  # CURLOPT_LOW_SPEED_TIME: clients.py rounds --timeout up
    ),
)
STRATEGIES: tuple[Strategy, ...] = TUTORIAL + CLIENTS

BY_ID: dict[str, Strategy] = {strategy.id: strategy for strategy in STRATEGIES}
