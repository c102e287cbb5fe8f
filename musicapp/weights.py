"""The model manifest: where weights live, their full sha256, and whether each file may be loaded.

A file may be loaded when it is *verified* (its sha256 equals the full sha256 the manifest
lists for it) or *trusted locally* (the manifest lists none, and the user imported these exact
bytes with `musicapp models import PATH --trust`, see `model_trust.py`). Anything else is
missing, a bad checksum, or unverifiable, and nothing loads it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import threading
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path, PurePosixPath

from musicapp.core import InvalidInput
from musicapp.model_trust import TrustEntry, TrustList

MANIFEST = Path(__file__).resolve().parent.parent / "models" / "manifest.toml"


class WeightStatus(StrEnum):
    VERIFIED = "verified"
    TRUSTED = "trusted locally"
    MISSING = "missing"
    BAD_CHECKSUM = "bad checksum"
    UNVERIFIABLE = "unverifiable"


USABLE = frozenset({WeightStatus.VERIFIED, WeightStatus.TRUSTED})
# A model is in the state of its worst file, in this order.
_WORST_FIRST = (
    WeightStatus.BAD_CHECKSUM,
    WeightStatus.MISSING,
    WeightStatus.UNVERIFIABLE,
    WeightStatus.TRUSTED,
    WeightStatus.VERIFIED,
)
_FULL_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ModelFile:
    path: str
    sha256: str
    sha256_source: str = ""


@dataclass(frozen=True)
class ModelEntry:
    name: str
    purpose: str
    licence: str
    source: str
    files: tuple[ModelFile, ...]


def _model_file(row: dict, where: str) -> ModelFile:
    path, sha = row["path"], row.get("sha256", "")
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or "\\" in path:
        raise ValueError(f"{where}: path {path!r} must be relative to the models folder")
    if sha and not _FULL_SHA256.match(sha):
        raise ValueError(f"{where} {path}: sha256 must be 64 lowercase hex digits or empty")
    return ModelFile(path, sha, row.get("sha256_source", ""))


def load_manifest(path: Path = MANIFEST) -> list[ModelEntry]:
    """Read the manifest; a missing or malformed one is a clear error naming the file."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return [
            ModelEntry(
                m["name"],
                m.get("purpose", ""),
                m.get("licence", ""),
                m.get("source", ""),
                tuple(_model_file(f, f"model {m['name']}") for f in m["files"]),
            )
            for m in data.get("model", [])
        ]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"model manifest {path}: {exc}") from exc


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


Stamp = tuple[int, int, int, int, int]


def file_stamp(path: Path) -> Stamp:
    """What changes whenever a file's bytes can have changed: device, inode, size, mtime and
    ctime (which no one but the clock sets, so a restored mtime does not hide a rewrite)."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


# Digests of files already read in this process, by path and stamp: a second separation does
# not re-read gigabytes. Only in memory: a cache on disk would be one more thing to forge.
_digests: dict[tuple[str, Stamp], str] = {}
_digests_lock = threading.Lock()


def _digest(path: Path) -> tuple[str, Stamp]:
    stamp = file_stamp(path)
    key = (str(path.absolute()), stamp)
    with _digests_lock:
        if key in _digests:
            return _digests[key], stamp
    digest = sha256_file(path)
    if file_stamp(path) == stamp:  # not rewritten while it was read
        with _digests_lock:
            if len(_digests) > 256:
                _digests.clear()
            _digests[key] = digest
    return digest, stamp


# demucs names weight files `<signature>-<first 8 hex of their sha256>.th`; demucs itself checks
# only that prefix, which 2^32 tries forge, so it can refuse a file but never vouch for one.
_NAMED_CHECKSUM = re.compile(r"^[0-9a-f]{8}-(?P<prefix>[0-9a-f]{8,64})\.th$")


def name_checksum(file_name: str) -> str:
    """The sha256 prefix a demucs-style file name carries ("" when it carries none)."""
    match = _NAMED_CHECKSUM.match(file_name)
    return match.group("prefix") if match else ""


@dataclass(frozen=True)
class FileCheck:
    """One manifest file in the models folder: its state, the digest read (when it was read),
    the stamp it was read at, and the trust entry that vouches for it (when trusted locally)."""

    file: ModelFile
    path: Path
    state: WeightStatus
    detail: str
    sha256: str = ""
    stamp: Stamp | None = None
    trusted: TrustEntry | None = None


def check_file(models_dir: Path, f: ModelFile, trust: TrustList) -> FileCheck:
    """Check one file against the manifest's full sha256, else against the local trust list."""
    p = Path(models_dir) / f.path
    if not p.is_file():
        return FileCheck(f, p, WeightStatus.MISSING, f"missing {p}")
    prefix = name_checksum(p.name)
    if not f.sha256 and not prefix and not trust.has_path(f.path):
        # Nothing could vouch for it whatever its bytes: no need to read gigabytes to say so.
        return FileCheck(f, p, WeightStatus.UNVERIFIABLE, _unverifiable(p, f))
    digest, stamp = _digest(p)
    if f.sha256:
        if digest == f.sha256:
            return FileCheck(f, p, WeightStatus.VERIFIED, f"{p}: sha256 verified", digest, stamp)
        return FileCheck(
            f, p, WeightStatus.BAD_CHECKSUM, f"{p} does not match its sha256 in the manifest",
            digest, stamp,
        )  # fmt: skip
    if prefix and not digest.startswith(prefix):
        detail = f"{p} does not match the checksum in its name ({prefix})"
        return FileCheck(f, p, WeightStatus.BAD_CHECKSUM, detail, digest, stamp)
    entry = trust.trusted(f.path, digest)
    if entry is not None:
        detail = f"{p}: trusted locally by {entry.trusted_by} at {entry.trusted_at}"
        return FileCheck(f, p, WeightStatus.TRUSTED, detail, digest, stamp, entry)
    if trust.has_path(f.path):
        detail = f"{p} does not match the sha256 you trusted for it ({trust.path}): it changed"
        return FileCheck(f, p, WeightStatus.BAD_CHECKSUM, detail, digest, stamp)
    return FileCheck(f, p, WeightStatus.UNVERIFIABLE, _unverifiable(p, f), digest, stamp)


def _unverifiable(p: Path, f: ModelFile) -> str:
    only_name = " (only the 8-digit checksum in its name, which anyone can forge)"
    return (
        f"{p}: no published sha256 to check it against{only_name if name_checksum(p.name) else ''}"
        f"; to use it anyway: musicapp models import {p} --trust"
    )


@dataclass(frozen=True)
class ModelCheck:
    """Every file of one model, checked; the model is in the state of its worst file."""

    entry: ModelEntry
    models_dir: Path
    files: tuple[FileCheck, ...]

    @property
    def state(self) -> WeightStatus:
        states = {c.state for c in self.files}
        return next((s for s in _WORST_FIRST if s in states), WeightStatus.VERIFIED)

    @property
    def usable(self) -> bool:
        return all(c.state in USABLE for c in self.files)

    @property
    def detail(self) -> str:
        """The first problem (with where to get a missing file), or what vouches for the files."""
        state = self.state
        if state in USABLE:
            trusted = sum(c.state is WeightStatus.TRUSTED for c in self.files)
            if trusted:
                return f"all files present; {trusted} of {len(self.files)} trusted locally"
            return "all files present and verified"
        first = next(c for c in self.files if c.state is state)
        if state is WeightStatus.MISSING:
            return f"{first.detail} (get it from: {self.entry.source})"
        return first.detail

    def digest(self) -> str:
        """One sha256 over every file's sha256 and path, sorted by path: what `sha256sum` of
        the files (run in the models folder, paths sorted) piped into `sha256sum` prints."""
        if not self.usable:
            raise InvalidInput(f"model {self.entry.name}: {self.detail}")
        lines = [f"{c.sha256}  {c.file.path}\n" for c in sorted(self.files, key=_by_path)]
        return hashlib.sha256("".join(lines).encode()).hexdigest()


def _by_path(c: FileCheck) -> str:
    return c.file.path


def check_model(entry: ModelEntry, models_dir: Path, trust: TrustList | None = None) -> ModelCheck:
    """Check every file of a model (reading each one that something could vouch for)."""
    trust = TrustList.load(models_dir) if trust is None else trust
    return ModelCheck(
        entry, Path(models_dir), tuple(check_file(models_dir, f, trust) for f in entry.files)
    )


def status(entry: ModelEntry, models_dir: Path) -> tuple[WeightStatus, str]:
    """Whether a model's files are all there and may be loaded; the detail names the first
    problem."""
    check = check_model(entry, models_dir)
    return check.state, check.detail


def find_entry(name: str, entries: list[ModelEntry] | None = None) -> ModelEntry:
    """The manifest entry of a model; an unknown name is an error listing the known ones."""
    entries = load_manifest() if entries is None else entries
    for entry in entries:
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in entries)
    raise InvalidInput(f"model {name!r} is not in the manifest (known: {known})")


def _target_for(src: Path, digest: str, entries: list[ModelEntry]) -> tuple[ModelEntry, ModelFile]:
    """Which manifest file `src` is: by its listed sha256, else by file name."""
    for entry in entries:
        for f in entry.files:
            if f.sha256 and f.sha256 == digest:
                return entry, f
    for entry in entries:
        for f in entry.files:
            if PurePosixPath(f.path).name == src.name:
                return entry, f
    expected = ", ".join(PurePosixPath(f.path).name for e in entries for f in e.files)
    raise InvalidInput(f"{src}: not a file any listed model uses (expected one of: {expected})")


@dataclass(frozen=True)
class Imported:
    """What `import_file` did: where the file went, its sha256 and why it may be loaded."""

    model: str
    dest: Path
    sha256: str
    size: int
    state: WeightStatus
    trusted: TrustEntry | None = None
    trust_list: Path | None = None


def import_file(
    src: Path,
    models_dir: Path,
    model: str | None = None,
    entries: list[ModelEntry] | None = None,
    *,
    trust: bool = False,
) -> Imported:
    """Copy a weight file into the models folder after checking it, atomically.

    The file is matched to the manifest by its sha256 (or its name), checked against the full
    sha256 the manifest lists, and copied beside its destination then renamed into place, so a
    half-copied file never looks present. A file the manifest has no full sha256 for is refused
    unless `trust` is set: then its sha256 goes into the local trust list, with who and when.
    `trust` never overrides a published sha256 that does not match.
    """
    src = Path(src)
    if not src.is_file():
        raise InvalidInput(f"{src}: no such file to import")
    entries = load_manifest() if entries is None else entries
    if model is not None:
        entries = [find_entry(model, entries)]
    digest = sha256_file(src)
    entry, f = _target_for(src, digest, entries)
    dest = Path(models_dir) / f.path
    if f.sha256 and digest != f.sha256:
        raise InvalidInput(
            f"{src}: sha256 does not match the manifest's for {entry.name} ({f.path}); "
            f"the file is damaged or another version (get it from: {entry.source})"
            + ("; --trust cannot override a published sha256" if trust else "")
        )
    prefix = name_checksum(PurePosixPath(f.path).name)
    if prefix and not digest.startswith(prefix):
        raise InvalidInput(
            f"{src}: its sha256 ({digest[:12]}…) does not start with the checksum in its name "
            f"({prefix}): the file is damaged or another version (get it from: {entry.source})"
        )
    trusted_list = None
    if not f.sha256:
        trusted_list = TrustList.load(models_dir)
        if not trust:
            raise InvalidInput(
                f"{src}: the manifest lists no published sha256 for {entry.name} ({f.path}), so "
                f"musicapp cannot verify it. If you got it from {entry.source} and trust it, "
                f"import it with: musicapp models import {src} --trust (its sha256 {digest} "
                f"will be recorded in {trusted_list.path})"
            )
    _copy_into_place(src, dest, digest)
    size = dest.stat().st_size
    if trusted_list is None:
        return Imported(entry.name, dest, digest, size, WeightStatus.VERIFIED)
    recorded = trusted_list.add(f.path, digest, size, entry.name, src.absolute())
    return Imported(
        entry.name, dest, digest, size, WeightStatus.TRUSTED, recorded, trusted_list.path
    )


def _copy_into_place(src: Path, dest: Path, digest: str) -> None:
    """Copy src to dest through a temporary file renamed into place; the copy is read back
    and must have the digest checked on src, so a file changed mid-copy is never installed."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and os.path.samefile(src, dest):
        return  # trusting a file already in place
    fd, tmp = tempfile.mkstemp(prefix=".import-", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        if sha256_file(Path(tmp)) != digest:
            raise InvalidInput(f"{src} changed while it was copied; nothing was imported")
        os.replace(tmp, dest)
    except OSError as exc:
        raise InvalidInput(f"could not copy {src} to {dest}: {exc}") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
