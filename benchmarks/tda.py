"""Validates training-data attribution against retraining (issue 18, docs/tda.md).

Run: .venv/bin/python benchmarks/tda.py [--quick] [--json PATH] [--tunes 48] [--subsets 24]
     [--samples 10] [--epochs 30] [--ensemble 3]

A small composer (2 layers, d_model 64, context 128: each training a few seconds to a minute
here) is trained on N O'Neill's 1850 tunes (music21's corpus, read by symusic from their ABC,
tokenised by the composer's REMI tokenizer), G samples are generated from it, and M models are
retrained from the same seed schedule on random halves of the tunes. The ground truth for a
sample is counterfactual: each tune's leave-out effect (the sample's mean loss under the
models trained without the tune minus with it) and, for the LDS, the sample's loss under each
half's model. Each method scores every tune from the full model alone: TRAK (an ensemble of
``--ensemble`` full models from different seeds), unlearning (its step size and step count
picked by the grid search's consistency criterion, which sees no ground truth; every grid
setting's figures are printed too), embedding and n-gram similarity, and random. Reported per
method: the mean over samples of Spearman against the leave-out effect and of the LDS, each
with a 95 % bootstrap interval over samples; and the ground truth's own split-half
reliability (how far retraining noise lets any method agree with it). ``--quick`` is a smoke
run with everything small.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from musicapp.attribution.tda import metrics
from musicapp.attribution.tda.common import generated_windows, window_losses
from musicapp.attribution.tda.similarity import embedding_scores, ngram_scores, random_scores
from musicapp.attribution.tda.trak import TrakIndex
from musicapp.attribution.tda.unlearning import LRS, STEPS, UnlearningIndex, grid_search

SEED = 18
METHODS = ("trak", "unlearning", "embedding", "ngram", "random")
# TRAK's relative ridge, looked at after the fact; 1e6 is the kernel left out in effect (the
# plain inner product of projected gradients, TracIn-like).
REGS = (0.001, 0.01, 0.1, 1.0, 10.0, 1e6)


def draw_tunes(n: int, seed: int, length: int) -> list[tuple[str, list[int]]]:
    """``n`` O'Neill's tunes, drawn seeded, as (id, token ids) cut to their first ``length``
    tokens: every tune the same number of windows, so every half-subset trains the same
    number of steps and a tune's leave-out effect is its content, not the schedule's length.
    One that symusic cannot read or that is shorter is skipped (symusic's parser notes on
    stdout and stderr are silenced)."""
    import symusic
    from music21 import corpus

    from musicapp.generation.composer import tokens

    first = Path(corpus.getCorePaths()[0])
    root = next(p for p in first.parents if p.name == "corpus")
    tunes: list[tuple[str, str]] = []
    for path in sorted((root / "oneills1850").glob("[0-9]*-*.abc")):
        text = path.read_text("latin-1")
        for chunk in re.split(r"\n(?=X:)", text):
            m = re.match(r"X:\s*(\d+)", chunk)
            if m:
                tunes.append((f"oneills-{path.stem}-{int(m.group(1))}", chunk))
    random.Random(seed).shuffle(tunes)
    out: dict[str, list[int]] = {}
    sys.stdout.flush()
    saved = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    try:
        for tune_id, abc in tunes:
            try:
                ids = tokens.encode(symusic.Score.from_abc(abc))
            except Exception:  # noqa: BLE001, S112 - a tune symusic cannot read is skipped
                continue
            if len(ids) >= length and tune_id not in out:
                out[tune_id] = ids[:length]
            if len(out) == n:
                return list(out.items())
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(null)
    raise SystemExit(f"only {len(out)} usable tunes, {n} asked for")


def halves(n_subsets: int, n_items: int, seed: int) -> np.ndarray:
    """Subsets as a boolean mask, each exactly half the items, drawn seeded."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((n_subsets, n_items), dtype=bool)
    for m in range(n_subsets):
        mask[m, rng.permutation(n_items)[: n_items // 2]] = True
    return mask


def sample_loss(model: Any, sample: list[int]) -> float:
    return float(window_losses(model, generated_windows(model, sample)).mean())


def split_half_reliability(mask: np.ndarray, losses: np.ndarray, seed: int) -> float:
    """Spearman between the leave-out effects from two disjoint halves of the subsets: the
    most any method can hope to agree with a ground truth this noisy."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(mask))
    a, b = order[: len(order) // 2], order[len(order) // 2 :]
    ea, eb = (
        metrics.leave_out_effect(mask[a], losses[a]),
        metrics.leave_out_effect(mask[b], losses[b]),
    )
    ok = np.isfinite(ea) & np.isfinite(eb)
    return metrics.spearman(ea[ok], eb[ok])


def summarise(per_sample: list[float]) -> dict[str, float]:
    mean, lo, hi = metrics.bootstrap_ci(per_sample, seed=SEED)
    return {"mean": mean, "low": lo, "high": hi}


def run(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from musicapp.generation.composer import tokens
    from musicapp.generation.composer.model import ComposerConfig, generate
    from musicapp.generation.composer.train import TrainSpec, train_model, windows

    torch.set_num_threads(args.threads)
    times: dict[str, float] = {}
    t = time.monotonic()
    tunes = draw_tunes(args.tunes, args.seed, args.tokens)
    seqs = [ids for _, ids in tunes]
    config = ComposerConfig(vocab=tokens.VOCAB_SIZE, d_model=64, n_layers=2, n_heads=2,
                            context=128, dropout=0.1)  # fmt: skip
    spec = TrainSpec(epochs=args.epochs, batch=16, lr=1e-3, seed=args.seed)
    items = [(tid, windows([ids], config.context)) for tid, ids in tunes]
    times["data_s"] = time.monotonic() - t

    t = time.monotonic()
    full = train_model(seqs, config, spec)
    times["train_full_s"] = time.monotonic() - t
    bos, eos = tokens.bos_id(), tokens.eos_id()
    samples: list[list[int]] = []
    s = 0
    while len(samples) < args.samples:
        ids = generate(full, [bos], config.context - 1, temperature=1.0, seed=1000 + s, stop=eos)
        s += 1
        if len(ids) >= 32:
            samples.append(ids)

    mask = halves(args.subsets, len(tunes), args.seed)
    losses = np.zeros((args.subsets, len(samples)))
    key = json.dumps([[tid for tid, _ in tunes], config.to_dict(), spec.to_dict(), samples])
    cache = args.cache / f"losses-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    done: dict[str, list[float]] = json.loads(cache.read_text()) if cache.exists() else {}
    t = time.monotonic()
    for m in range(args.subsets):
        row = "".join("1" if b else "0" for b in mask[m])
        if row in done:  # this very subset retrained by an earlier run with the same inputs
            losses[m] = done[row]
            continue
        model = train_model([seqs[i] for i in np.flatnonzero(mask[m])], config, spec)
        losses[m] = [sample_loss(model, smp) for smp in samples]
        done[row] = losses[m].tolist()
        args.cache.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(done))
        print(f"  subset {m + 1}/{args.subsets}: sample losses {np.round(losses[m], 3)}",
              file=sys.stderr, flush=True)  # fmt: skip
    times["retrain_s"] = time.monotonic() - t
    times["retrain_each_s"] = times["retrain_s"] / args.subsets
    truth = [metrics.leave_out_effect(mask, losses[:, g]) for g in range(len(samples))]

    scores: dict[str, list[np.ndarray]] = {}
    t = time.monotonic()
    ensemble = [full] + [
        train_model(
            seqs, config, TrainSpec(epochs=args.epochs, batch=16, lr=1e-3, seed=args.seed + j)
        )
        for j in range(1, args.ensemble)
    ]
    index = TrakIndex(ensemble, items, dim=args.dim, reg=args.reg, seed=args.seed, batch=32)
    scores["trak"] = [index.scores(smp) for smp in samples]
    times["trak_s"] = time.monotonic() - t
    # How much the ridge matters (an oracle view: the headline keeps --reg, fixed beforehand).
    reg_rows = {reg: [index.with_reg(reg).scores(smp) for smp in samples] for reg in REGS}

    t = time.monotonic()
    unlearn = UnlearningIndex(full, items)
    lrs, steps = (LRS[1:3], STEPS[:2]) if args.quick else (LRS[1:], STEPS[:3])
    chosen, grid, per_setting = grid_search(unlearn, samples, lrs, steps)
    scores["unlearning"] = per_setting[chosen]
    times["unlearning_grid_s"] = time.monotonic() - t

    t = time.monotonic()
    scores["embedding"] = [embedding_scores(full, items, smp) for smp in samples]
    scores["ngram"] = [ngram_scores(items, smp) for smp in samples]
    scores["random"] = [random_scores(len(items), args.seed + g) for g in range(len(samples))]
    times["similarity_s"] = time.monotonic() - t

    def evaluate(per_sample: list[np.ndarray]) -> dict[str, Any]:
        rho = [metrics.spearman_vs_truth(sc, tr) for sc, tr in zip(per_sample, truth, strict=True)]
        ld = [metrics.lds(sc, mask, losses[:, g]) for g, sc in enumerate(per_sample)]
        return {"spearman": summarise(rho), "lds": summarise(ld),
                "per_sample_spearman": rho, "per_sample_lds": ld}  # fmt: skip

    results = {name: evaluate(scores[name]) for name in METHODS}
    grid_rows = [
        {
            "lr": r.setting.lr,
            "steps": r.setting.steps,
            "sample_rise": r.sample_rise,
            "train_rise": r.train_rise,
            "consistency": r.consistency,
            "took": r.took,
            "chosen": r.setting == chosen,
            "spearman": evaluate(per_setting[r.setting])["spearman"]["mean"],
        }  # fmt: skip
        for r in grid
    ]
    trak_regs = [{"reg": reg, "spearman": evaluate(sc)["spearman"], "lds": evaluate(sc)["lds"]}
                 for reg, sc in reg_rows.items()]  # fmt: skip
    reliability = [
        split_half_reliability(mask, losses[:, g], args.seed + g) for g in range(len(samples))
    ]
    return {
        "settings": {k: v for k, v in vars(args).items() if k not in ("json", "cache")},
        "model": {
            "config": config.to_dict(),
            "parameters": full.parameter_count(),
            "train": spec.to_dict(),
        },  # fmt: skip
        "tunes": [tid for tid, _ in tunes],
        "windows": sum(len(w) for _, w in items),
        "sample_lengths": [len(smp) for smp in samples],
        "loss_spread": {
            "mean_std_over_subsets": float(losses.std(0).mean()),
            "mean_loss": float(losses.mean()),
        },  # fmt: skip
        "ground_truth_reliability": summarise(reliability),
        "unlearning_chosen": {"lr": chosen.lr, "steps": chosen.steps},
        "unlearning_grid": grid_rows,
        "trak_regs": trak_regs,
        "methods": results,
        "times": times,
    }


def table(out: dict[str, Any]) -> str:
    lines = [
        f"{out['settings']['tunes']} tunes ({out['windows']} windows), "
        f"{out['settings']['subsets']} half-subsets, {len(out['sample_lengths'])} samples; "
        f"model {out['model']['parameters']:,} parameters",
        "",
        "| method | Spearman vs leave-out (95 % CI) | LDS (95 % CI) |",
        "|---|---|---|",
    ]
    for name, r in out["methods"].items():
        sp, ld = r["spearman"], r["lds"]
        label = name
        if name == "unlearning":
            c = out["unlearning_chosen"]
            label = f"unlearning (lr {c['lr']:g}, {c['steps']} steps)"
        lines.append(f"| {label} | {sp['mean']:+.3f} [{sp['low']:+.3f}, {sp['high']:+.3f}] "
                     f"| {ld['mean']:+.3f} [{ld['low']:+.3f}, {ld['high']:+.3f}] |")  # fmt: skip
    gt = out["ground_truth_reliability"]
    lines += ["", f"ground truth split-half reliability (Spearman): {gt['mean']:+.3f} "
              f"[{gt['low']:+.3f}, {gt['high']:+.3f}]", "",
              "| unlearning lr | steps | sample loss rise | training loss rise | consistency | took | Spearman (oracle view) |",
              "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in out["unlearning_grid"]:
        mark = " (chosen)" if r["chosen"] else ""
        lines.append(f"| {r['lr']:g}{mark} | {r['steps']} | {r['sample_rise']:+.3f} | "
                     f"{r['train_rise']:+.3f} | {r['consistency']:.3f} | {r['took']} | "
                     f"{r['spearman']:+.3f} |")  # fmt: skip
    lines += [
        "",
        "| TRAK relative ridge | Spearman (oracle view) | LDS (oracle view) |",
        "|---|---|---|",
    ]
    for r in out["trak_regs"]:
        label = "1e6 (no kernel: gradient inner product)" if r["reg"] >= 1e5 else f"{r['reg']:g}"
        lines.append(f"| {label} | {r['spearman']['mean']:+.3f} | {r['lds']['mean']:+.3f} |")
    lines += ["", "times: " + ", ".join(f"{k} {v:.1f}" for k, v in out["times"].items())]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smoke run: everything small")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument("--tunes", type=int, default=40)
    ap.add_argument("--subsets", type=int, default=20)
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--ensemble", type=int, default=2, help="TRAK's models (seeds)")
    ap.add_argument("--dim", type=int, default=1024, help="TRAK's projection dimension")
    ap.add_argument("--reg", type=float, default=0.01, help="TRAK's relative ridge")
    ap.add_argument("--tokens", type=int, default=640, help="every tune's first N tokens")
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path("build/tda-cache"),
        help="retrained subsets' losses, reused by a rerun with the same inputs",
    )
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if args.quick:
        args.tunes, args.subsets, args.samples = 12, 6, 3
        args.epochs, args.ensemble, args.dim = 3, 1, 256
    if args.subsets < 2 or args.tunes < 4 or args.samples < 1:
        ap.error("--subsets needs 2 or more, --tunes 4 or more, --samples 1 or more")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.monotonic()
    out = run(args)
    out["times"]["total_s"] = time.monotonic() - started
    print(table(out))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
