"""The installed Qt binding keeps its references: PySide6-Essentials 6.12.0 on Python 3.11 did
not (every emit and void call dropped a reference to True or None until the app aborted), so
packaging/constraints.txt excludes it. This test fails if such a binding comes back."""

import subprocess
import sys


def test_a_long_session_of_calls_and_emits_does_not_abort_the_interpreter():
    code = (
        "import sys\n"
        "from PySide6.QtCore import QObject, Signal\n"
        "class Probe(QObject):\n"
        "    ping = Signal()\n"
        "p = Probe()\n"
        "before = sys.getrefcount(None), sys.getrefcount(True)\n"
        "for _ in range(20000):\n"
        "    p.setObjectName('x')\n"
        "    p.ping.emit()\n"
        "after = sys.getrefcount(None), sys.getrefcount(True)\n"
        "print(all(a >= b - 100 for a, b in zip(after, before)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "True"
