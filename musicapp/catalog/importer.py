"""Importing a folder of audio files and/or a manifest into the catalogue, incrementally.

Each file becomes one song, committed whole or not at all. A file whose bytes were imported
before (by sha256, wherever it lies now) is skipped. A changed file at a known path becomes a
new song beside the old one: consent records are append-only, so a song that may already have
consent and ledger history is never replaced. A file the manifest does not describe gets its
metadata from its tags and the placeholder holder UNREGISTERED with no consent, so the policy
refuses it for every use until its real rights holders are registered (default deny).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import soundfile as sf

from musicapp.catalog import mix
from musicapp.catalog.audio_files import AUDIO_SUFFIXES, content_hash, decode, read_tags
from musicapp.catalog.manifest import Entry, StemSpec, read_manifest, slug
from musicapp.catalog.mix import Audio
from musicapp.catalog.store import CatalogStore
from musicapp.config import SAMPLE_RATE
from musicapp.core import ConsentRecord, InvalidInput, RightsHolder, Song, Split, Stem
from musicapp.jobs import CancelToken, FunctionJob, Progress, ProgressCallback, no_progress

# Holds every song whose rights holders nobody has told us; it never gives consent.
UNREGISTERED = RightsHolder("unregistered", "Unregistered rights holder", "unknown")
MANIFEST_SUFFIXES = (".csv", ".json")
_FORMAT_OF_SUFFIX = {
    ".wav": "WAV",
    ".wave": "WAV",
    ".flac": "FLAC",
    ".ogg": "OGG",
    ".oga": "OGG",
    ".opus": "OGG",
    ".mp3": "MP3",
    ".aif": "AIFF",
    ".aiff": "AIFF",
}
_DEFAULTS = {"artist": "Unknown artist", "album": "Unknown album", "genre": "Unknown"}


@dataclass(frozen=True)
class ImportedFile:
    path: str
    song_id: str
    format: str
    replaces: str | None = None  # the song an earlier version of this path became
    note: str = ""


@dataclass(frozen=True)
class UnchangedFile:
    path: str
    song_id: str
    note: str = ""


@dataclass(frozen=True)
class FailedFile:
    path: str
    reason: str


@dataclass
class ImportReport:
    """What an import did with each file."""

    imported: list[ImportedFile] = field(default_factory=list)
    unchanged: list[UnchangedFile] = field(default_factory=list)
    failed: list[FailedFile] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": {
                "imported": len(self.imported),
                "unchanged": len(self.unchanged),
                "failed": len(self.failed),
            },
            "imported": [asdict(f) for f in self.imported],
            "unchanged": [asdict(f) for f in self.unchanged],
            "failed": [asdict(f) for f in self.failed],
        }

    def summary(self) -> str:
        lines = [
            f"Imported {len(self.imported)}, unchanged {len(self.unchanged)}, "
            f"failed {len(self.failed)}."
        ]
        lines += [
            f"  + {f.song_id}  {f.path}" + (f" ({f.note})" if f.note else "") for f in self.imported
        ]
        lines += [f"  ! {f.path}: {f.reason}" for f in self.failed]
        return "\n".join(lines)


def import_job(
    store: CatalogStore, path: Path, manifest: Path | None = None
) -> FunctionJob[ImportReport]:
    """The import as a job on the io lane: progress per file, cancel between files."""
    return FunctionJob(
        "import_library", lambda p, c: import_library(store, path, manifest, p, c), lane="io"
    )


def import_library(
    store: CatalogStore,
    path: Path,
    manifest: Path | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> ImportReport:
    """Import a folder (recursively), one audio file, or a manifest's files; report each file.

    `path` may itself be a .csv or .json manifest. Raises InvalidInput only when `path` or the
    manifest as a whole cannot be read; a bad file or manifest row is reported and skipped.
    Cancelling stops between files (jobs.Cancelled); the files done so far stay imported.
    """
    path = Path(path)
    cancel = cancel or CancelToken()
    if manifest is None and path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
        manifest, path = path, path.parent
        walk = False
    else:
        walk = True
    if not path.exists():
        raise InvalidInput(f"import: {path} not found")
    entries = read_manifest(manifest) if manifest is not None else []
    report = ImportReport()
    by_path = {_key(e.path): e for e in entries}
    files = _walk(path, report, skip={_key(manifest)} if manifest else set()) if walk else []
    seen = {_key(f) for f in files}
    files += [e.path for e in entries if _key(e.path) not in seen]
    for i, file in enumerate(files):
        cancel.check()
        progress(Progress(i / max(len(files), 1), "import", file.name))
        try:
            _import_one(store, file, by_path.get(_key(file)), report)
        except (InvalidInput, OSError) as exc:
            report.failed.append(FailedFile(str(file), str(exc)))
    progress(Progress(1.0, "import", report.summary().splitlines()[0]))
    return report


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _walk(root: Path, report: ImportReport, skip: set[str]) -> list[Path]:
    if root.is_file():
        return [root]
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        # Hidden files and folders (.DS_Store, a store's own staging folders) are not music.
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for d in dirs:
            if Path(d).suffix.lower() in AUDIO_SUFFIXES:
                report.failed.append(
                    FailedFile(str(Path(folder) / d), "a folder, not an audio file")
                )
        for name in sorted(names):
            file = Path(folder) / name
            if name.startswith(".") or _key(file) in skip:
                continue
            if file.suffix.lower() not in AUDIO_SUFFIXES:
                what = file.suffix.lower() or "(no extension)"
                report.failed.append(FailedFile(str(file), f"unsupported format {what}"))
                continue
            found.append(file)
    return found


def _import_one(store: CatalogStore, file: Path, entry: Entry | None, report: ImportReport) -> None:
    if entry is not None and entry.errors:
        raise InvalidInput("; ".join(entry.errors))
    if not file.exists():
        raise InvalidInput(f"{entry.where + ': ' if entry else ''}file not found")
    if file.is_dir():
        raise InvalidInput("a folder, not an audio file")
    digest = content_hash(file)
    stems = entry.stems if entry is not None else ()
    if stems:
        parts = [digest] + [f"{s.name}={content_hash(s.path)}" for s in stems if s.path.is_file()]
        digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    known = store.import_record(digest)
    if known is not None:
        note = "" if known["path"] == _key(file) else f"same content as {known['path']}"
        report.unchanged.append(UnchangedFile(str(file), known["song_id"], note))
        return
    tracks, fmt = _tracks(file, stems)
    fields = {"title": file.stem, **_DEFAULTS, **read_tags(file)}
    fields.update(entry.fields if entry is not None else {})
    song_id = _song_id(store, fields, digest)
    splits = entry.splits if entry is not None and entry.splits else (Split(UNREGISTERED, 1.0),)
    now = datetime.now(UTC)
    consent = [
        ConsentRecord(song_id, holder_id, 1, grant.permissions, grant.uses, now)
        for holder_id, grant in (entry.grants.items() if entry is not None else ())
    ]
    song = Song(
        id=song_id,
        splits=splits,
        stems=tuple(stem for stem, _ in tracks),
        duration_s=min(len(t) for _, t in tracks) / SAMPLE_RATE,
        **fields,
    )
    replaces = store.imported_song_at(_key(file))
    with tempfile.TemporaryDirectory(prefix=".import-") as tmp:
        stem_files = {}
        for stem, track in tracks:
            stem_files[stem.name] = Path(tmp) / f"{stem.name}.wav"
            sf.write(stem_files[stem.name], track, SAMPLE_RATE, subtype="FLOAT", format="WAV")
        store.add_song(song, stem_files, consent, source=(_key(file), digest))
    expected = _FORMAT_OF_SUFFIX.get(file.suffix.lower())
    note = (
        f"the content is {fmt}, the name says {file.suffix}" if expected not in {fmt, None} else ""
    )
    report.imported.append(ImportedFile(str(file), song_id, fmt, replaces, note))


def _tracks(file: Path, stems: tuple[StemSpec, ...]) -> tuple[list[tuple[Stem, Audio]], str]:
    """The song's stems and their mono audio: the manifest's stems, or the file's channels."""
    if stems:
        out = []
        for spec in stems:
            try:
                audio, _ = decode(spec.path)
            except (InvalidInput, OSError) as exc:
                raise InvalidInput(f"stem {spec.name} ({spec.path}): {exc}") from exc
            stem = Stem(spec.name, spec.instrument, spec.family, spec.role)
            out.append((stem, audio.mean(axis=0)))
        return out, "stems"
    audio, fmt = decode(file)
    if audio.shape[0] == 1:
        return [(mix.MIX_STEMS[0], audio[0])], fmt
    return [(mix.MIX_STEMS[1], audio[0]), (mix.MIX_STEMS[2], audio[1])], fmt


def _song_id(store: CatalogStore, fields: dict[str, Any], digest: str) -> str:
    base = slug(f"{fields['artist']}-{fields['title']}")[:80].strip("-") or "song"
    for candidate in (base, f"{base}-{digest[:8]}", f"{base}-{digest[:16]}"):
        if store.song(candidate) is None:
            return candidate
    raise InvalidInput(f"no free song id for {base!r}")
