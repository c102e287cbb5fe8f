"""The attribution record an export embeds: its fields, the credit line, and where things go.

The caller's ``attribution`` dict is kept as it is and extended with the export's own fields
(``export_event_id``, ``format``, ``exported_at`` and the content digests, ``CONTENT_FIELDS``,
which ``fingerprint.py`` defines; an MP3's PCM digests are null and ``MP3_FIELDS`` identify
its audio instead, ``mp3.py``). The ledger payload adds ``tags``, ``file_name`` and
``file_sha256`` (the bytes of the file as exported, tags and all). The credit line reads
``attribution["references"]``, a list of dicts with ``title``, ``artist`` and ``share`` (a
fraction of 1); entries for the same title and artist are added up.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from musicapp.core import InvalidInput
from musicapp.ledger.kinds import EXPORT, EXPORT_FAILED

FORMATS = {".wav": "wav", ".flac": "flac", ".mp3": "mp3"}

# Logical tag names, the same for both formats; tags.py maps them onto ID3 frames.
TITLE = "TITLE"
ARTIST = "ARTIST"
COMMENT = "COMMENT"
ATTRIBUTION_TAG = "MUSICAPP_ATTRIBUTION"
EVENT_ID_TAG = "MUSICAPP_EVENT_ID"

EXPORT_KIND = EXPORT
EXPORT_FAILED_KIND = EXPORT_FAILED

# What identifies the exported audio (fingerprint.py): the 16-bit read digest (the only one of
# the first exports), the native-depth one and its format, and for 24-bit exports the digest of
# the samples rounded to 16 bits (None for 16-bit exports).
CONTENT_FIELDS = (
    "audio_sha256",
    "pcm_format",
    "pcm_sha256",
    "pcm16_rounded_sha256",
    "sample_rate",
    "channels",
)
# An MP3 export (mp3.py) has no PCM digests (its CONTENT_FIELDS digests are null): its audio is
# identified by the sha256 of its encoded frames instead, and it records its bitrate.
MP3_FIELDS = ("mp3_frames_sha256", "mp3_bitrate_kbps")
# Fields the export adds to the record, and the ones the ledger payload and sidecar add on top.
RECORD_FIELDS = ("export_event_id", "format", "exported_at", *CONTENT_FIELDS, *MP3_FIELDS)
PAYLOAD_FIELDS = ("tags", "file_name", "file_sha256")
SIDECAR_FIELDS = ("ledger_event_hash", "ledger_event_seq")
RESERVED = RECORD_FIELDS + PAYLOAD_FIELDS + SIDECAR_FIELDS


class ExportError(InvalidInput):
    """An export that cannot be made; the message names the file and what is wrong."""


def format_for(path: Path) -> str:
    """ "wav", "flac" or "mp3" from the file name; ExportError for anything else."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        what = f"cannot write {path.suffix} files" if path.suffix else "the name has no suffix"
        raise ExportError(f"export {path}: {what}; use .wav, .flac or .mp3")
    return fmt


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".attribution.json")


def check_reserved(attribution: Mapping[str, Any]) -> None:
    """Refuse caller fields that the export would overwrite."""
    clash = sorted(k for k in attribution if k in RESERVED)
    if clash:
        raise ExportError(
            f"attribution: {', '.join(clash)} cannot be given; the export sets these fields itself"
        )


def build_record(
    attribution: Mapping[str, Any],
    event_id: str,
    content: Mapping[str, Any],
    fmt: str,
    exported_at: str,
) -> dict[str, Any]:
    """The record for the tags: ``content`` holds exactly the ``CONTENT_FIELDS`` (and for an
    MP3 the ``MP3_FIELDS`` too)."""
    check_reserved(attribution)
    expected = set(CONTENT_FIELDS) | (set(MP3_FIELDS) if fmt == "mp3" else set())
    if set(content) != expected:
        raise ValueError(f"content fields {sorted(content)}, expected {sorted(expected)}")
    return {
        **attribution,
        "export_event_id": event_id,
        "format": fmt,
        "exported_at": exported_at,
        **content,
    }


def split_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The record part of a ledger payload or sidecar: everything but the fields added on top."""
    return {k: v for k, v in payload.items() if k not in PAYLOAD_FIELDS + SIDECAR_FIELDS}


def _percent(share: float) -> str:
    return f"{round(share * 100, 1):g}%"


def credit_line(attribution: Mapping[str, Any]) -> str:
    """One human line for the COMMENT tag: "Made with musicapp from: Song A (Composer) 62.5%"."""
    credits: dict[tuple[str, str], float | None] = {}
    refs = attribution.get("references")
    for ref in refs if isinstance(refs, list) else []:
        if not isinstance(ref, Mapping):
            continue
        title = str(ref.get("title") or ref.get("song_id") or "").strip()
        if not title:
            continue
        key = (title, str(ref.get("artist") or "").strip())
        share = ref.get("share")
        if isinstance(share, int | float) and not isinstance(share, bool):
            before = credits.get(key)
            credits[key] = float(share) + (before or 0.0)
        else:
            credits.setdefault(key, None)
    if not credits:
        return "Made with musicapp"
    parts = []
    for (title, artist), share in credits.items():
        text = f"{title} ({artist})" if artist else title
        parts.append(f"{text} {_percent(share)}" if share is not None else text)
    return "Made with musicapp from: " + ", ".join(parts)
