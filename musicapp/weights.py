"""The model manifest: where weights live, their checksums, and whether each model is usable."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from musicapp.core import InvalidInput

MANIFEST = Path(__file__).resolve().parent.parent / "models" / "manifest.toml"


class WeightStatus(StrEnum):
    PRESENT = "present"
    MISSING = "missing"
    BAD_CHECKSUM = "bad checksum"
    UNCHECKED = "present (no checksum listed)"


@dataclass(frozen=True)
class ModelFile:
    path: str
    sha256: str


@dataclass(frozen=True)
class ModelEntry:
    name: str
    purpose: str
    licence: str
    source: str
    files: tuple[ModelFile, ...]


def load_manifest(path: Path = MANIFEST) -> list[ModelEntry]:
    """Read the manifest; a missing or malformed one is a clear error naming the file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return [
            ModelEntry(
                m["name"],
                m.get("purpose", ""),
                m.get("licence", ""),
                m.get("source", ""),
                tuple(ModelFile(f["path"], f.get("sha256", "")) for f in m["files"]),
            )
            for m in data.get("model", [])
        ]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise InvalidInput(f"model manifest {path}: {exc}") from exc


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def status(entry: ModelEntry, models_dir: Path) -> tuple[WeightStatus, str]:
    """Whether a model's files are all there and match; the detail names the first problem."""
    unchecked = False
    for f in entry.files:
        p = models_dir / f.path
        if not p.is_file():
            return WeightStatus.MISSING, f"missing {p} (get it from: {entry.source})"
        if not f.sha256:
            unchecked = True
        elif sha256_file(p) != f.sha256:
            return WeightStatus.BAD_CHECKSUM, f"{p} does not match its sha256 in the manifest"
    if unchecked:
        return WeightStatus.UNCHECKED, "files present; the manifest lists no checksum to compare"
    return WeightStatus.PRESENT, "all files present and verified"
