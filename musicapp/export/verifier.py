"""verify_file: read an exported file back and check it against itself, the ledger and its sidecar.

The checks, in order, each with a name a user can act on:

- ``readable``: a WAV, FLAC or MP3 file whose header and tags can be read (else nothing more is
  run).
- ``attribution``: the MUSICAPP_ATTRIBUTION tag is there and holds a JSON record naming its
  export event and audio hash, and MUSICAPP_EVENT_ID agrees with it.
- ``audio``: the sha256 of the decoded samples equals the one recorded (in the file, or in the
  ledger when the file's record is gone): ``pcm_sha256`` at the file's own depth, or for the
  first exports, which recorded only that, ``audio_sha256`` over 16-bit samples; one changed
  sample is enough to fail it. An MP3 is lossy, so its audio is checked by the sha256 of its
  encoded frames, ``mp3_frames_sha256`` (``mp3.py``): one changed byte of audio, or a re-encode,
  fails it; retagging does not.
- ``tags``: every tag equals what the ledger's export event recorded; names the tag that differs,
  was added, or was removed.
- ``ledger``: the export event exists, its record equals the file's, its audio hash equals the
  file's audio, and no ``export_failed`` event withdrew it.
- ``chain``: the ledger as a whole verifies (``Ledger.verify``).
- ``c2pa``: only for a file whose MUSICAPP_C2PA tag notes its C2PA manifest: the manifest, if one was signed (``c2pa_check.py``): not
  removed, not another file's, its data hash intact, signed by a CA this device trusts (the
  local one in the ledger's data folder, unless ``trust_dir`` names another), and agreeing
  with the tags.
- ``sidecar``: if ``<file>.attribution.json`` is there, it agrees with the file and the ledger.

A file with none of the musicapp tags (they were stripped, or lost in a conversion; a take
file) is identified by its audio instead, when a ledger is given (``by_content.py``).

With ``ledger=None`` the tags, ledger and chain checks are reported as skipped: ok, with
``skipped=True`` and a detail saying so. The report's ``ok`` then means only that the file is
consistent with itself and its sidecar, not that any ledger vouches for it; a UI should show
skipped checks as such, not as passed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import soundfile as sf

from musicapp.export.by_content import verify_by_content
from musicapp.export.c2pa_check import check_manifest
from musicapp.export.c2pa_manifest import NOTE_TAG
from musicapp.export.fingerprint import Digests, audio_sha256, file_digests
from musicapp.export.identity import trust_anchors
from musicapp.export.master import describe
from musicapp.export.mp3 import mp3_frames_sha256
from musicapp.export.proof_checks import check_proofs, load_anchor, note_of
from musicapp.export.proofs import TAG as PROOFS_TAG
from musicapp.export.record import ATTRIBUTION_TAG, EVENT_ID_TAG, sidecar_path, split_payload
from musicapp.export.report import Check, FileReport, check_chain, skipped
from musicapp.export.tags import TagValue, read_tags
from musicapp.ledger import Event, Ledger, LedgerError
from musicapp.ledger.kinds import EXPORT, EXPORT_FAILED, ExportFailedPayload, ExportPayload

__all__ = ["Check", "FileReport", "verify_file"]

_FORMATS = {"WAV": "wav", "WAVEX": "wav", "FLAC": "flac", "MP3": "mp3"}
# The recorded digests the audio is checked against, the stronger first; an MP3 export records
# only the last (its PCM ones are null).
_MP3_FIELD = "mp3_frames_sha256"
_AUDIO_FIELDS = ("pcm_sha256", "audio_sha256", _MP3_FIELD)


@dataclass
class ExportFile:
    """What was read from the file, shared between the checks."""

    fmt: str
    tags: dict[str, TagValue]
    record: dict[str, Any] | None = None
    event_id: str | None = None
    digests: Digests | None = None  # recomputed; None if the audio could not be decoded
    audio_sha256: str | None = None  # its 16-bit read digest, worked out when it is needed
    event: Event | None = None
    frames_sha256: str | None = None  # an MP3's, worked out by _check_mp3_audio

    def current(self, field: str, path: Path) -> str | None:
        """The file's own value of a recorded digest field; None if it cannot be decoded."""
        if field == _MP3_FIELD:
            return self.frames_sha256
        if self.digests is None:
            return None
        if field == "pcm_sha256":
            return self.digests.pcm_sha256
        if self.audio_sha256 is None:
            try:
                self.audio_sha256 = self.digests.audio_sha256 or audio_sha256(path)
            except (sf.LibsndfileError, RuntimeError, OSError):
                return None
        return self.audio_sha256


_ABSENT = object()


def _short(value: Any, limit: int = 48) -> str:
    """A value for a message: strings quoted, other JSON as JSON, long ones cut short."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text) if isinstance(value, str) else text


def _tag_differences(now: Mapping[str, Any], then: Mapping[str, Any]) -> list[str]:
    """How the file's tags differ from the ones recorded at export, tag by tag."""
    out = []
    for name in sorted(set(now) | set(then)):
        if name not in then:
            out.append(f"{name} was added after export")
        elif name not in now:
            out.append(f"{name} was removed after export")
        elif now[name] != then[name]:
            out.append(
                f"{name} differs from the ledger's record ({_short(now[name])} now, "
                f"{_short(then[name])} at export)"
            )
    return out


def _paths(a: Any, b: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Each place two JSON values differ: (path, value in a, value in b); _ABSENT if missing."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            sub = f"{path}.{key}" if path else key
            yield from _paths(a.get(key, _ABSENT), b.get(key, _ABSENT), sub)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            yield from _paths(x, y, f"{path}[{i}]")
    elif a != b or type(a) is not type(b):
        yield path, a, b


def _record_differences(a: Any, b: Any, a_name: str, b_name: str, limit: int = 5) -> list[str]:
    """Field by field, in words: "references[0].share is 0.95 in the file, 0.625 in the ledger"."""
    out = []
    for path, x, y in _paths(a, b):
        if x is _ABSENT:
            out.append(f"{path} is in {b_name} but not in {a_name}")
        elif y is _ABSENT:
            out.append(f"{path} is in {a_name} but not in {b_name}")
        else:
            out.append(f"{path} is {_short(x)} in {a_name}, {_short(y)} in {b_name}")
    if len(out) > limit:
        out[limit:] = [f"and {len(out) - limit} more"]
    return out


def read_export(path: Path) -> tuple[Check, ExportFile | None]:
    if not path.exists():
        return Check("readable", False, f"no such file: {path}"), None
    if path.is_dir():
        return Check("readable", False, f"{path} is a folder, not an audio file"), None
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        return Check("readable", False, f"not an audio file musicapp can read ({exc})"), None
    fmt = _FORMATS.get(info.format)
    if fmt is None:
        detail = f"a {info.format} file; musicapp exports, and checks, only WAV, FLAC and MP3"
        return Check("readable", False, detail), None
    try:
        tags = read_tags(path, fmt)
    except Exception as exc:  # mutagen raises assorted errors on damaged tags, not only its own
        detail = f"the {fmt.upper()} tags cannot be read ({type(exc).__name__}: {exc})"
        return Check("readable", False, detail), None
    detail = (
        f"{fmt.upper()}, {info.channels} channel{'s' if info.channels != 1 else ''}, "
        f"{info.samplerate} Hz, {info.duration:.2f} s"
    )
    return Check("readable", True, detail), ExportFile(fmt, tags)


def check_attribution(file: ExportFile) -> Check:
    raw = file.tags.get(ATTRIBUTION_TAG)
    tag_id = file.tags.get(EVENT_ID_TAG)
    if isinstance(tag_id, str):
        file.event_id = tag_id
    if raw is None:
        return Check("attribution", False, f"no musicapp attribution: {ATTRIBUTION_TAG} is missing")
    if isinstance(raw, list):
        return Check("attribution", False, f"{ATTRIBUTION_TAG} appears {len(raw)} times")
    try:
        record = json.loads(raw)
    except ValueError as exc:
        return Check("attribution", False, f"{ATTRIBUTION_TAG} is not valid JSON ({exc})")
    if not isinstance(record, dict):
        return Check("attribution", False, f"{ATTRIBUTION_TAG} holds JSON but not a record")
    file.record = record
    digest = _MP3_FIELD if record.get("format") == "mp3" else "audio_sha256"
    missing = [k for k in ("export_event_id", digest) if not isinstance(record.get(k), str)]
    if missing:
        return Check("attribution", False, f"the record lacks {', '.join(missing)}")
    record_id = record["export_event_id"]
    if tag_id is not None and tag_id != record_id:
        return Check(
            "attribution",
            False,
            f"{EVENT_ID_TAG} says {_short(tag_id)} but the record says {record_id}",
        )
    file.event_id = record_id
    refs = record.get("references")
    count = f"{len(refs)} reference(s), " if isinstance(refs, list) else ""
    extra = ""
    if isinstance(record.get("stem"), str):
        extra += f"; the take's {record['stem']} stem"
    if isinstance(record.get("mastering"), dict) and record["mastering"]:
        try:
            extra += f"; mastered on export: {describe(record['mastering'])}"
        except (KeyError, TypeError):
            extra += "; mastered on export (the record's mastering field is unreadable)"
    return Check("attribution", True, f"{count}export event {record_id}{extra}")


def _recorded_audio(file: ExportFile) -> tuple[str, str, str, Mapping[str, Any]] | None:
    """(field, digest, where, record) of the strongest audio digest recorded for the file."""
    payload = file.event.payload if file.event is not None else None
    for source, where in ((file.record, "the file's record"), (payload, "the ledger")):
        for field in _AUDIO_FIELDS:
            if isinstance(source, Mapping) and isinstance(source.get(field), str):
                return field, source[field], where, source
    return None


def _check_mp3_audio(path: Path, file: ExportFile) -> Check:
    """An MP3's audio against the recorded digest of its frames (the PCM of a lossy file is no
    proof: decoders differ, and a re-encode of the same take is other audio)."""
    try:
        file.frames_sha256 = mp3_frames_sha256(path)
    except (OSError, ValueError) as exc:
        return Check("audio", False, f"the MP3's audio frames cannot be read ({exc})")
    recorded = _recorded_audio(file)
    if recorded is None:
        return Check("audio", False, "no recorded audio hash to compare the audio with")
    field, digest, where, _ = recorded
    if field != _MP3_FIELD:
        return Check(
            "audio",
            False,
            "converted after export: the export is PCM (its record has a "
            f"{field}), this file an MP3; a lossy copy cannot match it",
        )
    if digest != file.frames_sha256:
        return Check(
            "audio",
            False,
            "the audio was changed after export (edited or re-encoded): the sha256 of its MP3 "
            f"frames is {file.frames_sha256}, {where} says {digest}",
        )
    return Check("audio", True, f"MP3 frames match the recorded {field} {digest[:16]}…")


def check_file_audio(path: Path, file: ExportFile) -> Check:
    if file.fmt == "mp3":
        return _check_mp3_audio(path, file)
    try:
        digests = file.digests = file_digests(path)
        recorded = _recorded_audio(file)
        now = file.current(recorded[0], path) if recorded else None
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        return Check("audio", False, f"the audio data cannot be decoded, it is damaged ({exc})")
    if recorded is None:
        return Check("audio", False, "no recorded audio hash to compare the audio with")
    field, digest, where, source = recorded
    was, fmt = source.get("pcm_format"), digests.pcm_format or "coded audio"
    if field == _MP3_FIELD:
        return Check(
            "audio", False, f"converted after export: the export is an MP3, this file {fmt}"
        )
    if field == "pcm_sha256" and was is not None and was != digests.pcm_format:
        detail = f"converted after export: the export is {was}, this file {fmt}"
        if digests.exact.get("s16le") in (
            source.get("audio_sha256"),
            source.get("pcm16_rounded_sha256"),
        ):
            detail += "; the PCM matches the export at 16-bit, not bit-identical"
        return Check("audio", False, detail)
    if digest != now:
        fmt = fmt if field == "pcm_sha256" else "s16le"
        return Check(
            "audio",
            False,
            f"the audio was changed after export: its {fmt} sha256 is {now}, {where} says {digest}",
        )
    return Check("audio", True, f"samples match the recorded {field} {digest[:16]}…")


def _find_event(file: ExportFile, ledger: Ledger) -> str | None:
    """Look the export event up; a sentence on why it is not usable, or None."""
    if file.event_id is None:
        return "the file names no export event"
    try:
        event = ledger.get(file.event_id)
    except LedgerError as exc:
        return f"the ledger cannot be read ({exc})"
    if event is None:
        return f"no event {file.event_id} in the ledger {ledger.path}"
    if event.kind != EXPORT:
        return f"ledger event {event.seq} ({event.id}) is a {event.kind} event, not an export"
    file.event = event
    return None


def _check_tags(file: ExportFile, missing: str | None) -> Check:
    if file.event is None:
        return Check("tags", False, f"cannot compare the tags: {missing}")
    # Read as the vocabulary defines it, checked all the same: the ledger may have been edited.
    recorded = cast(ExportPayload, file.event.payload).get("tags")
    if not isinstance(recorded, dict):
        return Check("tags", False, f"ledger event {file.event.seq} records no tags")
    diffs = _tag_differences(file.tags, recorded)
    if diffs:
        return Check("tags", False, "; ".join(diffs))
    return Check("tags", True, f"all {len(recorded)} tags match ledger event {file.event.seq}")


def _check_ledger(file: ExportFile, ledger: Ledger, missing: str | None, path: Path) -> Check:
    event = file.event
    if event is None:
        return Check("ledger", False, missing or "no export event")
    problems = []
    if file.record is not None:
        changed = _record_differences(
            file.record, split_payload(event.payload), "the file", "the ledger"
        )
        if changed:
            problems.append("the file's record disagrees with the ledger: " + "; ".join(changed))
    for field in _AUDIO_FIELDS:
        recorded = event.payload.get(field)
        now = file.current(field, path) if isinstance(recorded, str) else None
        if now is not None and recorded != now:
            problems.append(f"the ledger recorded {field} {recorded}, the file's audio is {now}")
    try:
        for failed in ledger.events(EXPORT_FAILED, since_seq=event.seq):
            withdrawn = cast(ExportFailedPayload, failed.payload)
            if withdrawn.get("export_event_id") == event.id:
                problems.append(
                    f"ledger event {failed.seq} says this export failed "
                    f"({withdrawn.get('error', 'no reason given')})"
                )
    except LedgerError as exc:
        problems.append(f"the ledger cannot be read ({exc})")
    if problems:
        return Check("ledger", False, "; ".join(problems))
    return Check("ledger", True, f"export event {event.seq} of {event.ts} matches the file")


def _check_sidecar(path: Path, file: ExportFile) -> Check:
    side = sidecar_path(path)
    if not side.exists():
        return Check("sidecar", True, f"no sidecar {side.name} next to the file (it is optional)")
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Check("sidecar", False, f"{side.name} cannot be read as JSON ({exc})")
    if not isinstance(data, dict):
        return Check("sidecar", False, f"{side.name} holds JSON but not a record")
    problems = []
    if file.record is not None:
        changed = _record_differences(split_payload(data), file.record, "the sidecar", "the file")
        if changed:
            problems.append("record: " + "; ".join(changed))
    if isinstance(data.get("tags"), dict):
        changed = _record_differences(data["tags"], file.tags, "the sidecar", "the file")
        if changed:
            problems.append("tags: " + "; ".join(changed))
    else:
        problems.append("it records no tags")
    if file.event is not None and data.get("ledger_event_hash") != file.event.hash:
        problems.append(f"its ledger_event_hash is not the hash of ledger event {file.event.seq}")
    if problems:
        return Check("sidecar", False, f"{side.name} disagrees: " + "; ".join(problems))
    return Check("sidecar", True, f"{side.name} matches")


def _skipped(name: str) -> Check:
    return skipped(name, "skipped: no ledger given")


def verify_file(
    path: Path,
    ledger: Ledger | None,
    index_path: Path | None = None,
    *,
    trust_dir: Path | None = None,
) -> FileReport:
    """Check an exported file, or identify an untagged one by its audio (``index_path``: the
    content index, default beside the ledger); never raises for a bad file, reports it.
    ``trust_dir``: the data folder whose signing CAs are trusted, default the ledger's."""
    path = Path(path)
    readable, file = read_export(path)
    if file is None:
        return FileReport(path, [readable], False)
    if ledger is not None and ATTRIBUTION_TAG not in file.tags and EVENT_ID_TAG not in file.tags:
        return verify_by_content(path, readable, ledger, index_path)
    checks = [readable, check_attribution(file)]
    missing = _find_event(file, ledger) if ledger is not None else None
    checks.append(check_file_audio(path, file))
    if trust_dir is None and ledger is not None:
        trust_dir = Path(ledger.path).parent  # the data folder holds the ledger and identity
    audio_now = {
        "pcm_sha256": file.digests.pcm_sha256 if file.digests is not None else None,
        "mp3_frames_sha256": file.frames_sha256,
    }
    trust = trust_anchors(trust_dir) if trust_dir is not None else None
    manifest = check_manifest(path, file.record, file.tags.get(NOTE_TAG), audio_now, trust)
    if manifest is not None:
        checks.append(manifest)
    not_established: tuple[str, ...] = ()
    if PROOFS_TAG in file.tags:  # the server's receipts, checked with the CA this device pinned
        anchor = load_anchor(None, None, trust_dir)
        proofs = check_proofs(
            file.tags[PROOFS_TAG], file.record, note_of(file.tags), anchor, strict=False
        )
        checks += proofs.checks
        not_established = tuple(proofs.not_established)
    if ledger is None:
        checks += [_skipped("tags"), _skipped("ledger"), _skipped("chain")]
    else:
        checks += [
            _check_tags(file, missing),
            _check_ledger(file, ledger, missing, path),
            check_chain(ledger),
        ]
    checks.append(_check_sidecar(path, file))
    ok = all(c.ok for c in checks)
    return FileReport(path, checks, ok, not_established=not_established, record=file.record)
