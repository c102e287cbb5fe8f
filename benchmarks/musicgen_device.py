"""Time 10 s of MusicGen-melody on each requested device: load, generate, real-time factor.

    python benchmarks/musicgen_device.py --models-dir ~/.local/share/musicapp/models [--device auto]

Without the weights in <models-dir>/musicgen-melody it says which file is missing and exits 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from musicapp.core import GenerationRequest, InvalidInput, Level, Reference, Role
from musicapp.generation.base import Conditioning
from musicapp.jobs import CancelToken
from musicapp.testing.synth import SR, synth_material


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument(
        "--device", action="append", help="auto, cuda, mps or cpu (repeat to compare)"
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)

    from musicapp.generation.musicgen import MusicGenMelodyEngine, check_weights, clear_cache

    try:
        model_id = check_weights(args.models_dir)
    except InvalidInput as exc:
        print(f"weights missing or refused, nothing to time: {exc}", file=sys.stderr)
        return 2
    from musicapp.generation.device import choose_device, describe_device

    refs = (
        Reference("a", Level.PARAMETER, Role.MELODY, weight=0.7),
        Reference("b", Level.PARAMETER, Role.MOOD, weight=0.3),
    )
    cond = Conditioning(
        [synth_material(i, r, seed=i + 1, duration_s=15.0) for i, r in enumerate(refs)], SR
    )
    request = GenerationRequest(refs, duration_s=args.seconds, engine="musicgen-melody")
    rows = []
    for pref in args.device or ["auto"]:
        try:
            device = choose_device(pref)
        except InvalidInput as exc:
            rows.append((pref, str(exc), "", "", ""))
            continue
        clear_cache()
        engine = MusicGenMelodyEngine(args.models_dir, device)
        t0 = time.perf_counter()
        from musicapp.generation.musicgen import load_model

        load_model(args.models_dir, device)
        t1 = time.perf_counter()
        engine.generate(request, cond, lambda p: None, CancelToken())  # warm-up + measured run
        t2 = time.perf_counter()
        engine.generate(request, cond, lambda p: None, CancelToken())
        t3 = time.perf_counter()
        rows.append(
            (
                describe_device(device),
                f"{t1 - t0:.1f}",
                f"{t2 - t1:.1f}",
                f"{t3 - t2:.1f}",
                f"{(t3 - t2) / args.seconds:.2f}",
            )
        )
    print(f"model {model_id}, {args.seconds:g} s of audio")
    header = ("device", "load s", "first gen s", "warm gen s", "s per audio s")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(5)]
    for row in (header, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
