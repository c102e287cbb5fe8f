"""Stem separation: the chunked Demucs wrapper against a bare `demucs.apply.apply_model` call.

Uses a tiny randomly initialised HTDemucs (real HTDemucs code, ~350 k parameters, saved in
demucs' repo layout and loaded through musicapp's loader): the real weights are not in the
repository. Each measurement runs in its own subprocess so its peak RSS (getrusage) is its own;
"growth" is the peak minus the RSS after imports and model loading.

Goals: wrapper time <= 1.05 x bare apply_model on the same input; peak memory flat between a
3-minute and a 30-minute input (bare apply_model holds the whole track and its stems in RAM, so
it is measured at 3 minutes only).
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RATE = 44100
SHORT_S, LONG_S = 180, 1800


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return _rss_mb()


def write_noise(path: Path, seconds: int) -> Path:
    """A stereo WAV of quiet noise, written block by block (the parent stays small)."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", RATE, 2, subtype="PCM_16") as f:
        for _ in range(0, seconds, 60):
            f.write((rng.standard_normal((60 * RATE, 2)) * 0.1).astype(np.float32))
    return path


def child(mode: str, wav: Path, models_dir: Path, out_dir: Path) -> dict[str, float]:
    """One measurement in this process: mode is "wrapper" or "bare"."""
    import torch

    from musicapp.jobs import CancelToken, no_progress
    from musicapp.stems.demucs_repo import load_demucs
    from musicapp.stems.separate import SeparationOptions, separate_to_dir
    from musicapp.stems.streaming import FileSource
    from musicapp.weights import load_manifest

    torch.set_num_threads(2)
    entries = load_manifest(models_dir / "manifest.toml")
    model = load_demucs("htdemucs", models_dir, entries)
    base = _current_rss_mb()
    started = time.perf_counter()
    if mode == "wrapper":
        separate_to_dir(
            model, FileSource(wav), out_dir, SeparationOptions(), no_progress, CancelToken()
        )
    else:
        import soundfile as sf
        from demucs.apply import apply_model

        audio, _ = sf.read(str(wav), dtype="float32", always_2d=True)
        mix = torch.from_numpy(np.ascontiguousarray(audio.T))[None]
        apply_model(model, mix, shifts=0, split=True, overlap=0.25, device="cpu")
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "peak_mb": _rss_mb(), "base_mb": base}


def _measure(mode: str, wav: Path, models_dir: Path, out_dir: Path) -> dict[str, float]:
    out_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, __file__, "--child", mode, str(wav), str(models_dir), str(out_dir)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _tiny_repo(root: Path) -> Path:
    from musicapp.stems.demucs_repo import repo_dir, save_repo_model, tiny_htdemucs
    from musicapp.weights import sha256_file

    models = root / "models"
    files = save_repo_model(tiny_htdemucs(), repo_dir(models), "htdemucs")
    rows = ", ".join(f'{{ path = "demucs/{p.name}", sha256 = "{sha256_file(p)}" }}' for p in files)
    (models / "manifest.toml").write_text(
        f'[[model]]\nname = "htdemucs"\nsource = "benchmark"\nfiles = [{rows}]\n'
    )
    return models


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    """Fastest time (other work on the machine only slows runs down) and largest growth."""
    return {
        "seconds": min(r["seconds"] for r in runs),
        "growth_mb": max(r["peak_mb"] - r["base_mb"] for r in runs),
    }


def lines(repeats: int = 2) -> list[str]:
    """Table rows: speed against bare apply_model, peak RSS growth for 3 and 30 minutes."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models = _tiny_repo(root)
        short = write_noise(root / "short.wav", SHORT_S)
        runs: dict[str, list[dict[str, float]]] = {"bare": [], "wrapper": []}
        for i in range(repeats):  # interleaved, so drifting machine load hits both alike
            for mode in runs:
                runs[mode].append(_measure(mode, short, models, root / f"{mode}{i}"))
                shutil.rmtree(root / f"{mode}{i}")
        long = write_noise(root / "long.wav", LONG_S)
        wrap_long = _best([_measure("wrapper", long, models, root / "long")])
    bare, wrap = _best(runs["bare"]), _best(runs["wrapper"])
    ratio = wrap["seconds"] / bare["seconds"]
    flat = wrap_long["growth_mb"] / max(wrap["growth_mb"], 1e-9)
    return [
        "Stem separation (tiny random HTDemucs ~350k params, CPU, 2 threads; not real weights;"
        f" best of {repeats} interleaved runs)",
        f"{'measure':46} {'value':>12} {'goal':>10}",
        f"{'bare apply_model, 3 min':46} {bare['seconds']:>10.1f} s {'':>10}",
        f"{'wrapper (chunked, FLAC out), 3 min':46} {wrap['seconds']:>10.1f} s {'':>10}",
        f"{'wrapper / bare':46} {ratio:>11.2f}x {'<= 1.05x':>10}",
        f"{'peak RSS growth, bare apply_model, 3 min':46} {bare['growth_mb']:>9.0f} MB {'':>10}",
        f"{'peak RSS growth, wrapper, 3 min':46} {wrap['growth_mb']:>9.0f} MB {'':>10}",
        f"{'peak RSS growth, wrapper, 30 min':46} {wrap_long['growth_mb']:>9.0f} MB {'flat':>10}",
        f"{'30 min / 3 min growth':46} {flat:>11.2f}x {'~1.0x':>10}",
        f"{'wrapper, 30 min (time)':46} {wrap_long['seconds']:>10.1f} s {'':>10}",
    ]


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, wav, models_dir, out_dir = sys.argv[2:6]
        print(json.dumps(child(mode, Path(wav), Path(models_dir), Path(out_dir))))
    else:
        print("\n".join(lines()))
