"""The model manifest: where weights live, their checksums, and whether each model is usable."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
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


# demucs names weight files `<signature>-<sha256 prefix>.th` and checks the prefix on load.
_NAMED_CHECKSUM = re.compile(r"^[0-9a-f]{8}-(?P<prefix>[0-9a-f]{8,64})\.th$")


def name_checksum(file_name: str) -> str:
    """The sha256 prefix a demucs-style file name carries ("" when it carries none)."""
    match = _NAMED_CHECKSUM.match(file_name)
    return match.group("prefix") if match else ""


def _matches(path: Path, f: ModelFile) -> bool | None:
    """True/False when the file can be checked against the manifest or its own name; None when
    there is nothing to check against."""
    prefix = name_checksum(Path(f.path).name)
    if not f.sha256 and not prefix:
        return None
    digest = sha256_file(path)
    if f.sha256 and digest != f.sha256:
        return False
    return digest.startswith(prefix)


def status(entry: ModelEntry, models_dir: Path) -> tuple[WeightStatus, str]:
    """Whether a model's files are all there and match; the detail names the first problem."""
    unchecked = False
    for f in entry.files:
        p = models_dir / f.path
        if not p.is_file():
            return WeightStatus.MISSING, f"missing {p} (get it from: {entry.source})"
        ok = _matches(p, f)
        if ok is None:
            unchecked = True
        elif not ok:
            return WeightStatus.BAD_CHECKSUM, f"{p} does not match its sha256 in the manifest"
    if unchecked:
        return WeightStatus.UNCHECKED, "files present; the manifest lists no checksum to compare"
    return WeightStatus.PRESENT, "all files present and verified"


def find_entry(name: str, entries: list[ModelEntry] | None = None) -> ModelEntry:
    """The manifest entry of a model; an unknown name is an error listing the known ones."""
    entries = load_manifest() if entries is None else entries
    for entry in entries:
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in entries)
    raise InvalidInput(f"model {name!r} is not in the manifest (known: {known})")


def _target_for(src: Path, entries: list[ModelEntry]) -> tuple[ModelEntry, ModelFile]:
    """Which manifest file `src` is: by file name, else by its listed sha256."""
    for entry in entries:
        for f in entry.files:
            if Path(f.path).name == src.name:
                return entry, f
    digest = sha256_file(src)
    for entry in entries:
        for f in entry.files:
            if f.sha256 and f.sha256 == digest:
                return entry, f
    expected = ", ".join(Path(f.path).name for e in entries for f in e.files)
    raise InvalidInput(f"{src}: not a file any listed model uses (expected one of: {expected})")


def import_file(
    src: Path, models_dir: Path, model: str | None = None, entries: list[ModelEntry] | None = None
) -> Path:
    """Copy a weight file into the models folder after checking it, atomically.

    The file is matched to the manifest by name (or by sha256), checked against the manifest's
    sha256 and the checksum in its own name, copied next to its destination and renamed into
    place, so a half-copied file never looks present. Returns the destination path.
    """
    src = Path(src)
    if not src.is_file():
        raise InvalidInput(f"{src}: no such file to import")
    entries = load_manifest() if entries is None else entries
    if model is not None:
        entries = [find_entry(model, entries)]
    entry, f = _target_for(src, entries)
    if _matches(src, f) is False:
        raise InvalidInput(
            f"{src}: sha256 does not match the manifest's for {entry.name} ({f.path}); "
            f"the file is damaged or another version (get it from: {entry.source})"
        )
    dest = models_dir / f.path
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".import-", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InvalidInput(f"could not copy {src} to {dest}: {exc}") from exc
    return dest
