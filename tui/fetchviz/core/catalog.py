"""The strategies as the command line, the dashboard and the docs name them.

Only names, keys and summaries live here, so that the dashboard draws its first frame without
importing any HTTP client: the code itself is in strategies.py, imported by the runner process
alone, and read from there as text for the code panel.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

CODE = Path(__file__).parent.parent / "runs" / "strategies.py"
BLOCKING_FETCH = "fetch_blocking"  # the helper the requests-based strategies share


@dataclass(frozen=True, slots=True)
class Code:
    """A top-level function of strategies.py, read as text."""

    source: str
    is_async: bool
    names: frozenset[str]  # every name it refers to


@functools.cache
def _functions() -> dict[str, Code]:
    return functions_in(CODE.read_text(encoding="utf-8"))


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

    @property
    def spec(self) -> str:
        """How the command line names it: the id, or PATH.py:FUNCTION."""
        return self.id if self.path is None else f"{self.path}:{self.function}"

    def _code(self) -> dict[str, Code]:
        if self.path is None:
            return _functions()
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
        code = _functions().get(self.function) if self.path is None else None
        return code is not None and BLOCKING_FETCH in code.names

    def source(self) -> str:
        """The code that runs, as the dashboard shows it: the strategy's own first (on a
        small screen it is what shows), then the helpers of its module it calls."""
        functions = self._code()
        own = functions.get(self.function)
        if own is None:  # a user's file, broken since launch: show it as it is
            return _raw(self.path) if self.path else ""
        helpers = BLOCKING_FETCH if self.path is None else ""
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


STRATEGIES: tuple[Strategy, ...] = (
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

BY_ID: dict[str, Strategy] = {strategy.id: strategy for strategy in STRATEGIES}
