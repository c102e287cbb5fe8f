"""The studio's door to the model files: each model's state, and importing (or trusting) one.

It needs only the models folder, so ``musicapp models --models-dir D`` uses one without
opening a data folder; the studio holds one for ``settings.models_dir``.
"""

from __future__ import annotations

from pathlib import Path

from musicapp.model_trust import trust_path
from musicapp.weights import (
    MANIFEST,
    Imported,
    ModelCheck,
    ModelEntry,
    check_model,
    import_file,
    load_manifest,
)

# Models whose files ship in the repository's models/ folder, beside the manifest, rather than
# in the user's models folder (the composer, trained by this project: docs/training.md). They
# are checked where they are, against the same manifest sha256.
SHIPPED = frozenset({"composer"})


class ModelsRoom:
    """The weight files in one models folder, checked against the manifest."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = Path(models_dir)

    @property
    def trust_list(self) -> Path:
        """Where the sha256s the user vouched for are kept."""
        return trust_path(self.models_dir)

    def checks(self) -> list[tuple[ModelEntry, ModelCheck]]:
        """Every model in the manifest with the state of its files here."""
        return [
            (
                entry,
                check_model(entry, MANIFEST.parent if entry.name in SHIPPED else self.models_dir),
            )
            for entry in load_manifest()
        ]

    def import_file(self, path: Path, model: str | None = None, *, trust: bool = False) -> Imported:
        """Check a weight file against the manifest and copy it into place (``--trust``: record
        the sha256 of one without a published sha256 in the trust list)."""
        return import_file(Path(path), self.models_dir, model, trust=trust)
