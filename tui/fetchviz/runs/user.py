"""A strategy from the user's own file: `-s PATH.py:FUNCTION`.

Checked in the dashboard's process by reading the file, never by running it (the user's code
runs in the run's process alone, like a built-in's): a missing file, a syntax error, a missing
function or one that cannot be called as `f(job)` is said in one line before any run starts.
The run's process loads the file afresh for every run, so an edit shows at the next `r`.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fetchviz.core.actions import OWN_KEYS
from fetchviz.core.catalog import Strategy

# Keys for the user's strategies, after the built-ins' 1–8; a third and more run from the
# command palette and in compare-all.
KEYS = OWN_KEYS  # the keys of a user's strategies, in the order given


class UserStrategyError(Exception):
    """The user's file or function cannot be run; the message says what to fix, in one line."""


def split_spec(spec: str) -> tuple[str, str]:
    """'path/to/file.py:function' → its two parts (a Windows drive's colon stays in the path)."""
    path, colon, function = spec.rpartition(":")
    if not colon or not path.endswith(".py") or not function:
        file = spec.rstrip(":")
        named = _functions_of(file) if file.endswith(".py") else []
        example = ", ".join(f"{file}:{name}" for name in named[:3]) or "examples/bounded.py:bounded"
        raise UserStrategyError(
            f"{spec!r}: a strategy of your own is PATH.py:FUNCTION, e.g. {example}"
        )
    if not function.isidentifier():
        raise UserStrategyError(f"{spec!r}: {function!r} is not a Python function name")
    return path, function


def _functions_of(path: str) -> list[str]:
    """The top-level functions of a file that takes one argument, as a strategy does; [] if
    it cannot be read."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and _signature_problem(node.args) is None
    ]


def read_function(
    path: str, function: str
) -> tuple[ast.Module, ast.FunctionDef | ast.AsyncFunctionDef, str]:
    """The file's syntax tree, the function's node and the file's text; or why not."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserStrategyError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserStrategyError(f"{path}: a directory, not a Python file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserStrategyError(f"{path}: cannot be read ({exc})") from None
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        raise UserStrategyError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    node = next(
        (
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == function
        ),
        None,
    )
    if node is None:
        names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        close = difflib.get_close_matches(function, names, n=1)
        raise UserStrategyError(
            f"{path}: no function {function!r} at the top level "
            + (
                f"(did you mean {path}:{close[0]}?)"
                if close
                else f"(write `def {function}(job):` or `async def {function}(job):`)"
            )
        )
    problem = _signature_problem(node.args)
    if problem:
        raise UserStrategyError(
            f"{path}:{node.lineno}: {function}() {problem}; write {function}(job)"
        )
    return tree, node, text


def _signature_problem(args: ast.arguments) -> str | None:
    """Why `f(job)` would not call it, or None."""
    positional = [*args.posonlyargs, *args.args]
    required = len(positional) - len(args.defaults)
    if required > 1:
        return f"needs {required} arguments, but is given one (the job)"
    if not positional and args.vararg is None:
        return "takes no argument, but is given one (the job)"
    missing = [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    if missing:
        return f"needs keyword argument {missing[0]!r}, which nobody gives it"
    return None


def load(path: str, function: str) -> Callable[[Any], Any]:
    """Run the file as a module of its own and take the function from it: in the run's
    process, once per run (a fresh process), so the file's latest text is what runs."""
    read_function(path, function)  # the same one-line reasons as at launch
    name = f"fetchviz_user_{Path(path).stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UserStrategyError(f"{path}: cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    # Its folder, as `python FILE` would have it: a file imports the modules beside it.
    sys.path.insert(0, str(Path(path).resolve().parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise UserStrategyError(
            f"{path}: raised {type(exc).__name__} while loading: {exc}"
        ) from None
    code = getattr(module, function, None)
    if not callable(code):
        raise UserStrategyError(f"{path}: {function!r} is not a function once the file has run")
    return code  # type: ignore[no-any-return]


def strategy_from(spec: str, taken: set[str], key: str = "") -> Strategy:
    """The user's strategy named by PATH.py:FUNCTION, checked; its id is the function's name,
    or FILE.FUNCTION where that name is `taken` already (a built-in's, another file's)."""
    path, function = split_spec(spec)
    _, node, _ = read_function(path, function)
    name = function
    if name in taken:
        name = f"{Path(path).stem}.{function}"
    if name in taken:
        name = spec
    doc = ast.get_docstring(node)
    summary = doc.strip().splitlines()[0] if doc else f"your {function}() from {Path(path).name}"
    return Strategy(name, key, summary, function, path)


def check(strategy: Strategy) -> str | None:
    """Why the user's file, as it is now, cannot run (one line), or None: asked before each run."""
    if strategy.path is None:
        return None
    try:
        read_function(strategy.path, strategy.function)
    except UserStrategyError as exc:
        return str(exc)
    return None
