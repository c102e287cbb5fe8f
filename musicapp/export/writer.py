"""export_audio: write WAV or FLAC with the attribution inside, logged before the file appears.

The order is the point. Everything is checked before anything is written; the audio and its tags
go to a temp file in the target folder; the export event is appended to the ledger (write-ahead:
its id is already in the file's tags); only then is the temp file renamed into place, with the
JSON sidecar beside it. A failure before the ledger append leaves no file and no event; a
failure after it leaves no file and an ``export_failed`` event naming the export event, since the
ledger is corrected by new events, never by edits. Nothing partial is ever left under the final
names.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from musicapp.export.c2pa_manifest import ManifestRequest, plan_manifest, with_note
from musicapp.export.fingerprint import BITS, check_audio, file_digests, file_sha256, write_pcm
from musicapp.export.record import (
    ARTIST,
    ATTRIBUTION_TAG,
    COMMENT,
    EVENT_ID_TAG,
    EXPORT_FAILED_KIND,
    EXPORT_KIND,
    TITLE,
    ExportError,
    build_record,
    check_reserved,
    credit_line,
    format_for,
    sidecar_path,
)
from musicapp.export.tags import read_tags, write_tags
from musicapp.ledger import CanonicalError, Event, Ledger, LedgerDamaged, canonical_json
from musicapp.ledger.kinds import export_failed_payload, export_payload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportResult:
    """Where the export went and which ledger event vouches for it."""

    path: Path
    sidecar_path: Path
    event_id: str
    audio_sha256: str
    pcm_sha256: str = ""
    bits: int = 24
    sample_rate: int = 0
    c2pa: str = ""  # whether a C2PA manifest was signed, and by whom; "" when none was asked


def _folder_problem(out_path: Path) -> str | None:
    if out_path.is_dir():
        return "is a folder, not a file name"
    folder = out_path.parent
    if not folder.exists():
        for above in folder.parents:
            if above.exists():
                if not above.is_dir():
                    return f"{above} is a file, not a folder"
                break
        return f"folder {folder} does not exist"
    if not folder.is_dir():
        return f"{folder} is a file, not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"folder {folder} is not writable"
    return None


def _check_attribution(attribution: Mapping[str, Any]) -> None:
    if not isinstance(attribution, Mapping):
        raise ExportError(f"attribution must be a dict, got {type(attribution).__name__}")
    try:
        canonical_json(dict(attribution), "attribution")
    except CanonicalError as exc:
        raise ExportError(str(exc)) from None
    check_reserved(attribution)


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_folder(folder: Path) -> None:
    # The renames are durable only once the folder's entry is on disk; the ledger already says
    # the file exists. Best effort: not every platform lets a folder be opened for this.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_beside(out_path: Path, suffix: str) -> Path:
    """A new, empty, hidden file next to ``out_path``, ending in ``suffix`` (for format sniffing)."""
    # Not tempfile.mkstemp: its files are 0600, and os.replace would hand that mode on to the
    # export. os.open with 0o666 lets the user's umask decide, as for any file they save.
    for _ in range(100):
        tmp = out_path.with_name(f".{out_path.name}.tmp-{uuid.uuid4().hex[:8]}{suffix}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return tmp
    raise FileExistsError(f"no free temp name next to {out_path}")


def _write_sidecar_temp(out_path: Path, content: dict[str, Any]) -> Path:
    tmp = _temp_beside(out_path, ".json")
    try:
        tmp.write_text(
            json.dumps(content, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        _fsync(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def export_audio(
    audio: NDArray[np.floating[Any]],
    sample_rate: int,
    out_path: Path,
    attribution: dict[str, Any],
    ledger: Ledger,
    *,
    title: str = "",
    artist: str = "musicapp",
    bits: int = 24,
    c2pa: ManifestRequest | None = None,
) -> ExportResult:
    """Write ``audio`` (float32, (channels, samples)) to ``out_path`` (.wav or .flac) as
    ``bits``-bit PCM (16 or 24) at ``sample_rate``, never resampled, with its attribution
    embedded; record the export in ``ledger``, and write the JSON sidecar. With ``c2pa``, the
    file is signed with a C2PA manifest once its tags are written (``c2pa_manifest.py``)."""
    out_path = Path(out_path)
    fmt = format_for(out_path)
    if isinstance(bits, bool) or bits not in BITS:
        raise ExportError(f"export {out_path}: bits per sample must be 16 or 24, got {bits!r}")
    try:
        check_audio(audio, sample_rate)
    except ExportError as exc:
        raise ExportError(f"export {out_path}: {exc}") from None
    _check_attribution(attribution)
    manifest = plan_manifest(c2pa, attribution)
    problem = _folder_problem(out_path)
    if problem is not None:
        raise ExportError(f"export {out_path}: {problem}")
    try:
        tmp = _temp_beside(out_path, out_path.suffix)
    except OSError as exc:
        raise ExportError(
            f"export {out_path}: cannot write in folder {out_path.parent} ({exc.strerror or exc})"
        ) from exc

    event: Event | None = None
    sidecar_tmp: Path | None = None
    final_written = False
    stage = "writing the audio"
    try:
        write_pcm(tmp, audio, sample_rate, bits, fmt)
        # The digests come from the file as written, not from the samples meant for it.
        digests = file_digests(tmp)
        content = {
            "audio_sha256": digests.audio_sha256,
            "pcm_format": digests.pcm_format,
            "pcm_sha256": digests.pcm_sha256,
            "pcm16_rounded_sha256": digests.pcm16_rounded_sha256,
            "sample_rate": digests.sample_rate,
            "channels": digests.channels,
        }
        event_id = uuid.uuid4().hex
        exported_at = datetime.now(UTC).isoformat(timespec="seconds")
        record = build_record(with_note(attribution, manifest), event_id, content, fmt, exported_at)
        stage = "writing the tags"
        wanted = {
            TITLE: title,
            ARTIST: artist,
            COMMENT: credit_line(attribution),
            ATTRIBUTION_TAG: canonical_json(record),
            EVENT_ID_TAG: event_id,
        }
        write_tags(tmp, fmt, {name: text for name, text in wanted.items() if text})
        tags = read_tags(tmp, fmt)
        if tags.get(ATTRIBUTION_TAG) != wanted[ATTRIBUTION_TAG]:
            raise ExportError(
                f"export {out_path}: the attribution tag did not read back as written"
            )
        if manifest is not None:
            stage = "signing the C2PA manifest"  # after the tags: it binds the final file
            manifest.sign(tmp, fmt, record, ledger, out_path.name)
        _fsync(tmp)
        stage = "recording the export in the ledger"
        payload = export_payload(record, tags, out_path.name, file_sha256(tmp))
        event = ledger.append(EXPORT_KIND, payload, event_id=event_id)
        stage = "writing the sidecar"
        sidecar = sidecar_path(out_path)
        sidecar_tmp = _write_sidecar_temp(
            out_path, {**payload, "ledger_event_hash": event.hash, "ledger_event_seq": event.seq}
        )
        stage = "moving the file into place"
        os.replace(tmp, out_path)
        final_written = True
        os.replace(sidecar_tmp, sidecar)
        _fsync_folder(out_path.parent)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if sidecar_tmp is not None:
            sidecar_tmp.unlink(missing_ok=True)
        if final_written:
            # The audio made it but its sidecar did not: take it back rather than leave half.
            out_path.unlink(missing_ok=True)
        if event is not None:
            _record_failure(ledger, event, out_path, stage, exc)
        if isinstance(exc, ExportError | LedgerDamaged) or not isinstance(exc, Exception):
            raise  # already says what went wrong (a damaged ledger names its commands)
        raise ExportError(f"export {out_path}: failed while {stage} ({exc})") from exc
    return ExportResult(
        out_path,
        sidecar,
        event.id,
        str(digests.audio_sha256),
        str(digests.pcm_sha256),
        bits,
        sample_rate,
        manifest.summary if manifest is not None else "",
    )


def _record_failure(
    ledger: Ledger, event: Event, out_path: Path, stage: str, exc: BaseException
) -> None:
    try:
        ledger.append(
            EXPORT_FAILED_KIND,
            export_failed_payload(event.id, out_path.name, stage, f"{type(exc).__name__}: {exc}"),
        )
    except Exception:  # the original error is the one to raise; this one is logged
        log.exception("could not record the failure of export %s in the ledger", event.id)
