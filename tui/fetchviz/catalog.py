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

CODE = Path(__file__).with_name("strategies.py")
BLOCKING_FETCH = "fetch_blocking"  # the helper the requests-based strategies share


@dataclass(frozen=True, slots=True)
class Code:
    """A top-level function of strategies.py, read as text."""

    source: str
    is_async: bool
    names: frozenset[str]  # every name it refers to


@functools.cache
def _functions() -> dict[str, Code]:
    text = CODE.read_text(encoding="utf-8")
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
    """A strategy by name; `function` names its code in strategies.py."""

    id: str
    key: str
    summary: str  # one line: what the user should see, and why
    function: str

    @property
    def is_async(self) -> bool:
        return _functions()[self.function].is_async

    @property
    def uses_blocking_fetch(self) -> bool:
        """True where requests.get blocks a thread: the run's, or a pool's."""
        return BLOCKING_FETCH in _functions()[self.function].names

    def source(self) -> str:
        """The code that runs, as the dashboard shows it: the strategy's own first (on a
        small screen it is what shows), then the helper it shares."""
        parts = [_functions()[self.function].source]
        if self.uses_blocking_fetch:
            parts.append(_functions()[BLOCKING_FETCH].source)
        return "\n\n".join(part.rstrip() for part in parts)


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
