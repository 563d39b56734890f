"""Whether `python -m NAME` would find NAME, found without importing anything.

importlib.util.find_spec("a.b") imports `a` to look inside it: `fetchviz trace -m crawl.py`
ran the whole script crawl.py in fetchviz's own process (untraced, with fetchviz's argv),
only to say that there is no module "crawl.py". Here each part is looked up as the import
system's finders would, and a package's folder is read, never its code run.

Run by another Python too, as `python -c SOURCE NAME` (exit 0: found): Python 3.8 and later.
"""

from __future__ import annotations

import sys
from typing import Any


def found(name: str) -> bool:
    parts = name.split(".")
    if not all(part.isidentifier() for part in parts):
        return False
    path: Any = None  # sys.path, for the top level
    for depth in range(1, len(parts) + 1):
        spec = _spec(".".join(parts[:depth]), path)
        if spec is None:
            return False
        if depth < len(parts):
            path = spec.submodule_search_locations
            if path is None:  # a module, not a package: nothing is inside it
                return False
    return True


def _spec(fullname: str, path: Any) -> Any:
    for finder in sys.meta_path:  # an editable install's finder too, not only sys.path's
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        try:
            spec = find(fullname, path)
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            return spec
    return None


if __name__ == "__main__":
    sys.exit(0 if found(sys.argv[1]) else 1)
