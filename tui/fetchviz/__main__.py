"""`python -m fetchviz` runs the same command as the `fetchviz` script."""

from __future__ import annotations

from fetchviz.cli import entry

entry()
