"""The emit guard keeps a long session alive on a PySide6 whose emit leaks a bool reference."""

import subprocess
import sys

from musicapp.ui.qt_compat import guard_signal_emit


def test_many_emits_after_the_guard_do_not_abort():
    code = (
        "from musicapp.ui.qt_compat import guard_signal_emit, _Probe\n"
        "guard_signal_emit()\n"
        "p = _Probe()\n"
        "for _ in range(20000):\n"
        "    p.ping.emit()\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"


def test_the_guard_is_idempotent():
    before = sys.getrefcount(True)
    guard_signal_emit()
    guard_signal_emit()
    assert sys.getrefcount(True) >= before - 1
