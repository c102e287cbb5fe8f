"""The desktop front end (PySide6 + pyqtgraph): the main window, its panels, models and jobs."""

from musicapp.optional_deps import hidden

with hidden("cuda", "cuda.bindings"):  # pyqtgraph's GPU image path, never used (optional_deps.py)
    import pyqtgraph  # noqa: F401
