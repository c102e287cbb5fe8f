"""The audit of any audio against the catalogue: fingerprints, segment embeddings, and the
non-negative decomposition that turns their candidates into influence vectors."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from musicapp.attribution.types import AuditResult, AuditStatus, Finding
from musicapp.jobs import CancelToken, ProgressCallback, no_progress

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore


BASELINE = "baseline"  # plain chroma/embedding similarity of the whole piece, no segments
FINGERPRINTS = "fingerprints"
DECOMPOSITION = "decomposition"
COMBINED = "combined"
METHODS = (BASELINE, FINGERPRINTS, DECOMPOSITION, COMBINED)


def audit_index_path(catalog_path: Path) -> Path:
    """``<catalogue>-audit.sqlite`` beside the catalogue (rebuildable from it)."""
    return catalog_path.with_name(f"{catalog_path.stem}-audit.sqlite")


class Auditor:
    """Audits audio against one catalogue (interface; bodies being written)."""

    def __init__(self, index_path: Path, catalog: CatalogStore, **options: Any) -> None:
        self.index_path = index_path
        self.catalog = catalog

    def status(self) -> AuditStatus:
        raise NotImplementedError

    def catch_up(
        self, progress: ProgressCallback = no_progress, cancel: CancelToken | None = None
    ) -> int:
        """Index the catalogue songs the index lacks (and drop songs no longer there); returns
        how many were added. Resumable: a cancelled run keeps what it finished."""
        raise NotImplementedError

    def audit(
        self,
        audio: np.ndarray,
        sample_rate: int,
        progress: ProgressCallback = no_progress,
        cancel: CancelToken | None = None,
        method: str = COMBINED,
    ) -> AuditResult:
        """The audit of float ``(channels, samples)`` audio at ``sample_rate``.

        ``method`` is one of METHODS: the combination (the app's), or one detector alone for
        the evaluation harness: plain similarity (the baseline), fingerprints alone, or the
        decomposition of segment embeddings alone."""
        raise NotImplementedError

    def find_material(
        self, audio: np.ndarray, sample_rate: int, cancel: CancelToken | None = None
    ) -> tuple[Finding, ...]:
        """Catalogue recordings found outright in the audio (fingerprints only): for the
        user's own audio before an audio- or temporal-level take."""
        raise NotImplementedError

    def close(self) -> None:
        pass
