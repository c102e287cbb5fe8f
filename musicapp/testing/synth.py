"""Synthetic test audio: click tracks, tones, and little songs with stems at a known tempo."""

from __future__ import annotations

import numpy as np

from musicapp.core import Reference, RightsHolder, Song, Split, Stem
from musicapp.generation.base import Material

SR = 44100  # the demo catalogue's rate (config.CATALOGUE_RATE)
MAJOR = (0, 2, 4, 5, 7, 9, 11)
PROGRESSIONS = ((0, 3, 4, 0), (0, 5, 3, 4), (0, 4, 5, 3), (5, 3, 0, 4))  # scale degrees


def tone(freq: float, duration_s: float, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    """A sine tone, mono (1, n)."""
    t = np.arange(int(round(duration_s * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)[None, :]


def click_track(
    bpm: float,
    duration_s: float,
    sr: int = SR,
    start_s: float = 0.25,
    accent: bool = True,
    beats_per_bar: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Mono (1, n) clicks on every beat (the first of each bar louder) and the click times."""
    x = np.zeros(int(round(duration_s * sr)), dtype=np.float32)
    t = np.arange(int(0.02 * sr)) / sr
    click = np.sin(2 * np.pi * 1000 * t) * np.exp(-t * 200)
    times = np.arange(start_s, duration_s - 0.05, 60.0 / bpm)
    for i, when in enumerate(times):
        s = int(round(when * sr))
        amp = 1.0 if (accent and i % beats_per_bar == 0) else 0.5
        n = min(len(click), len(x) - s)
        x[s : s + n] += amp * click[:n]
    return x[None, :], times


def _note(
    freq: float, length: int, sr: int, harmonics: tuple[float, ...], decay: float
) -> np.ndarray:
    t = np.arange(length) / sr
    wave = sum(a * np.sin(2 * np.pi * freq * (h + 1) * t) for h, a in enumerate(harmonics))
    env = np.exp(-t * decay) * np.minimum(1.0, t / 0.005)
    release = min(length, int(0.01 * sr))
    env[length - release :] *= np.linspace(1.0, 0.0, release)
    return (wave * env).astype(np.float32)


def _midi_hz(m: float) -> float:
    return 440.0 * 2 ** ((m - 69) / 12)


def synth_stems(
    bpm: float,
    duration_s: float,
    root_midi: int = 60,
    seed: int = 0,
    sr: int = SR,
    drums: bool = True,
) -> dict[str, np.ndarray]:
    """Melody, chords, bass and (unless drums=False) drums of a little song in 4/4, each mono
    (1, n). Every bar has its own chord and melody notes (seeded), so no two bars are alike."""
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sr))
    beat = 60.0 / bpm
    stems = {k: np.zeros(n, dtype=np.float32) for k in ("melody", "chords", "bass", "drums")}
    n_bars = int(np.ceil(duration_s / (4 * beat)))
    chords = [
        d for _ in range(n_bars // 4 + 1) for d in PROGRESSIONS[rng.integers(len(PROGRESSIONS))]
    ]
    noise = rng.standard_normal(int(0.2 * sr)).astype(np.float32)

    def put(name: str, start_s: float, audio: np.ndarray) -> None:
        s = int(round(start_s * sr))
        m = min(len(audio), n - s)
        if m > 0:
            stems[name][s : s + m] += audio[:m]

    for b in range(n_bars):
        degree = chords[b]
        chord_root = root_midi + MAJOR[degree % 7]
        triad = [
            chord_root
            + MAJOR[(degree + k) % 7]
            - MAJOR[degree % 7]
            + (12 if (degree + k) >= 7 else 0)
            for k in (0, 2, 4)
        ]
        bar_s = b * 4 * beat
        length = int(4 * beat * sr)
        for m in triad:
            put("chords", bar_s, 0.12 * _note(_midi_hz(m), length, sr, (1.0, 0.3, 0.15), 0.6))
        put("bass", bar_s, 0.3 * _note(_midi_hz(chord_root - 24), length // 2, sr, (1.0, 0.5), 1.5))
        put(
            "bass",
            bar_s + 2 * beat,
            0.25 * _note(_midi_hz(chord_root - 24), length // 2, sr, (1.0, 0.5), 1.5),
        )
        for k in range(4):
            pitch = chord_root + 12 + MAJOR[int(rng.integers(7))]
            put(
                "melody",
                bar_s + k * beat,
                0.25 * _note(_midi_hz(pitch), int(beat * sr), sr, (1.0, 0.4), 3.0),
            )
            if k % 2 == 0:
                t = np.arange(int(0.15 * sr)) / sr
                kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-t * 30)) * t) * np.exp(-t * 25)
                put("drums", bar_s + k * beat, (0.6 if k == 0 else 0.45) * kick.astype(np.float32))
            else:
                put(
                    "drums",
                    bar_s + k * beat,
                    0.2 * noise[: int(0.12 * sr)] * np.exp(-np.arange(int(0.12 * sr)) / sr * 30),
                )
            put("drums", bar_s + (k + 0.5) * beat, 0.05 * noise[: int(0.03 * sr)])
    if not drums:
        del stems["drums"]
    return {k: v[None, :] for k, v in stems.items()}


STEMS = (
    Stem("melody", "Flute", "winds", "melody"),
    Stem("chords", "Piano", "piano", "harmony"),
    Stem("bass", "Bass", "bass", "bass"),
    Stem("drums", "Drums", "drums", "rhythm"),
)


def synth_song(
    song_id: str, bpm: float, duration_s: float = 30.0, stems: tuple[str, ...] | None = None
) -> Song:
    holder = RightsHolder(f"h-{song_id}", f"Composer of {song_id}")
    return Song(
        id=song_id,
        title=f"Song {song_id}",
        artist="Test",
        album="Tests",
        genre="test",
        duration_s=duration_s,
        tempo_bpm=bpm,
        splits=(Split(holder, 1.0),),
        stems=tuple(s for s in STEMS if stems is None or s.name in stems),
    )


def synth_material(
    index: int,
    reference: Reference,
    bpm: float = 120.0,
    duration_s: float = 30.0,
    root_midi: int = 60,
    seed: int = 0,
    with_stems: bool = True,
    tempo_hint: bool = True,
    drums: bool = True,
) -> Material:
    """A reference's material from a synthesized song (the song id is the reference's)."""
    stems = synth_stems(bpm, duration_s, root_midi, seed, drums=drums)
    pans = {"melody": 0.0, "chords": -0.4, "bass": 0.0, "drums": 0.3}
    # Each stem as it sits in the mix (stereo, panned), as the catalogue hands stems over.
    placed = {}
    for name, audio in stems.items():
        p = pans[name]
        left, right = np.cos((p + 1) * np.pi / 4), np.sin((p + 1) * np.pi / 4)
        placed[name] = np.stack([left * audio[0], right * audio[0]]).astype(np.float32)
    mix = np.sum(list(placed.values()), axis=0).astype(np.float32)
    stems = placed
    song = synth_song(reference.song_id, bpm, duration_s, tuple(stems))
    return Material(
        index=index,
        reference=reference,
        song=song,
        sample_rate=SR,
        mix=mix,
        stems=stems if with_stems else {},
        tempo_bpm=bpm if tempo_hint else None,
    )
