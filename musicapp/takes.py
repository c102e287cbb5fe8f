"""Generated takes on disk: the audio of each generation beside its record, named by event id.

A take is kept as a 32-bit float WAV at the rate the engine produced: the engine's float32
samples exactly, overs and all, so an export quantises once (to 24 or 16 bits) and never
resamples. Takes made before this were 16-bit WAVs; they read the same way.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from musicapp.core import GenerationRequest, InvalidInput, Provenance, Verification
from musicapp.core.codec import request_from_dict
from musicapp.export.fingerprint import file_digests, file_sha256

TAKE_SUBTYPE = "FLOAT"


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

    def read(self, take_id: str) -> tuple[np.ndarray, int]:
        path = self.path_of(take_id)
        if not path.exists():
            raise InvalidInput(f"take {take_id}: its audio file {path} is missing")
        data, sr = sf.read(path, dtype="float32", always_2d=True)
        return np.ascontiguousarray(data.T), int(sr)


def take_from_event(event_id: str, ts: str, payload: dict, store: TakeStore) -> Take:
    """Rebuild a Take from its generation event's payload."""
    return Take(
        id=event_id,
        request=request_from_dict(payload["request"]),
        provenance=Provenance.from_dict(payload["provenance"]),
        verification=None,
        audio_path=store.path_of(event_id),
        sample_rate=int(payload["sample_rate"]),
        duration_s=float(payload["duration_s"]),
        created_at=ts,
        verification_event_id=str(payload.get("verification_event_id", "")),
        royalties={str(h): float(s) for h, s in (payload.get("royalties") or {}).items()},
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


def audio_digest(audio: np.ndarray) -> str:
    """sha256 of float audio times 32767, rounded to int16, channels interleaved, no header.

    What a generation event's ``audio_sha256`` (and ``user_audio_sha256``) has always held. It
    describes the audio in memory, not any file: libsndfile scales by 32768 when it writes 16
    bits, so it never matched the first takes' files either; ``take_content`` does."""
    pcm = (np.clip(audio.T, -1.0, 1.0) * 32767.0).round().astype("<i2")
    return hashlib.sha256(pcm.tobytes()).hexdigest()
