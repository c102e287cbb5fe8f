"""Guards against known defects of the installed Qt binding, applied once at start-up."""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

# Refs added to True and False when the emit defect is present: more than any session can use.
_EXTRA_REFS = 1 << 40
_guarded = False


class _Probe(QObject):
    ping = Signal()


def emit_drops_bool_reference() -> bool:
    """Whether `Signal.emit()` returns True without owning a reference (PySide6 6.12.0).

    On Python 3.11 the bools are ordinary objects, so every emit from Python then takes one
    reference from True, and after a few hundred emits the interpreter aborts with
    "bool_dealloc: deallocating True or False". From Python 3.12 on the bools are immortal.
    """
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    return sys.getrefcount(True) <= before - 8


def guard_signal_emit() -> None:
    """Keep True and False alive for good if emits leak their references; idempotent.

    The bools are never freed in a healthy interpreter, so extra references change nothing
    there; they only stop the defect from counting True down to zero. The real fix is a
    PySide6 without the defect (see packaging/constraints.txt).
    """
    global _guarded
    if _guarded or sys.version_info >= (3, 12):
        return
    _guarded = True
    if not emit_drops_bool_reference():
        return
    log.warning("this PySide6 drops a reference on every signal emit; keeping the bools alive")
    for value in (True, False):
        if sys.implementation.name == "cpython" and not hasattr(sys, "gettotalrefcount"):
            # ob_refcnt is the first field of every object in a release build of CPython.
            ctypes.c_ssize_t.from_address(id(value)).value += _EXTRA_REFS
        else:  # pragma: no cover - debug builds and other interpreters: the slow, public way
            for _ in range(1 << 20):
                ctypes.pythonapi.Py_IncRef(ctypes.py_object(value))
