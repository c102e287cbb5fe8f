"""Importing a library with some of its own optional dependencies hidden.

sqlite-utils imports pandas when it can (0.2-0.4 s) for DataFrame inserts we never use, and
pyqtgraph imports CUDA's Python bindings (0.1-0.2 s, they come with torch's CUDA build) for a
GPU image path we never use. Both sit on the way to the window on every start. Hidden only
while that one library loads: anything imported later sees the real packages again.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def hidden(*names: str) -> Iterator[None]:
    """Make `import name` raise ImportError inside the block, for modules not yet imported."""
    blocked = [n for n in names if n not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not found"
    try:
        yield
    finally:
        for name in blocked:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]
