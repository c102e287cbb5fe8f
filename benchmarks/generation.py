"""Times the concat engine: 30 s from 3 references of 3 minutes, cold and with cached analysis.

Run: .venv/bin/python benchmarks/generation.py [--catalog DIR]
Without --catalog the references are synthetic songs (musicapp/testing/synth.py); with it, demo
songs from DIR/catalog.sqlite and DIR/audio, looped to 3 minutes. Prints a table of figures against
their goals and against a baseline measured in the same run (decoding the references' FLAC files,
the floor any engine pays before it makes a sound), then the objective conditioning checks.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from musicapp.audio.cache import CACHE
from musicapp.core import GenerationRequest, Level, Reference, Role, TimeRange
from musicapp.generation.base import Conditioning, Material
from musicapp.generation.concat import ConcatEngine
from musicapp.jobs import CancelToken, no_progress
from musicapp.testing.contrast import contrast_material
from musicapp.testing.similarity import parameter_level_checks
from musicapp.testing.synth import SR, synth_material

REF_S = 180.0
OUT_S = 30.0
COLD_GOAL_S, WARM_GOAL_S = 10.0, 3.0
DEMO_IDS = ("bach-bwv269", "oneills-1183", "ryans-soldiers-joy")


def timed(func):
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def _tile(audio: np.ndarray, n: int) -> np.ndarray:
    return np.tile(audio, (1, -(-n // audio.shape[1])))[:, :n].copy()


def synthetic_materials(refs: tuple[Reference, ...]) -> list[Material]:
    specs = [dict(bpm=120, seed=1), dict(bpm=104, root_midi=62, seed=2), dict(bpm=132, seed=3)]
    return [
        synth_material(i, ref, duration_s=REF_S, **spec)
        for i, (ref, spec) in enumerate(zip(refs, specs, strict=False))
    ]


def demo_materials(refs: tuple[Reference, ...], folder: Path) -> list[Material]:
    from musicapp.catalog.store import CatalogStore

    n = int(REF_S * SR)
    out = []
    with CatalogStore(folder / "catalog.sqlite", folder / "audio") as store:
        for i, ref in enumerate(refs):
            song = store.song(ref.song_id)
            assert song is not None, ref.song_id
            stems = {s.name: _tile(store.load_audio(song.id, stem=s.name), n) for s in song.stems}
            mix = _tile(store.load_audio(song.id), n)
            # Looped audio has no single downbeat the score knows of: let the engine find it.
            out.append(Material(i, ref, song, SR, mix, stems, song.tempo_bpm, song.beats_per_bar))
    return out


def decode_baseline(materials: list[Material], folder: Path) -> float:
    """Seconds to decode every reference's mix and stems from FLAC (written beforehand)."""
    paths = []
    for m in materials:
        for name, audio in [("mix", m.mix), *m.stems.items()]:
            path = folder / f"{m.index}-{name}.flac"
            sf.write(path, audio.T, SR, subtype="PCM_16")
            paths.append(path)
    _, secs = timed(lambda: [sf.read(p, dtype="float32") for p in paths])
    return secs


def run(engine: ConcatEngine, request: GenerationRequest, cond: Conditioning) -> float:
    _, secs = timed(lambda: engine.generate(request, cond, no_progress, CancelToken()))
    return secs


def spectrogram(path: Path, output: np.ndarray, materials: list[Material], seconds: float) -> None:
    """Mel spectrograms of a parameter-level output and of its three references, one above the
    other on one time axis (the first `seconds` of each)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from musicapp.audio.spectrum import mel_filters, power_to_db, stft

    n_fft, hop, n_mels = 2048, 512, 96
    fb = mel_filters(SR, n_fft, n_mels, 30.0, 8000.0)
    rows = [("output: melody A + timbre B + rhythm C", output)]
    for m, letter in zip(materials, "ABC", strict=True):
        role = m.reference.role.value if m.reference.role else ""
        rows.append((f"{letter} ({role}): {m.song.title}", m.mix))
    fig, axes = plt.subplots(len(rows), 1, figsize=(11, 9), sharex=True)
    for ax, (title, audio) in zip(axes, rows, strict=True):
        x = audio[:, : int(seconds * SR)].mean(axis=0)
        mel = power_to_db(fb @ np.abs(stft(x, n_fft, hop)[: fb.shape[1]]) ** 2)
        ax.imshow(
            mel, origin="lower", aspect="auto", extent=(0, len(x) / SR, 0, n_mels), cmap="magma"
        )
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_ylabel("mel band")
    axes[-1].set_xlabel("seconds")
    fig.suptitle("concat engine, parameter level (mel scale 30 Hz-8 kHz, 80 dB range)")
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", type=Path, help="a built demo catalogue folder")
    parser.add_argument("--spectrogram", type=Path, help="write a parameter-level PNG here")
    args = parser.parse_args()
    engine = ConcatEngine()
    ids = DEMO_IDS if args.catalog else ("a", "b", "c")
    song_refs = tuple(Reference(i, weight=w) for i, w in zip(ids, (0.5, 0.3, 0.2), strict=True))
    param_refs = tuple(
        Reference(i, Level.PARAMETER, role)
        for i, role in zip(ids, (Role.MELODY, Role.TIMBRE, Role.RHYTHM), strict=True)
    )
    make = (lambda r: demo_materials(r, args.catalog)) if args.catalog else synthetic_materials
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base_s = decode_baseline(make(param_refs), Path(tmp))
    for label, refs in (("song level", song_refs), ("parameter level", param_refs)):
        cond = Conditioning(make(refs), SR)
        request = GenerationRequest(refs, duration_s=OUT_S, seed=1)
        CACHE.clear()
        cold = run(engine, request, cond)
        warm = run(engine, request, cond)
        rows.append((f"{label}: 30 s from 3 x 3 min, cold", cold, COLD_GOAL_S))
        rows.append((f"{label}: same, cached analysis", warm, WARM_GOAL_S))
    # Audio level: a 30 s excerpt of another song as the user's audio, re-rendered from two.
    user = synth_material(0, Reference("user"), bpm=96, duration_s=OUT_S, root_midi=64, seed=7)
    audio_refs = tuple(
        Reference(i, Level.AUDIO, weight=w) for i, w in zip(ids, (0.7, 0.3), strict=False)
    )
    cond = Conditioning(make(audio_refs), SR, user_audio=user.mix)
    CACHE.clear()
    rows.append(
        (
            "audio level: 30 s user audio, cold",
            run(engine, GenerationRequest(audio_refs), cond),
            COLD_GOAL_S,
        )
    )
    temporal_refs = tuple(
        Reference(i, Level.TEMPORAL, time_range=TimeRange(0, REF_S), weight=w)
        for i, w in zip(ids, (0.7, 0.3), strict=False)
    )
    request = GenerationRequest(temporal_refs, user_range=TimeRange(8, 20))
    cond = Conditioning(make(temporal_refs), SR, user_audio=user.mix)
    rows.append(("temporal level: 12 s of 30 s, cached", run(engine, request, cond), WARM_GOAL_S))
    rows.append(("baseline: decode references (FLAC)", base_s, None))

    print(f"{'task':42} {'seconds':>8} {'goal s':>7} {'/goal':>6} {'/baseline':>10}")
    for name, secs, goal in rows:
        ratio = f"{secs / goal:6.2f}" if goal else "     -"
        print(f"{name:42} {secs:8.2f} {goal or 0:7.0f} {ratio} {secs / base_s:10.1f}")

    print("\nconditioning checks (margin > 0: the intended reference is the closest)")
    refs = tuple(
        Reference(i, Level.PARAMETER, r)
        for i, r in zip("ABC", (Role.MELODY, Role.TIMBRE, Role.RHYTHM), strict=True)
    )
    kinds = ("tune", "timbre", "rhythm")
    mats = [
        contrast_material(i, r, k, seed=i) for i, (r, k) in enumerate(zip(refs, kinds, strict=True))
    ]
    sets = [("synthetic A/B/C", refs, mats)]
    if args.catalog:
        sets.append(("demo " + "/".join(ids), param_refs, demo_materials(param_refs, args.catalog)))
    for label, r, m in sets:
        output, checks = parameter_level_checks(
            engine, GenerationRequest(r, duration_s=20), Conditioning(m, SR)
        )
        for c in checks:
            values = "  ".join(f"{k[:12]}={v:.3f}" for k, v in c.values.items())
            print(f"{label:28} {c.role:7} {c.measure:26} {values}  margin {c.margin:+.3f}")
    if args.spectrogram:
        spectrogram(args.spectrogram, output, m, 20.0)
        print(f"\nspectrogram of the {label} result: {args.spectrogram}")


if __name__ == "__main__":
    main()
