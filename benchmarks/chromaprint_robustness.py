"""Why the audit hashes landmarks of its own: what Chromaprint survives, and what it does not.

For catalogue excerpts changed the ways a user's file or the app changes them (gain, EQ, MP3,
the app's tempo and pitch changes), the bit error rate between Chromaprint's raw fingerprint of
the original and of the changed excerpt (best alignment), beside the rate between two different
songs. Chromaprint calls fingerprints the same recording below roughly 0.35 (AcoustID's
threshold); unrelated audio sits near 0.5. Beside it, whether the app's landmark index
(``attribution/landmarks.py``) finds the same changed excerpt.

    python benchmarks/chromaprint_robustness.py --data-dir DEMO [--songs 20]

Needs ``fpcalc`` (Debian: libchromaprint-tools).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicapp.attribution import landmarks as lm  # noqa: E402
from musicapp.audio.stretch import time_stretch  # noqa: E402
from musicapp.audio.tone import apply_fir, eq_filter  # noqa: E402
from musicapp.catalog.store import CatalogStore  # noqa: E402

SR = 44_100
EXCERPT_S = 20.0
SAME_BELOW = 0.35


def fingerprint(audio: np.ndarray, folder: Path, name: str) -> np.ndarray:
    path = folder / f"{name}.wav"
    sf.write(path, audio.T, SR, subtype="PCM_16")
    # fpcalc 1.5.1 exits 3 after printing the fingerprint when FFmpeg reports the end of file
    # as a decoding error; the fingerprint it printed is complete.
    out = subprocess.run(["fpcalc", "-raw", "-json", str(path)], capture_output=True, text=True)
    if not out.stdout.strip():
        raise RuntimeError(f"fpcalc failed on {path}: {out.stderr.strip()}")
    return np.array(json.loads(out.stdout)["fingerprint"], dtype=np.uint32)


def bit_error(a: np.ndarray, b: np.ndarray, max_shift: int = 40) -> float:
    """The lowest fraction of differing bits over alignments of b against a."""
    best = 1.0
    for shift in range(-max_shift, max_shift + 1):
        x, y = (a[shift:], b) if shift >= 0 else (a, b[-shift:])
        n = min(len(x), len(y))
        if n < 20:
            continue
        diff = np.unpackbits((x[:n] ^ y[:n]).view(np.uint8)).mean()
        best = min(best, float(diff))
    return best


def mp3_round_trip(audio: np.ndarray, folder: Path) -> np.ndarray:
    import lameenc

    enc = lameenc.Encoder()
    enc.set_bit_rate(96)
    enc.set_in_sample_rate(SR)
    enc.set_out_sample_rate(SR)  # else LAME resamples to 32 kHz at this rate
    enc.set_channels(2)
    enc.set_quality(5)
    pcm = (np.clip(audio.T, -1, 1) * 32767).astype("<i2").tobytes()
    path = folder / "x.mp3"
    path.write_bytes(enc.encode(pcm) + enc.flush())
    y, _ = sf.read(path, dtype="float32", always_2d=True)
    return y.T[:, : audio.shape[1]]


def changes(folder: Path) -> dict[str, object]:
    tilt = eq_filter(np.array([100.0, 1000.0, 8000.0]), np.array([6.0, 0.0, -9.0]), SR)
    return {
        "gain -12 dB": lambda x: x * 10 ** (-12 / 20),
        "EQ tilt (+6 dB lows, -9 dB highs)": lambda x: apply_fir(x, tilt),
        "MP3 96 kbit/s": lambda x: mp3_round_trip(x, folder),
        "tempo +5 %": lambda x: time_stretch(x, int(x.shape[1] / 1.05)),
        "tempo -20 %": lambda x: time_stretch(x, int(x.shape[1] / 0.8)),
        "pitch +1 semitone": lambda x: time_stretch(x, x.shape[1], 1),
        "pitch -4 semitones": lambda x: time_stretch(x, x.shape[1], -4),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, required=True, help="an app data folder")
    ap.add_argument("--songs", type=int, default=20)
    args = ap.parse_args(argv)
    if shutil.which("fpcalc") is None:
        print("fpcalc not found (Debian: apt install libchromaprint-tools)")
        return 2
    store = CatalogStore(args.data_dir / "catalog.sqlite", args.data_dir / "audio")
    ids = [s for s in store.song_ids() if store.song(s).duration_s >= EXCERPT_S + 2][: args.songs]  # type: ignore[union-attr]
    audio = {s: store.load_audio(s)[:, SR : SR + int(EXCERPT_S * SR)] for s in ids}
    index = lm.FingerprintIndex.build(
        [(i, lm.item_hashes(audio[s], SR)) for i, s in enumerate(ids)]
    )
    rows: dict[str, list[tuple[float, bool]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prints = {s: fingerprint(audio[s], folder, "orig") for s in ids}
        unrelated = [bit_error(prints[a], prints[b]) for a, b in zip(ids, ids[1:], strict=False)]
        for name, change in changes(folder).items():
            for i, s in enumerate(ids):
                changed = change(audio[s])  # type: ignore[operator]
                ber = bit_error(prints[s], fingerprint(changed, folder, "changed"))
                clusters = index.query(lm.peaks(changed, SR))
                ours = bool(clusters) and max(clusters, key=lambda c: c.votes).item == i
                rows.setdefault(name, []).append((ber, ours))
    print(f"Chromaprint vs the audit's landmarks, {len(ids)} excerpts of {EXCERPT_S:g} s")
    print(f"{'change':<36} {'BER mean':>9} {'Chromaprint same':>17} {'landmarks found':>16}")
    for name, got in rows.items():
        bers = np.array([b for b, _ in got])
        same = float(np.mean(bers < SAME_BELOW))
        found = float(np.mean([o for _, o in got]))
        print(f"{name:<36} {bers.mean():>9.3f} {same:>16.0%} {found:>15.0%}")
    print(f"{'two different songs':<36} {np.mean(unrelated):>9.3f} "
          f"{float(np.mean(np.array(unrelated) < SAME_BELOW)):>16.0%}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
