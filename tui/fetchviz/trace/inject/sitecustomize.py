"""Loaded by every Python that `fetchviz trace` starts, and by their Python children: this
folder is put first on PYTHONPATH, and Python imports `sitecustomize` at start-up.

It starts the tracer (fetchviz_tracer.py, beside it), takes this folder off sys.path again so
that the program sees the path it would have had, and then runs the `sitecustomize` that this
one hid, if there is one. Only the standard library: the program's Python may not be
fetchviz's (another venv, another version).
"""

import importlib.util
import os
import sys


def _start() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    if os.environ.get("FETCHVIZ_TRACE"):
        try:
            import fetchviz_tracer

            fetchviz_tracer.start()
        except (FileNotFoundError, ConnectionRefusedError):
            pass  # the session's socket is gone (fetchviz has quit): untraced, as without it
        except Exception as exc:  # the program runs, untraced, whatever went wrong here
            print(f"fetchviz trace: this process runs untraced: {exc}", file=sys.stderr)
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    this = sys.modules.pop("sitecustomize")
    try:
        spec = importlib.util.find_spec("sitecustomize")  # the one this one hid
    finally:
        sys.modules["sitecustomize"] = this  # site's import of this one ends with it here
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)


_start()
