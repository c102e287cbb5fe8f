"""The shipped composer's training curve, from its training event (models/composer/training.json).

    python benchmarks/training_curve.py [--out docs/training/loss.png]

Reads only the shipped record (no training): the loss of every step, smoothed over an epoch's
worth of steps, with the epoch boundaries marked, and prints the run's figures as Markdown.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--training", default=str(ROOT / "models/composer/training.json"))
    parser.add_argument("--out", default=str(ROOT / "docs/training/loss.png"))
    args = parser.parse_args()
    event = json.loads(Path(args.training).read_text())
    p = event["payload"]
    losses = p["losses"]
    epochs = int(p["spec"]["epochs"])
    per_epoch = max(1, len(losses) // epochs)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    ax.plot(range(1, len(losses) + 1), losses, lw=0.8, alpha=0.45, label="loss of each step")
    k = max(1, per_epoch // 4)
    smooth = [sum(losses[max(0, i - k + 1) : i + 1]) / len(losses[max(0, i - k + 1) : i + 1])
              for i in range(len(losses))]  # fmt: skip
    ax.plot(range(1, len(losses) + 1), smooth, lw=1.6, label=f"mean of the last {k} steps")
    for e in range(1, epochs):
        ax.axvline(e * per_epoch + 0.5, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("step (batch of 16 windows of 256 tokens)")
    ax.set_ylabel("next-token NLL (nats)")
    ax.set_title(f"{p['model_id']}: {p['device']}, seed {p['seed']}")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    songs = sum(1 for i in p["items"] if i["kind"] == "song")
    pd = len(p["items"]) - songs
    tokens = sum(i["tokens"] for i in p["items"])
    first = sum(losses[:per_epoch]) / per_epoch
    print(f"| model | {p['model_id']} |")
    print(
        f"| training set | {songs} catalogue songs + {pd} public-domain tunes, {tokens:,} tokens |"
    )
    print(f"| left out | {len(p['excluded'])} catalogue songs |")
    print(f"| windows / steps | {p['windows']} / {p['steps']} ({epochs} epochs) |")
    print(f"| training time | {p['seconds'] / 60:.1f} min on {p['device']} |")
    print(f"| loss, epoch 1 mean -> final epoch mean | {first:.3f} -> {p['final_loss']:.3f} |")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
