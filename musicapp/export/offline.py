"""verify_offline: check a file as a third party would, with the file and the server's CA only.

(First cut: the file's own checks, with the ledger's checks reported as skipped; the receipts
and device checks follow.)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from musicapp.export.report import FileReport
from musicapp.export.verifier import verify_file


def verify_offline(path: Path, ca: Path | None, *, data_dir: Path | None = None) -> FileReport:
    report = verify_file(Path(path), None, trust_dir=None)
    return replace(report, offline=True)
