"""Generated takes on disk: the audio of each generation beside its record, named by event id.

A take is kept as a 32-bit float WAV at the rate the engine produced: the engine's float32
samples exactly, overs and all, so an export quantises once (to 24 or 16 bits) and never
resamples. Takes made before this were 16-bit WAVs; they read the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import numpy as np
import soundfile as sf

from musicapp.attribution.types import AuditResult
from musicapp.core import GenerationRequest, InvalidInput, Provenance, Verification
from musicapp.core.codec import request_from_dict
from musicapp.export.fingerprint import file_digests, file_sha256
from musicapp.ledger.kinds import GenerationPayload, is_content_ref, user_audio_ref

TAKE_SUBTYPE = "FLOAT"
# Beside each take that reshaped the user's audio: where that file is on this machine. The
# ledger names it by content only (ledger/kinds.py), so this is the one place its path is kept.
LOCAL_SUFFIX = ".local.json"
# Beside a take the user named in Take history: the name, on this machine only (a name is the
# user's own note, not a fact about who contributed, so it never goes to the ledger or server).
NAME_SUFFIX = ".name.json"
MAX_NAME = 120

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Take:
    """One generated result. Its id is the id of its generation event in the ledger."""

    id: str
    request: GenerationRequest
    provenance: Provenance
    verification: Verification | None
    audio_path: Path
    sample_rate: int
    duration_s: float
    created_at: str
    verification_event_id: str = ""
    # holder id -> share of the royalties, as logged when the take was made
    royalties: dict[str, float] = field(default_factory=dict, compare=False)
    # The corroborative audit of the take (its ``audit`` ledger event), beside the by-design
    # provenance; None when the audit is off, failed or was not run yet.
    audit: AuditResult | None = field(default=None, compare=False)
    # Why there is no audit, when one was due and did not finish (shown, never logged).
    audit_note: str = field(default="", compare=False)


class TakeStore:
    """Keeps each take as `<id>.wav` plus the generation record the ledger holds for it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def staging_path(self) -> Path:
        """A fresh temp path in the takes folder, renamed into place once the ledger has the take."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".take-", suffix=".wav", dir=self.folder)
        os.close(fd)
        return Path(name)

    def write_staged(self, audio: np.ndarray, sample_rate: int) -> Path:
        """Write float ``(channels, samples)`` audio, unchanged, to a staging file."""
        path = self.staging_path()
        try:
            samples = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).T)
            sf.write(path, samples, sample_rate, subtype=TAKE_SUBTYPE, format="WAV")
        except Exception:
            path.unlink(missing_ok=True)
            raise
        return path

    def publish(self, staged: Path, take_id: str) -> Path:
        final = self.folder / f"{take_id}.wav"
        os.replace(staged, final)
        return final

    def path_of(self, take_id: str) -> Path:
        return self.folder / f"{take_id}.wav"

    def remember_user_audio(self, take_id: str, user_audio: str | None) -> None:
        """Keep, on this machine only, where the take's user audio was read from; a failure
        is logged, not raised: the take is already recorded and the path is a convenience."""
        if not user_audio:
            return
        try:
            path = self.folder / f"{take_id}{LOCAL_SUFFIX}"
            path.write_text(json.dumps({"user_audio": user_audio}), encoding="utf-8")
        except OSError:
            log.exception("could not note where take %s's user audio is", take_id)

    def user_audio_of(self, take_id: str) -> str | None:
        """The path ``remember_user_audio`` kept for the take, if any."""
        try:
            data = json.loads((self.folder / f"{take_id}{LOCAL_SUFFIX}").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        value = data.get("user_audio") if isinstance(data, dict) else None
        return value if isinstance(value, str) and value else None

    def name_of(self, take_id: str) -> str:
        """The name the user gave the take, or ""."""
        try:
            data = json.loads((self.folder / f"{take_id}{NAME_SUFFIX}").read_text("utf-8"))
        except (OSError, ValueError):
            return ""
        value = data.get("name") if isinstance(data, dict) else None
        return value if isinstance(value, str) else ""

    def set_name(self, take_id: str, name: str) -> str:
        """Name the take (an empty name removes it); the name as kept, or InvalidInput
        saying what is wrong with it."""
        name = " ".join(name.split())
        if len(name) > MAX_NAME:
            raise InvalidInput(f"take name: {len(name)} characters, at most {MAX_NAME}")
        path = self.folder / f"{take_id}{NAME_SUFFIX}"
        if not name:
            path.unlink(missing_ok=True)
            return ""
        fd, tmp = tempfile.mkstemp(prefix=".name-", suffix=".json", dir=self.folder)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"name": name}, out, ensure_ascii=False)
        os.replace(tmp, path)
        return name

    def remove(self, take_id: str) -> None:
        """Delete the take's audio and what this machine kept beside it."""
        for suffix in (".wav", LOCAL_SUFFIX, NAME_SUFFIX):
            (self.folder / f"{take_id}{suffix}").unlink(missing_ok=True)

    def read(self, take_id: str) -> tuple[np.ndarray, int]:
        path = self.path_of(take_id)
        if not path.exists():
            raise InvalidInput(f"take {take_id}: its audio file {path} is missing")
        data, sr = sf.read(path, dtype="float32", always_2d=True)
        return np.ascontiguousarray(data.T), int(sr)


def take_from_event(
    event_id: str,
    ts: str,
    payload: Mapping[str, Any],
    store: TakeStore,
    audit: AuditResult | None = None,
) -> Take:
    """Rebuild a Take from its generation event's payload (and ``audit``, from the take's
    ``audit`` event when there is one). The request's user audio is the path kept beside the
    take on this machine; else what the event names (a content reference, or in old events the
    path itself)."""
    logged = cast(GenerationPayload, payload)
    request = request_from_dict(logged["request"])
    if is_content_ref(user_audio_ref(logged["request"])):
        request = replace(request, user_audio=store.user_audio_of(event_id) or request.user_audio)
    return Take(
        id=event_id,
        request=request,
        provenance=Provenance.from_dict(logged["provenance"]),
        verification=None,
        audio_path=store.path_of(event_id),
        sample_rate=int(logged["sample_rate"]),
        duration_s=float(logged["duration_s"]),
        created_at=ts,
        verification_event_id=str(logged.get("verification_event_id", "")),
        royalties={str(h): float(s) for h, s in (logged.get("royalties") or {}).items()},
        audit=audit,
    )


def take_content(path: Path) -> dict[str, str | None]:
    """The digests a generation event records of its take file, for finding it by content:
    ``pcm_format`` and ``pcm_sha256`` (its samples, ``export.fingerprint``) and ``file_sha256``
    (its bytes)."""
    digests = file_digests(path)
    return {
        "pcm_format": digests.pcm_format,
        "pcm_sha256": digests.pcm_sha256,
        "file_sha256": file_sha256(path),
    }


def user_audio_file_sha256(request: GenerationRequest) -> str | None:
    """sha256 of the bytes of the request's user audio file (None without one): how the ledger
    names it (``ledger.kinds.content_ref``). Remembered by path, size and modification time,
    since verifying and logging the take both ask for it."""
    if not request.user_audio:
        return None
    try:
        stat = os.stat(request.user_audio)
        return _file_sha256(request.user_audio, stat.st_size, stat.st_mtime_ns)
    except OSError as exc:
        raise InvalidInput(
            f"your audio {request.user_audio}: cannot be read ({exc})",
            field="user_audio",
            path=str(request.user_audio),
        ) from exc


@lru_cache(maxsize=8)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    return file_sha256(Path(path))


def audio_digest(audio: np.ndarray) -> str:
    """sha256 of float audio times 32767, rounded to int16, channels interleaved, no header.

    The *memory digest* a generation event's ``user_audio_sha256`` holds (and its
    ``audio_sha256`` held, before the ledger's vocabulary gave that name one meaning:
    ``ledger/kinds.py``). It describes the audio in memory, not any file: libsndfile scales by
    32768 when it writes 16 bits, so it never matched the first takes' files either;
    ``take_content`` does."""
    pcm = (np.clip(audio.T, -1.0, 1.0) * 32767.0).round().astype("<i2")
    return hashlib.sha256(pcm.tobytes()).hexdigest()
