"""Three synthetic songs that differ clearly in one parameter each: tune, timbre and rhythm."""

from __future__ import annotations

import numpy as np

from musicapp.core import Reference
from musicapp.generation.base import Material
from musicapp.testing.synth import SR, synth_song

PLAIN = (1.0, 0.3)  # near-sine partials
BRIGHT = (1.0, 0.9, 0.8, 0.7, 0.65, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3)  # saw-like
STRAIGHT = ((0, "kick"), (4, "snare"), (8, "kick"), (12, "snare"))  # sixteenths in a bar
CLAVE = ((0, "kick"), (3, "kick"), (6, "snare"), (10, "kick"), (12, "snare"), (14, "snare"))
SPECS = {
    # name: (root MIDI, scale, partials, drum pattern, melody notes per bar)
    "tune": (60, (0, 4, 7, 9, 12, 16), PLAIN, STRAIGHT, 8),
    "timbre": (66, (0, 2, 4, 5, 7, 9, 11), BRIGHT, STRAIGHT, 4),
    "rhythm": (63, (0, 2, 4, 5, 7, 9, 11), PLAIN, CLAVE, 4),
}


def _note(freq: float, n: int, partials: tuple[float, ...], decay: float) -> np.ndarray:
    t = np.arange(n) / SR
    wave = sum(a * np.sin(2 * np.pi * freq * (h + 1) * t) for h, a in enumerate(partials))
    env = (
        np.exp(-t * decay) * np.minimum(1.0, t / 0.005) * np.minimum(1.0, (n - np.arange(n)) / 320)
    )
    return (wave * env / sum(partials) * 2).astype(np.float32)


def contrast_stems(kind: str, bpm: float = 120.0, duration_s: float = 30.0, seed: int = 0):
    """Melody, chords, bass and drums (mono (1, n) each) of the song `kind` in SPECS."""
    root, scale, partials, pattern, per_bar = SPECS[kind]
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * SR))
    bar = 4 * 60.0 / bpm
    stems = {k: np.zeros(n, dtype=np.float32) for k in ("melody", "chords", "bass", "drums")}
    noise = rng.standard_normal(int(0.2 * SR)).astype(np.float32)
    tk = np.arange(int(0.15 * SR)) / SR
    kick = (np.sin(2 * np.pi * (50 + 80 * np.exp(-tk * 30)) * tk) * np.exp(-tk * 25)).astype(
        np.float32
    )
    snare = noise[: int(0.12 * SR)] * np.exp(-np.arange(int(0.12 * SR)) / SR * 30)

    def put(name: str, at_s: float, audio: np.ndarray) -> None:
        s = int(round(at_s * SR))
        m = min(len(audio), n - s)
        if m > 0:
            stems[name][s : s + m] += audio[:m]

    def hz(m: float) -> float:
        return 440.0 * 2 ** ((m - 69) / 12)

    for b in range(int(np.ceil(duration_s / bar))):
        t0 = b * bar
        degree = (0, 5, 3, 4)[b % 4]
        chord_root = root + (0, 2, 4, 5, 7, 9, 11)[degree]
        for iv in (0, 4, 7):
            put("chords", t0, 0.12 * _note(hz(chord_root + iv), int(bar * SR), partials, 0.8))
        put("bass", t0, 0.3 * _note(hz(chord_root - 24), int(bar * SR / 2), partials, 1.5))
        step = bar / per_bar
        for k in range(per_bar):
            pitch = root + 12 + scale[int(rng.integers(len(scale)))]
            put("melody", t0 + k * step, 0.25 * _note(hz(pitch), int(step * SR), partials, 3.0))
        for sixteenth, hit in pattern:
            put("drums", t0 + sixteenth * bar / 16, 0.6 * kick if hit == "kick" else 0.3 * snare)
    return {k: v[None, :] for k, v in stems.items()}


def contrast_material(index: int, reference: Reference, kind: str, **kwargs) -> Material:
    """A reference's material from the contrast song `kind` (the song id is the reference's)."""
    stems = contrast_stems(kind, **kwargs)
    mono = np.sum(list(stems.values()), axis=0)
    mix = np.repeat(mono, 2, axis=0).astype(np.float32) * np.float32(0.7)
    bpm = kwargs.get("bpm", 120.0)
    song = synth_song(reference.song_id, bpm, mix.shape[1] / SR, tuple(stems))
    return Material(index, reference, song, SR, mix, stems, tempo_bpm=bpm)
