"""Importing a folder of audio files and/or a manifest into the catalogue, incrementally.

Each song is committed whole or not at all, at its source's own rate and image: a recording
without stems keeps its full mix; a manifest row keeps its full mix (`file`) and attaches the
stems it names, which are never imported as songs of their own, also when the folder walk
finds them. Files whose bytes were imported before (by sha256, wherever they lie now) are not
imported again, but their manifest row's rights are applied: changed splits and consent become
new versions, logged in the ledger first (import_rights.py). A changed file at a known path
becomes a new song beside the old one: a song that may have consent and ledger history is
never replaced. A file no manifest row describes gets its metadata from its tags and the
placeholder holder UNREGISTERED with no consent, so the policy refuses it for every use until
its real rights holders are registered (default deny).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from musicapp.catalog import import_rights
from musicapp.catalog.audio_files import (
    AUDIO_SUFFIXES,
    SourceAudio,
    content_hash,
    inspect,
    kept_rate,
    read_tags,
    storable,
)
from musicapp.catalog.import_report import (
    FailedFile,
    ImportedFile,
    ImportReport,
    UnchangedFile,
    UpdatedSong,
)
from musicapp.catalog.import_rights import Recorder
from musicapp.catalog.manifest import Entry, read_manifest, slug
from musicapp.catalog.song_files import MAX_TEXT
from musicapp.catalog.store import CatalogStore
from musicapp.core import InvalidInput, RightsHolder, Song, Split, Stem
from musicapp.jobs import CancelToken, FunctionJob, Progress, ProgressCallback, no_progress

__all__ = ["UNREGISTERED", "ImportReport", "Recorder", "import_job", "import_library"]

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


def import_job(
    store: CatalogStore,
    path: Path,
    manifest: Path | None = None,
    record: Recorder | None = None,
) -> FunctionJob[ImportReport]:
    """The import as a job on the io lane: progress per file, cancel between files."""
    return FunctionJob(
        "import_library",
        lambda p, c: import_library(store, path, manifest, p, c, record=record),
        lane="io",
    )


def import_library(
    store: CatalogStore,
    path: Path,
    manifest: Path | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    *,
    record: Recorder | None = None,
) -> ImportReport:
    """Import a folder (recursively), one audio file, or a manifest's songs; report each one.

    `path` may itself be a .csv or .json manifest. `record` appends an event to the ledger
    (Studio.import_library binds it): rights are logged with it before they take effect, and
    without it rights of songs already in the catalogue are not changed (reported as failed).
    Raises InvalidInput only when `path` or the manifest as a whole cannot be read; a bad file
    or manifest row is reported and skipped. Cancelling stops between songs (jobs.Cancelled);
    the songs done so far stay imported.
    """
    path = Path(path)
    cancel = cancel or CancelToken()
    walk = True
    if manifest is None and path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES:
        manifest, path, walk = path, path.parent, False
    if not path.exists():
        raise InvalidInput(f"import: {path} not found")
    entries = read_manifest(manifest) if manifest is not None else []
    by_path = {_key(e.path): e for e in reversed(entries) if e.path is not None}
    skip = {_key(s.path) for e in entries for s in e.stems}  # attached to their songs
    if manifest is not None:
        skip.add(_key(manifest))
    report = ImportReport()
    files = _walk(path, report, skip) if walk else []
    unreadable = [e.where for e in entries if not e.readable]
    held: list[FailedFile] = []
    if unreadable:
        # A row that could not be read may describe any of the files no other row does (a
        # mix or its stems): importing them as unregistered songs would be wrong and lasting.
        held = [FailedFile(str(f), _held_back(unreadable)) for f in files if _key(f) not in by_path]
        files = [f for f in files if _key(f) in by_path]
    seen = {_key(f) for f in files}
    work: list[tuple[Path | None, Entry | None]] = [(f, by_path.get(_key(f))) for f in files]
    work += [(e.path, e) for e in entries if e.path is None or _key(e.path) not in seen]
    job = _Import(store, report, record, datetime.now(UTC))
    for i, (file, entry) in enumerate(work):
        cancel.check()
        label = file.name if file is not None else (entry.where if entry else "")
        progress(Progress(i / max(len(work), 1), "import", label))
        try:
            job.one(file, entry)
        except (InvalidInput, OSError) as exc:
            # A row that names no file (or could not be read) is reported under its manifest.
            named = file if file is not None else entry.manifest if entry is not None else None
            report.failed.append(FailedFile(str(named or ""), str(exc)))
    report.failed += held
    progress(Progress(1.0, "import", report.summary().splitlines()[0]))
    return report


def _held_back(rows: list[str]) -> str:
    named = ", ".join(rows[:3]) + (f" and {len(rows) - 3} more" if len(rows) > 3 else "")
    return (
        f"not imported: {named} could not be read and may describe this file; fix the "
        "manifest and import again"
    )


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _walk(root: Path, report: ImportReport, skip: set[str]) -> list[Path]:
    if root.is_file():
        return [] if _key(root) in skip else [root]
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


@dataclass
class _Import:
    """One import run: the store, the report, the ledger and the time its rights take effect."""

    store: CatalogStore
    report: ImportReport
    record: Recorder | None
    at: datetime

    def one(self, file: Path | None, entry: Entry | None) -> None:
        if entry is not None and entry.errors:
            raise InvalidInput("; ".join(entry.errors))
        where = f"{entry.where}: " if entry is not None else ""
        named = [file] if file is not None else []
        stems = entry.stems if entry is not None else ()
        for f in [*named, *(s.path for s in stems)]:
            if not f.exists():
                raise InvalidInput(f"{where}{f}: file not found")
            if f.is_dir():
                raise InvalidInput(f"{where}{f}: a folder, not an audio file")
        file_hash = content_hash(file) if file is not None else ""
        stem_hashes = {s.name: content_hash(s.path) for s in stems}
        parts = [file_hash] + [f"{name}={h}" for name, h in stem_hashes.items()]
        digest = hashlib.sha256("\n".join(parts).encode()).hexdigest() if stems else file_hash
        source_path = file if file is not None else stems[0].path
        notes = self._stems_imported_as_songs(stem_hashes)
        known = self.store.imports.import_record(digest)
        if known is None and stems and file_hash:
            known = self.store.imports.import_record(file_hash)
            if known is not None:
                notes.insert(
                    0, "its stems were not attached: the song is in the catalogue without them"
                )
        if known is not None:
            self._known(source_path, entry, known, notes)
            return
        if entry is not None and entry.song_id and self.store.song(entry.song_id) is not None:
            raise InvalidInput(
                f"{where}id {entry.song_id} is already in the catalogue with other audio; "
                "give this recording another id"
            )
        self._new(file, entry, digest, source_path, notes)

    def _stems_imported_as_songs(self, stem_hashes: dict[str, str]) -> list[str]:
        """A note on stem files an earlier import took for songs (before stems were attached):
        those songs stay, since consent and ledger history may refer to them."""
        found = [
            f"{name} as {record['song_id']}"
            for name, h in stem_hashes.items()
            if (record := self.store.imports.import_record(h)) is not None
        ]
        if not found:
            return []
        return [f"stem files imported as songs of their own before stay so ({', '.join(found)})"]

    def _known(
        self, path: Path, entry: Entry | None, known: dict[str, str], notes: list[str]
    ) -> None:
        """A song already in the catalogue: apply the row's rights to it, or say unchanged."""
        song_id = known["song_id"]
        if known["path"] != _key(path):
            notes = [f"same content as {known['path']}", *notes]
        note = "; ".join(notes)
        song = self.store.song(song_id)
        if entry is None or song is None:
            self.report.unchanged.append(UnchangedFile(str(path), song_id, note))
            return
        change = import_rights.rights_change(self.store, song, entry, self.at)
        if change.empty:
            self.report.unchanged.append(
                UnchangedFile(str(path), song_id, note or "unchanged", entry.where)
            )
            return
        if self.record is None:
            raise InvalidInput(
                f"{entry.where}: rights of {song_id} changed ({'; '.join(change.describe())}) "
                "but were not applied: rights changes are logged in the ledger first, so "
                "import through the studio (musicapp import)"
            )
        event_id = import_rights.apply_change(self.store, change, entry, path, self.record, self.at)
        changes = tuple(change.describe()) + tuple(notes)
        self.report.updated.append(UpdatedSong(str(path), song_id, entry.where, changes, event_id))

    def _new(
        self,
        file: Path | None,
        entry: Entry | None,
        digest: str,
        source: Path,
        notes: list[str],
    ) -> None:
        sources = self._sources(file, entry)
        rate = kept_rate(next(iter(sources.values())).rate)
        fields, clipped = _fields(file, entry)
        song_id = _song_id(self.store, fields, digest, entry)
        stem_specs = entry.stems if entry is not None else ()
        splits = entry.splits if entry is not None and entry.splits else (Split(UNREGISTERED, 1.0),)
        song = Song(
            id=song_id,
            splits=splits,
            stems=tuple(Stem(s.name, s.instrument, s.family, s.role) for s in stem_specs),
            duration_s=min(s.frames / s.rate for s in sources.values()),
            sample_rate=rate,
            **fields,
        )
        rights = None
        if entry is not None and entry.splits:
            rights = import_rights.new_song_rights(song, entry, self.at)
        replaces = self.store.imports.imported_song_at(_key(source))
        with tempfile.TemporaryDirectory(prefix=".import-") as tmp:
            files = {
                name: storable(src, rate, Path(tmp), f"stem-{name}" if name else "mix")
                for name, src in sources.items()
            }
            mix_file = files.pop("", None)
            event_id = ""
            if rights is not None and self.record is not None:
                assert entry is not None
                payload = rights.payload(entry, file, new_song=True)
                event_id = self.record(import_rights.RIGHTS_EVENT, payload)
            try:
                self.store.add_song(
                    song,
                    files,
                    rights.consent if rights is not None else (),
                    source=(_key(source), digest),
                    mix_file=mix_file,
                )
            except Exception as exc:
                if event_id and self.record is not None:
                    self.record(
                        import_rights.ABORTED_EVENT,
                        {"event_id": event_id, "song_id": song_id, "reason": str(exc)},
                    )
                raise
        notes = [*clipped, *notes]
        if file is not None:
            fmt = sources[""].format
            expected = _FORMAT_OF_SUFFIX.get(file.suffix.lower())
            if expected not in {fmt, None}:
                notes.append(f"the content is {fmt}, the name says {file.suffix}")
        if rate != next(iter(sources.values())).rate:
            notes.append(f"converted to {rate} Hz")
        self.report.imported.append(
            ImportedFile(
                str(file if file is not None else source),
                song_id,
                sources[""].format if "" in sources else "stems",
                replaces,
                "; ".join(notes),
                tuple(s.name for s in stem_specs),
                event_id,
            )
        )

    def _sources(self, file: Path | None, entry: Entry | None) -> dict[str, SourceAudio]:
        """The song's files, checked: "" for its full mix, then its stems by name. Every file
        must be at the same rate (stems exported from one session are)."""
        out: dict[str, SourceAudio] = {}
        if file is not None:
            out[""] = inspect(file)
        for spec in entry.stems if entry is not None else ():
            try:
                out[spec.name] = inspect(spec.path)
            except InvalidInput as exc:
                raise InvalidInput(f"stem {spec.name} ({spec.path}): {exc}") from exc
        first = next(iter(out.values()))
        for name, src in out.items():
            if src.rate != first.rate:
                what = f"stem {name}" if name else "the mix"
                raise InvalidInput(
                    f"{what} ({src.path}) is at {src.rate} Hz, {first.path.name} at "
                    f"{first.rate} Hz: a song's files must share one rate"
                )
        return out


def _fields(file: Path | None, entry: Entry | None) -> tuple[dict[str, Any], list[str]]:
    """The song's metadata: the manifest's over the file's tags over its name; and notes on
    tags cut to the length limit."""
    base = file if file is not None else (entry.stems[0].path if entry else Path("song"))
    tags = read_tags(file) if file is not None else {}
    notes = []
    for name, value in list(tags.items()):
        if isinstance(value, str) and len(value) > MAX_TEXT:
            tags[name] = value[:MAX_TEXT]
            notes.append(f"its {name} tag was cut to {MAX_TEXT} characters")
    fields: dict[str, Any] = {"title": base.stem[:MAX_TEXT], **_DEFAULTS, **tags}
    fields.update(entry.fields if entry is not None else {})
    return fields, notes


def _song_id(store: CatalogStore, fields: dict[str, Any], digest: str, entry: Entry | None) -> str:
    if entry is not None and entry.song_id:
        return entry.song_id
    base = slug(f"{fields['artist']}-{fields['title']}")[:80].strip("-") or "song"
    for candidate in (base, f"{base}-{digest[:8]}", f"{base}-{digest[:16]}"):
        if store.song(candidate) is None:
            return candidate
    raise InvalidInput(f"no free song id for {base!r}")
