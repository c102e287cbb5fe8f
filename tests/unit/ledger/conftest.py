"""Fixtures for the ledger's tests: a small closed ledger to tamper with."""

from __future__ import annotations

from pathlib import Path

import pytest

from musicapp.ledger import Ledger


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A closed ledger of 8 events, kinds cycling through a workflow."""
    p = tmp_path / "ledger.sqlite"
    kinds = ["verification", "generation", "export", "verification"] * 2
    with Ledger(p) as led:
        for i, kind in enumerate(kinds, start=1):
            led.append(kind, {"n": i, "song": f"song-{i}", "share": i / 10})
    return p
