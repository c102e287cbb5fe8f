"""Rendered parts to finished stems and mixes: amp chains, stereo effects, drum mics, buses.

Each part, rendered alone (recordings.synth), is produced as a studio would: guitars through
pedalboard amp chains (gate, compressor, drive, cab EQ and roll-off, modulation, reverb), bass
as DI plus amp mic, keys with their own modulation, drums from close mics, the kit's own stereo
image and overheads into a room. A song's full mix then re-balances and pans the stems and runs
them through a mix bus (bus compressor, master EQ, limiter), so it is not the plain sum of its
stems.
"""

from __future__ import annotations

import numpy as np
import pedalboard as pb

STAGE_PEAK = 0.5  # -6 dBFS: every dry part is recorded at this peak before its chain
MIX_PEAK_DBFS = -1.0
FADE_S = 0.005  # the excerpt's edges: a cut through a sounding note must not click


# Small tools ---------------------------------------------------------------------------------


def mono(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=0, keepdims=True).astype(np.float32)


def staged(x: np.ndarray, peak: float = STAGE_PEAK) -> np.ndarray:
    """Recorded at a set peak level, as a part is gain-staged before its chain."""
    top = float(np.max(np.abs(x)))
    return (x * (peak / top)).astype(np.float32) if top > 0 else x


def pan(x: np.ndarray, position: float) -> np.ndarray:
    """Mono (1, n) to stereo with a constant-power pan law (-1 left, 0 centre, +1 right)."""
    angle = (position + 1) * np.pi / 4
    return np.concatenate([x * np.cos(angle), x * np.sin(angle)]).astype(np.float32)


def balance(x: np.ndarray, position: float) -> np.ndarray:
    """A stereo signal moved toward one side, keeping its level at centre."""
    angle = (position + 1) * np.pi / 4
    gains = np.sqrt(2) * np.array([[np.cos(angle)], [np.sin(angle)]])
    return (x * gains).astype(np.float32)


def db(value: float) -> float:
    return float(10 ** (value / 20))


def run(chain: pb.Pedalboard, x: np.ndarray, sr: int) -> np.ndarray:
    return chain(np.ascontiguousarray(x, dtype=np.float32), sr)


def stereo_chorus(
    x: np.ndarray,
    sr: int,
    rates: tuple[float, float],
    delays_ms: tuple[float, float],
    depth: float,
    mix: float,
) -> np.ndarray:
    """Mono in, stereo out: each side its own chorus, so the sides move against each other."""
    sides = [
        run(pb.Pedalboard([pb.Chorus(rate, depth, delay, 0.1, mix)]), x, sr)
        for rate, delay in zip(rates, delays_ms, strict=True)
    ]
    return np.concatenate(sides)


def auto_pan(x: np.ndarray, sr: int, hz: float, depth: float, phase: float = 0.0) -> np.ndarray:
    """Stereo tremolo: one side swells while the other dips (a Rhodes' or a rotor's motion)."""
    t = np.arange(x.shape[1]) / sr
    lfo = depth * np.sin(2 * np.pi * hz * t + phase)
    return (x * np.stack([1 + lfo, 1 - lfo])).astype(np.float32)


def room(x: np.ndarray, sr: int, size: float, wet: float, width: float = 1.0) -> np.ndarray:
    verb = pb.Reverb(room_size=size, damping=0.45, wet_level=wet, dry_level=1.0, width=width)
    return run(pb.Pedalboard([verb]), x, sr)


# Amp chains -----------------------------------------------------------------------------------


def clean_bright_amp(x: np.ndarray, sr: int, bpm: float) -> np.ndarray:
    """Song A's guitar: compressed clean, scooped lows, a bright top, stereo chorus, an echo at a
    dotted eighth on one side and a quarter on the other, and a medium room."""
    amp = pb.Pedalboard(
        [
            pb.NoiseGate(threshold_db=-60, ratio=4, release_ms=150),
            pb.Compressor(threshold_db=-22, ratio=4, attack_ms=5, release_ms=120),
            pb.Distortion(drive_db=3),
            pb.HighpassFilter(cutoff_frequency_hz=110),
            pb.LowShelfFilter(cutoff_frequency_hz=250, gain_db=-3),
            pb.PeakFilter(cutoff_frequency_hz=2800, gain_db=3, q=0.8),
            pb.HighShelfFilter(cutoff_frequency_hz=5000, gain_db=6),
            # an open-back cab: bright, but nothing much above 10 kHz
            pb.LadderFilter(mode=pb.LadderFilter.Mode.LPF24, cutoff_hz=10000, resonance=0.0),
        ]
    )
    wide = stereo_chorus(run(amp, x, sr), sr, (0.7, 0.93), (7.0, 11.0), 0.3, 0.5)
    beat = 60.0 / bpm
    echoes = [
        pb.Delay(delay_seconds=0.75 * beat, feedback=0.25, mix=0.18),
        pb.Delay(delay_seconds=1.0 * beat, feedback=0.2, mix=0.14),
    ]
    wide = np.concatenate(
        [run(pb.Pedalboard([e]), s[None], sr) for e, s in zip(echoes, wide, strict=True)]
    )
    return room(wide, sr, size=0.55, wet=0.2)


def crunch_amp(x: np.ndarray, sr: int, drive_db: float, mid_hz: float, cab_hz: float) -> np.ndarray:
    """Song B's guitar: a mid-boost pedal into a driven amp, a mid-heavy voicing with tamed lows
    and fizz, and a closed-back cab's roll-off above ~4-5 kHz."""
    amp = pb.Pedalboard(
        [
            pb.NoiseGate(threshold_db=-55, ratio=6, release_ms=80),
            pb.HighpassFilter(cutoff_frequency_hz=90),
            pb.PeakFilter(cutoff_frequency_hz=mid_hz, gain_db=6, q=0.7),
            pb.Distortion(drive_db=drive_db),
            pb.HighpassFilter(cutoff_frequency_hz=110),
            pb.LowShelfFilter(cutoff_frequency_hz=160, gain_db=-3),
            pb.PeakFilter(cutoff_frequency_hz=mid_hz * 1.15, gain_db=5, q=0.8),
            pb.PeakFilter(cutoff_frequency_hz=3000, gain_db=-4, q=1.0),
            pb.LadderFilter(mode=pb.LadderFilter.Mode.LPF12, cutoff_hz=cab_hz, resonance=0.1),
            pb.LowpassFilter(cutoff_frequency_hz=cab_hz * 1.4),
            pb.Compressor(threshold_db=-18, ratio=2.5, attack_ms=10, release_ms=100),
        ]
    )
    return run(amp, x, sr)


def bass_rig(x: np.ndarray, sr: int, grit_db: float, mic_pan: float) -> np.ndarray:
    """DI in the centre plus an amp mic off to one side (its sound arrives 2 ms after the
    DI's, from two feet away), in a small room."""
    di = run(
        pb.Pedalboard([pb.Compressor(threshold_db=-20, ratio=4, attack_ms=10, release_ms=150)]),
        x,
        sr,
    )
    mic = run(
        pb.Pedalboard(
            [
                pb.Distortion(drive_db=grit_db),
                pb.PeakFilter(cutoff_frequency_hz=110, gain_db=3, q=0.8),
                pb.LowpassFilter(cutoff_frequency_hz=2200),
            ]
        ),
        x,
        sr,
    )
    lag = round(0.002 * sr)
    mic = staged(
        np.pad(mic, ((0, 0), (lag, 0)))[:, : mic.shape[1]], float(np.max(np.abs(di))) * 0.8
    )
    return room(pan(di, 0.0) + pan(mic, mic_pan), sr, size=0.2, wet=0.12, width=0.9)


# Drums ----------------------------------------------------------------------------------------


def drum_kit(
    played: dict[str, np.ndarray], sr: int, hats_pan: float, room_size: float
) -> np.ndarray:
    """Close mics on kick, snare and hats; toms and cymbals in the kit's own stereo image;
    overheads above 500 Hz, widened; the whole kit into a room and a bus compressor."""
    kick = run(
        pb.Pedalboard(
            [
                pb.LowShelfFilter(cutoff_frequency_hz=60, gain_db=3),
                pb.PeakFilter(cutoff_frequency_hz=400, gain_db=-4, q=1.0),
                pb.PeakFilter(cutoff_frequency_hz=4000, gain_db=3, q=1.0),
            ]
        ),
        mono(played["drums-kick"]),
        sr,
    )
    snare = run(
        pb.Pedalboard(
            [
                pb.HighpassFilter(cutoff_frequency_hz=80),
                pb.PeakFilter(cutoff_frequency_hz=200, gain_db=2, q=1.0),
                pb.HighShelfFilter(cutoff_frequency_hz=6000, gain_db=3),
            ]
        ),
        mono(played["drums-snare"]),
        sr,
    )
    # The kit's hi-hat samples are brighter than a miked hat; a shelf brings their air to where
    # a mix's cymbals usually sit (about -20 to -35 dB of the total above 16 kHz).
    hats = run(
        pb.Pedalboard(
            [
                pb.HighpassFilter(cutoff_frequency_hz=300),
                pb.HighShelfFilter(cutoff_frequency_hz=10000, gain_db=-8),
            ]
        ),
        mono(played["drums-hats"]),
        sr,
    )
    over = run(
        pb.Pedalboard(
            [
                pb.HighpassFilter(cutoff_frequency_hz=500),
                pb.HighShelfFilter(cutoff_frequency_hz=11000, gain_db=-4),
            ]
        ),
        played["drums-overheads"],
        sr,
    )
    mid, side = over.mean(axis=0), (over[0] - over[1]) / 2
    over = np.stack([mid + 1.4 * side, mid - 1.4 * side]).astype(np.float32)
    kit = (
        pan(kick, 0.0)
        + pan(snare, 0.05)
        + 0.5 * pan(hats, hats_pan)
        + played["drums-toms"]
        + played["drums-cymbals"]
        + 0.6 * over
    )
    kit = room(kit, sr, size=room_size, wet=0.12)
    bus = pb.Pedalboard([pb.Compressor(threshold_db=-16, ratio=3, attack_ms=8, release_ms=120)])
    return run(bus, kit, sr)


# Songs ----------------------------------------------------------------------------------------


def produce_a(played: dict[str, np.ndarray], sr: int, bpm: float) -> dict[str, np.ndarray]:
    """Song A's stems, before their faders."""
    guitar = clean_bright_amp(staged(mono(played["guitar"])), sr, bpm)
    bass = bass_rig(staged(mono(played["bass"])), sr, grit_db=4, mic_pan=0.3)
    keys = run(
        pb.Pedalboard(
            [
                pb.Compressor(threshold_db=-20, ratio=3, attack_ms=10, release_ms=200),
                pb.HighpassFilter(cutoff_frequency_hz=100),
            ]
        ),
        staged(mono(played["keys"])),
        sr,
    )
    keys = room(auto_pan(pan(keys, 0.0), sr, hz=bpm / 120, depth=0.5), sr, size=0.6, wet=0.22)
    drums = drum_kit(played, sr, hats_pan=0.4, room_size=0.35)
    return {"guitar": guitar, "bass": bass, "drums": drums, "keys": keys}


def produce_b(played: dict[str, np.ndarray], sr: int, bpm: float) -> dict[str, np.ndarray]:
    """Song B's stems, before their faders."""
    takes = []
    # Two takes, two slightly different amps and mics, hard left and hard right.
    for side, drive, mid, cab, where in (
        ("left", 24, 720, 4300, -0.85),
        ("right", 21, 820, 4800, 0.85),
    ):
        dry = staged(mono(played[f"guitar-{side}-muted"]) + mono(played[f"guitar-{side}-open"]))
        takes.append(pan(crunch_amp(dry, sr, drive, mid, cab), where))
    guitar = room(takes[0] + takes[1], sr, size=0.25, wet=0.08)
    bass = bass_rig(staged(mono(played["bass"])), sr, grit_db=12, mic_pan=-0.3)
    organ = run(
        pb.Pedalboard(
            [
                pb.Distortion(drive_db=6),
                pb.LowpassFilter(cutoff_frequency_hz=7000),
            ]
        ),
        staged(mono(played["keys"])),
        sr,
    )
    rotor = stereo_chorus(organ, sr, (5.8, 6.4), (3.0, 4.5), 0.15, 0.45)
    keys = room(auto_pan(rotor, sr, hz=6.1, depth=0.3), sr, size=0.35, wet=0.12)
    drums = drum_kit(played, sr, hats_pan=-0.35, room_size=0.3)
    return {"guitar": guitar, "bass": bass, "drums": drums, "keys": keys}


# Per song: stem faders (dB), then in the mix: extra level (dB), balance, and the mix bus.
FADERS = {
    "song-a": {"guitar": -2.0, "bass": -3.0, "drums": 0.0, "keys": -6.0},
    "song-b": {"guitar": 0.0, "bass": -3.0, "drums": -1.0, "keys": -7.0},
}
MIX_MOVES = {
    "song-a": {
        "guitar": (0.0, -0.3),
        "bass": (0.0, 0.0),
        "drums": (1.0, 0.0),
        "keys": (-1.5, 0.35),
    },
    "song-b": {
        "guitar": (1.0, -0.15),
        "bass": (1.0, 0.0),
        "drums": (1.5, 0.1),
        "keys": (0.0, 0.45),
    },
}
MIX_BUS = {
    "song-a": pb.Pedalboard(
        [
            pb.Compressor(threshold_db=-12, ratio=2, attack_ms=20, release_ms=150),
            pb.LowShelfFilter(cutoff_frequency_hz=90, gain_db=1.5),
            pb.PeakFilter(cutoff_frequency_hz=300, gain_db=-1.5, q=1.0),
            pb.HighShelfFilter(cutoff_frequency_hz=9000, gain_db=2),
            pb.Limiter(threshold_db=-2, release_ms=100),
        ]
    ),
    "song-b": pb.Pedalboard(
        [
            pb.Compressor(threshold_db=-14, ratio=3, attack_ms=15, release_ms=120),
            pb.LowShelfFilter(cutoff_frequency_hz=110, gain_db=1),
            pb.PeakFilter(cutoff_frequency_hz=2500, gain_db=1.5, q=0.8),
            pb.HighShelfFilter(cutoff_frequency_hz=10000, gain_db=1.5),
            pb.Limiter(threshold_db=-3, release_ms=60),
        ]
    ),
}


def print_stems(slug: str, stems: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The stems at their fader levels, all scaled by one gain so the loudest peaks at -1 dBFS."""
    out = {name: x * db(FADERS[slug][name]) for name, x in stems.items()}
    top = max(float(np.max(np.abs(x))) for x in out.values())
    return {name: (x * (db(MIX_PEAK_DBFS) / top)).astype(np.float32) for name, x in out.items()}


def mix(slug: str, stems: dict[str, np.ndarray], sr: int) -> np.ndarray:
    """The full mix: stems re-levelled and balanced, then the mix bus, peaking at -1 dBFS."""
    bus = sum(
        balance(x * db(MIX_MOVES[slug][n][0]), MIX_MOVES[slug][n][1]) for n, x in stems.items()
    )
    bus = staged(np.asarray(bus, dtype=np.float32), db(-3.0))
    return staged(run(MIX_BUS[slug], bus, sr), db(MIX_PEAK_DBFS))


def excerpt(x: np.ndarray, start: int, n: int, sr: int) -> np.ndarray:
    """Samples [start, start + n) with short fades at both edges."""
    cut = x[:, start : start + n].copy()
    fade = np.linspace(0.0, 1.0, int(FADE_S * sr), dtype=np.float32)
    cut[:, : fade.size] *= fade
    cut[:, -fade.size :] *= fade[::-1]
    return cut


def di_signal(played: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A DI recording: mono, peaking at -6 dBFS, over an interface's hiss and a little mains hum."""
    x = staged(mono(played), db(-6.0))[0].astype(np.float64)
    t = np.arange(x.size) / sr
    hum = sum(db(-84 - 6 * k) * np.sin(2 * np.pi * 50 * (k + 1) * t) for k in range(3))
    hiss = db(-86) * rng.standard_normal(x.size)
    return (x + hum + hiss).astype(np.float32)[None, :]
