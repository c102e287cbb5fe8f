"""The Stems view's door to a finished separation: reading its files, and which stems one hears.

The separation itself is ``Studio.stems_job``; listening to its result (the files read at one
rate, Solo/Mute, the mix) is pure DSP in ``musicapp.stems.mix``, offered here so the UI reaches
the stems package only through the studio's rooms (``tests/unit/test_import_boundaries.py``).
"""

from __future__ import annotations

from musicapp.stems.mix import audible, mix, read_stems

__all__ = ["audible", "mix", "read_stems"]
