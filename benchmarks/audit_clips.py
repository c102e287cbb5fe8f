"""The audit harness's user clips: held-out material with and without a hidden catalogue excerpt.

A clip is 20-40 s of held-out songs (joined end to end where one is too short). A hidden clip
carries 4-16 s (as heard in the clip) of a random catalogue song's mix at a random point: cut
from the song at a random bar-free position, time-stretched by a factor of 0.75-1.25 (clip
length / song length) and transposed by -6..+6 semitones with the app's own phase vocoder
(`audio.stretch.time_stretch`, what the concat engine uses), then mixed at -20..0 dB (RMS)
relative to the material under it, with 10 ms fades. Every clip, hidden or clean, then gets a
random EQ tilt (-6..+6 dB from 50 Hz to 16 kHz, `audio.tone.eq_filter`) and gain (-12..0 dB),
and half go through an MP3 round trip (lameenc at 64-160 kbit/s, decoded by libsndfile, at
whatever rate the encoder chose: 32 kHz at the lower rates). Clean clips are made the same way
without the excerpt. Seeded per clip; kept as FLAC with a truth JSON and reused.
"""

from __future__ import annotations

import io
import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

log = logging.getLogger("audit_clips")

SEED = 3003
CLIP_S = (20.0, 40.0)
EXCERPT_S = (4.0, 16.0)
GAIN_DB = (-20.0, 0.0)
STRETCH = (0.75, 1.25)
SEMITONES = 6
TILT_DB = 6.0
LEVEL_DB = (-12.0, 0.0)
MP3_KBPS = (64, 96, 128, 160)
FADE_S = 0.01


@dataclass(frozen=True)
class ClipRecord:
    """One clip and its truth, as kept in ``clips/<name>.json``."""

    name: str
    path: Path
    hidden: bool
    song_id: str | None
    start_s: float
    end_s: float
    bar_s: float
    gain_db: float
    stretch: float
    semitones: int
    mp3_kbps: int  # 0: no MP3 round trip
    duration_s: float

    @classmethod
    def load(cls, json_path: Path) -> ClipRecord:
        d = json.loads(json_path.read_text())
        return cls(
            name=d["name"],
            path=json_path.with_suffix(".flac"),
            hidden=bool(d["hidden"]),
            song_id=d.get("song_id"),
            start_s=float(d.get("start_s", 0.0)),
            end_s=float(d.get("end_s", 0.0)),
            bar_s=float(d.get("bar_s", 0.0)),
            gain_db=float(d.get("gain_db", 0.0)),
            stretch=float(d.get("stretch", 1.0)),
            semitones=int(d.get("semitones", 0)),
            mp3_kbps=int(d.get("mp3_kbps", 0)),
            duration_s=float(d["duration_s"]),
        )


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x), dtype=np.float64)) + 1e-9)


def _material(rng: random.Random, held_out: list[Path], seconds: float, sr: int) -> np.ndarray:
    """``seconds`` of held-out songs, stereo at ``sr``, from a random point of a random order."""
    n = int(seconds * sr)
    parts: list[np.ndarray] = []
    have = 0
    order = rng.sample(held_out, min(4, len(held_out)))
    for path in order:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
        if rate != sr:
            raise ValueError(f"{path}: held-out audio at {rate} Hz, expected {sr}")
        parts.append(audio.T)
        have += audio.shape[0]
        if have >= n + sr:
            break
    whole = np.concatenate(parts, axis=1)
    while whole.shape[1] < n:  # fewer held-out seconds than one clip: loop them
        whole = np.concatenate([whole, whole], axis=1)
    start = rng.randint(0, whole.shape[1] - n)
    return np.ascontiguousarray(whole[:, start : start + n])


def _fade(x: np.ndarray, sr: int) -> np.ndarray:
    k = min(int(FADE_S * sr), x.shape[1] // 2)
    ramp = np.linspace(0.0, 1.0, k, dtype=np.float32)
    x = x.copy()
    x[:, :k] *= ramp
    x[:, x.shape[1] - k :] *= ramp[::-1]
    return x


def _tilt(x: np.ndarray, sr: int, tilt_db: float) -> np.ndarray:
    from musicapp.audio.tone import apply_fir, eq_filter

    centres = np.geomspace(50.0, min(16000.0, 0.45 * sr), 24)
    gains = np.linspace(-tilt_db / 2, tilt_db / 2, len(centres))
    return apply_fir(x, eq_filter(centres, gains, sr))


def _mp3_round_trip(x: np.ndarray, sr: int, kbps: int) -> tuple[np.ndarray, int]:
    import lameenc

    enc = lameenc.Encoder()
    enc.set_bit_rate(kbps)
    enc.set_in_sample_rate(sr)
    enc.set_channels(x.shape[0])
    enc.set_quality(5)
    pcm = (np.clip(x.T, -1.0, 1.0) * 32767.0).astype("<i2")
    data = enc.encode(pcm.tobytes()) + enc.flush()
    audio, rate = sf.read(io.BytesIO(bytes(data)), dtype="float32", always_2d=True)
    return np.ascontiguousarray(audio.T), int(rate)


def make_clip(
    name: str, hidden: bool, catalog: Any, songs: list[Any], held_out: list[Path], sr: int
) -> dict[str, Any]:
    """One clip's audio (written beside) and truth; ``songs`` the catalogue songs to hide."""
    from musicapp.audio.stretch import time_stretch

    rng = random.Random(f"{SEED}-{name}")
    clip_s = rng.uniform(*CLIP_S)
    x = _material(rng, held_out, clip_s, sr)
    truth: dict[str, Any] = {"name": name, "hidden": hidden}
    if hidden:
        song = rng.choice(songs)
        out_s = rng.uniform(*EXCERPT_S)
        stretch = rng.uniform(*STRETCH)
        src_s = min(out_s / stretch, song.duration_s - 1.0)
        out_s = src_s * stretch
        semis = rng.randint(-SEMITONES, SEMITONES)
        gain_db = rng.uniform(*GAIN_DB)
        s0 = rng.uniform(0.0, song.duration_s - src_s - 0.5)
        from musicapp.core import TimeRange

        mix = catalog.load_audio(song.id, time_range=TimeRange(s0, s0 + src_s))
        if song.sample_rate != sr:
            raise ValueError(f"song {song.id} at {song.sample_rate} Hz, clips are at {sr}")
        n_out = int(round(out_s * sr))
        excerpt = _fade(time_stretch(np.asarray(mix, dtype=np.float32), n_out, semis), sr)
        at = rng.randint(0, x.shape[1] - n_out)
        under = x[:, at : at + n_out]
        excerpt *= _rms(under) / _rms(excerpt) * 10 ** (gain_db / 20)
        x[:, at : at + n_out] += excerpt
        bar_song = 60.0 / float(song.tempo_bpm or 120.0) * song.beats_per_bar
        truth.update(
            song_id=song.id,
            start_s=at / sr,
            end_s=(at + n_out) / sr,
            song_start_s=s0,
            song_end_s=s0 + src_s,
            bar_s=bar_song * stretch,
            stretch=stretch,
            semitones=semis,
            gain_db=gain_db,
        )
    tilt = rng.uniform(-TILT_DB, TILT_DB)
    level_db = rng.uniform(*LEVEL_DB)
    x = _tilt(x, sr, tilt) * np.float32(10 ** (level_db / 20))
    peak = float(np.max(np.abs(x)))
    if peak > 0.99:  # a clip the user loads is not clipped
        x *= np.float32(0.99 / peak)
    rate = sr
    kbps = rng.choice(MP3_KBPS) if rng.random() < 0.5 else 0
    if kbps:
        x, rate = _mp3_round_trip(x, sr, kbps)
    truth.update(
        tilt_db=tilt,
        level_db=level_db,
        mp3_kbps=kbps,
        sample_rate=rate,
        duration_s=x.shape[1] / rate,
    )
    return {"truth": truth, "audio": x, "rate": rate}


def make_clips(
    catalog: Any, work: Path, held_out: list[Path], n_hidden: int, n_clean: int
) -> list[ClipRecord]:
    """Make (or reuse) the hidden and clean clips under ``work/clips``; return their records."""
    clips_dir = work / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    songs = sorted(catalog.all_songs(), key=lambda s: s.id)
    sr = sf.info(held_out[0]).samplerate
    names = [(f"hidden-{i:04d}", True) for i in range(n_hidden)]
    names += [(f"clean-{i:04d}", False) for i in range(n_clean)]
    records = []
    for done, (name, hidden) in enumerate(names, start=1):
        json_path = clips_dir / f"{name}.json"
        if not json_path.exists():
            made = make_clip(name, hidden, catalog, songs, held_out, sr)
            tmp = clips_dir / f"{name}.part.flac"
            sf.write(tmp, made["audio"].T, made["rate"], "PCM_16")
            tmp.rename(json_path.with_suffix(".flac"))
            json_path.write_text(json.dumps(made["truth"], indent=1))
            if done % 50 == 0:
                log.info("clip %d/%d made", done, len(names))
        records.append(ClipRecord.load(json_path))
    return records
