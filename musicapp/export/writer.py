"""export_audio: write WAV, FLAC or MP3 with the attribution inside, logged before the file appears.

The order is the point. Everything is checked before anything is written; the audio and its tags
go to a temp file in the target folder; the export event is appended to the ledger (write-ahead:
its id is already in the file's tags); only then is the temp file renamed into place, with the
JSON sidecar beside it. A failure before the ledger append leaves no file and no event; a
failure after it leaves no file and an ``export_failed`` event naming the export event, since the
ledger is corrected by new events, never by edits. Nothing partial is ever left under the final
names. An MP3 goes through the same steps; only its audio (``mp3.py``), its content fields and
its ID3v2.4 frames differ (``_encode_mp3``, ``_write_mp3_tags``).
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
from mutagen.mp3 import MP3
from numpy.typing import NDArray

from musicapp.export.c2pa_manifest import ManifestRequest, note_tags, plan_manifest
from musicapp.export.fingerprint import BITS, check_audio, file_digests, file_sha256, write_pcm
from musicapp.export.mp3 import (
    DEFAULT_BITRATE,
    check_mp3,
    encode_mp3,
    involved_people,
    mp3_frames_sha256,
)
from musicapp.export.proofs import TAG as PROOFS_TAG
from musicapp.export.proofs import Proofs
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
from musicapp.export.tags import read_tags, write_mp3_tags, write_tags
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
    bits: int = 24  # 0 for an MP3, which has no bit depth
    sample_rate: int = 0
    bitrate_kbps: int = 0  # MP3 only
    mp3_frames_sha256: str = ""  # MP3 only: what identifies its audio (mp3.py)
    c2pa: str = ""  # whether a C2PA manifest was signed, and by whom; "" when none was asked
    receipts: int = 0  # how many of the take's events the file carries the server's receipts for
    mastering: str = "as made"  # what the export did to the take's sound (master.describe)


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
    bitrate: int | None = None,
    c2pa: ManifestRequest | None = None,
    proofs: Proofs | None = None,
) -> ExportResult:
    """Write ``audio`` (float32, (channels, samples)) to ``out_path`` (.wav, .flac or .mp3) at
    ``sample_rate``, never resampled, with its attribution embedded; record the export in
    ``ledger``, and write the JSON sidecar. WAV and FLAC are ``bits``-bit PCM (16 or 24); an MP3
    is constant ``bitrate`` kbit/s (default 320), mono or stereo, and ignores ``bits``. With
    ``c2pa``, the file is signed with a C2PA manifest once its tags are written
    (``c2pa_manifest.py``; an MP3's manifest goes in an ID3 GEOB frame, which ``read_tags``
    leaves out: it is the manifest, not a tag). ``proofs``, the server's receipts for the
    take's events, go in the MUSICAPP_RECEIPTS tag (``proofs.py``)."""
    out_path = Path(out_path)
    fmt = format_for(out_path)
    if isinstance(bits, bool) or bits not in BITS:
        raise ExportError(f"export {out_path}: bits per sample must be 16 or 24, got {bits!r}")
    try:
        check_audio(audio, sample_rate)
        _check_mp3_options(fmt, audio, sample_rate, bitrate)
    except ExportError as exc:
        raise ExportError(f"export {out_path}: {exc}") from None
    _check_attribution(attribution)
    manifest = plan_manifest(c2pa, attribution, fmt)
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
        if fmt == "mp3":
            content = _encode_mp3(tmp, audio, sample_rate, bitrate or DEFAULT_BITRATE)
        else:
            content = _write_pcm(tmp, audio, sample_rate, bits, fmt)
        event_id = uuid.uuid4().hex
        exported_at = datetime.now(UTC).isoformat(timespec="seconds")
        record = build_record(attribution, event_id, content, fmt, exported_at)
        stage = "writing the tags"
        wanted = {
            TITLE: title,
            ARTIST: artist,
            COMMENT: credit_line(attribution),
            ATTRIBUTION_TAG: canonical_json(record),
            EVENT_ID_TAG: event_id,
        }
        wanted.update(note_tags(manifest))
        if proofs is not None:
            wanted[PROOFS_TAG] = proofs.to_json()
        wanted = {name: text for name, text in wanted.items() if text}
        if fmt == "mp3":
            _write_mp3_tags(tmp, wanted, event_id, attribution, content)
        else:
            write_tags(tmp, fmt, wanted)
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
        content["audio_sha256"] or "",
        content["pcm_sha256"] or "",
        bits if fmt != "mp3" else 0,
        sample_rate,
        content.get("mp3_bitrate_kbps", 0),
        content.get("mp3_frames_sha256", ""),
        c2pa=manifest.summary if manifest is not None else "",
        receipts=len(proofs.events) if proofs is not None else 0,
    )


def _write_pcm(
    tmp: Path, audio: NDArray[np.floating[Any]], sample_rate: int, bits: int, fmt: str
) -> dict[str, Any]:
    """WAV or FLAC: the PCM written, and its content fields (record.CONTENT_FIELDS)."""
    write_pcm(tmp, audio, sample_rate, bits, fmt)
    # The digests come from the file as written, not from the samples meant for it.
    digests = file_digests(tmp)
    return {
        "audio_sha256": digests.audio_sha256,
        "pcm_format": digests.pcm_format,
        "pcm_sha256": digests.pcm_sha256,
        "pcm16_rounded_sha256": digests.pcm16_rounded_sha256,
        "sample_rate": digests.sample_rate,
        "channels": digests.channels,
    }


# -- MP3 ------------------------------------------------------------------------------------


def _check_mp3_options(
    fmt: str, audio: NDArray[np.floating[Any]], sample_rate: int, bitrate: int | None
) -> None:
    """Refuse, before anything is written, an MP3 that cannot be made, or a bitrate for PCM."""
    if fmt != "mp3":
        if bitrate is not None:
            raise ExportError(f"a bitrate applies to MP3 only; {fmt.upper()} is lossless PCM")
        return
    check_mp3(sample_rate, DEFAULT_BITRATE if bitrate is None else bitrate)
    if audio.shape[0] > 2:
        raise ExportError(f"MP3 holds mono or stereo audio; this one has {audio.shape[0]} channels")


def _encode_mp3(
    tmp: Path, audio: NDArray[np.floating[Any]], sample_rate: int, bitrate: int
) -> dict[str, Any]:
    """MP3: the audio encoded, and its content fields: no PCM digests (it is lossy; mp3.py),
    the digest of its frames, its bitrate, and the rate and channels the encoder wrote."""
    encode_mp3(tmp, audio, sample_rate, bitrate)
    info: Any = MP3(tmp).info
    if (info.sample_rate, info.channels) != (sample_rate, audio.shape[0]):
        raise RuntimeError(
            f"the MP3 encoder wrote {info.sample_rate} Hz, {info.channels} channel(s) instead "
            f"of {sample_rate} Hz, {audio.shape[0]}"
        )
    return {
        "audio_sha256": None,
        "pcm_format": None,
        "pcm_sha256": None,
        "pcm16_rounded_sha256": None,
        "sample_rate": info.sample_rate,
        "channels": info.channels,
        "mp3_frames_sha256": mp3_frames_sha256(tmp),
        "mp3_bitrate_kbps": bitrate,
    }


def _write_mp3_tags(
    tmp: Path,
    tags: dict[str, str],
    event_id: str,
    attribution: Mapping[str, Any],
    content: Mapping[str, Any],
) -> None:
    """The ID3v2.4 tag, with the event id in a UFID frame and the rights holders in TIPL; the
    frames' digest is checked again, as tagging must leave the audio alone."""
    write_mp3_tags(tmp, tags, event_id=event_id, people=involved_people(dict(attribution)))
    if mp3_frames_sha256(tmp) != content["mp3_frames_sha256"]:
        raise RuntimeError("writing the MP3's tags changed its audio frames")


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
