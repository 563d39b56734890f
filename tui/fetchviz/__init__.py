"""fetchviz: watch Python concurrency happen, one HTTP fetch per row."""

from __future__ import annotations

__version__ = "0.1.0"
