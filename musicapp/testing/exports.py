"""Test doubles for exports: an engine that makes stereo takes at a chosen rate, and copies of an
exported file as people make them (tags stripped, another container or depth, one sample off)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from mutagen.flac import FLAC
from mutagen.wave import WAVE
from numpy.typing import NDArray

from musicapp.core import GenerationRequest, Level, Provenance, Role, SourceShare
from musicapp.export.fingerprint import audio_sha256, to_pcm16
from musicapp.export.record import ATTRIBUTION_TAG, EVENT_ID_TAG
from musicapp.export.tags import read_tags, write_tags
from musicapp.generation.base import Conditioning, GenerationResult
from musicapp.jobs import CancelToken, ProgressCallback
from musicapp.ledger import Ledger, canonical_json


def stereo_music(seconds: float, rate: int, seed: int = 0) -> NDArray[np.float32]:
    """Float32 stereo (2, n): two detuned chords and a little noise, peak 0.8; no sample lies
    on a 24-bit (or 16-bit) step, as an engine's output would not."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * rate))) / rate
    left = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    right = sum(np.sin(2 * np.pi * f * t + 0.3) for f in (220.5, 277.0, 330.1))
    audio = np.stack([left, right]) + 0.05 * rng.standard_normal((2, t.size))
    out: NDArray[np.float32] = (0.8 * audio / np.abs(audio).max()).astype(np.float32)
    return out


class FixedRateEngine:
    """Generates ``stereo_music`` at ``rate`` for any request; shares follow the weights."""

    name = "fixed-rate"
    label = "Fixed rate (tests)"
    levels = frozenset(Level)
    roles = frozenset(Role)
    needs_weights = False

    def __init__(self, rate: int) -> None:
        self.rate = rate

    def generate(
        self,
        request: GenerationRequest,
        conditioning: Conditioning,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> GenerationResult:
        total = sum(r.weight for r in request.references)
        shares = tuple(
            SourceShare(i, r.song_id, r.weight / total) for i, r in enumerate(request.references)
        )
        audio = stereo_music(request.duration_s, self.rate, seed=request.seed)
        return GenerationResult(audio, self.rate, Provenance(shares, engine=self.name))


def strip_tags(path: Path) -> None:
    """Remove every tag from a WAV or FLAC file in place, as a tag editor's "remove all" does."""
    if path.suffix.lower() == ".flac":
        FLAC(path).delete()
    else:
        WAVE(path).delete()


def rewrite(source: Path, out: Path, subtype: str | None = None) -> Path:
    """Decode ``source`` and write its samples to ``out`` (format from the suffix), with no tags,
    as ``subtype`` (default: the source's). Read as integers where the source is, so a 24-bit
    source written as PCM_16 loses its low 8 bits the way libsndfile converts."""
    info = sf.info(str(source))
    subtype = subtype or info.subtype
    dtype = "float32" if info.subtype in ("FLOAT", "DOUBLE") else "int32"
    data, rate = sf.read(source, dtype=dtype, always_2d=True)
    sf.write(out, data, rate, subtype=subtype)
    return out


def change_one_sample(source: Path, out: Path, steps: int = 1) -> Path:
    """A copy of ``source`` (untagged) with one sample in the middle ``steps`` of its own least
    significant steps away: the smallest change the file's format can hold."""
    info = sf.info(str(source))
    if info.subtype == "FLOAT":
        floats, rate = sf.read(source, dtype="float32", always_2d=True)
        mid = len(floats) // 2
        for _ in range(steps):
            floats[mid, 0] = np.nextafter(floats[mid, 0], np.float32(1.0))
        sf.write(out, floats, rate, subtype="FLOAT")
        return out
    data, rate = sf.read(source, dtype="int32", always_2d=True)
    lsb = {"PCM_16": 1 << 16, "PCM_24": 1 << 8}.get(info.subtype, 1)
    data[len(data) // 2, 0] += steps * lsb
    sf.write(out, data, rate, subtype=info.subtype)
    return out


def legacy_export(audio: NDArray[np.float32], rate: int, out: Path, ledger: Ledger) -> str:
    """An export as the first writer made them: a 16-bit WAV whose record and event hold only
    ``audio_sha256`` of its digests; the export event's id."""
    event_id = "legacy" + "0" * 26
    sf.write(out, to_pcm16(audio, rate), rate, subtype="PCM_16")
    record = {
        "references": [],
        "export_event_id": event_id,
        "audio_sha256": audio_sha256(out),
        "format": "wav",
        "exported_at": "2026-01-01T00:00:00+00:00",
    }
    write_tags(out, "wav", {ATTRIBUTION_TAG: canonical_json(record), EVENT_ID_TAG: event_id})
    payload = {**record, "tags": read_tags(out, "wav"), "file_name": out.name}
    return ledger.append("export", payload, event_id=event_id).id


SAMPLE_ATTRIBUTION: dict[str, object] = {
    "generation_event_id": "gen-1",
    "use": "commercial",
    "engine": "concat",
    "references": [
        {"song_id": "s1", "title": "Song A", "artist": "Composer", "share": 0.625},
        {"song_id": "s2", "title": "Song B", "artist": "Band", "share": 0.375},
    ],
    "rights_holders": [{"id": "h1", "name": "Composer", "share": 1.0}],
}
"""An export's attribution as the export tests write it: two references, one holder."""
