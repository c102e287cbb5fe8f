"""The `musicapp train` command: train the composer on consented scores, or show its models."""

from __future__ import annotations

import argparse
import math
from typing import Any

from musicapp.cli_common import EXIT_OK, emit, open_context, run_with_progress


def cmd_train(args: argparse.Namespace) -> int:
    """Train a composer on the songs whose every holder allows model training (plus
    public-domain tunes unless --songs-only), log the training event, publish the weights."""
    if getattr(args, "train_cmd", None) == "status":
        return cmd_train_status(args)
    options = {
        "epochs": args.epochs,
        "seed": args.seed,
        "device": args.device,
        "songs_only": args.songs_only,
        "public_domain": args.public_domain,
        "d_model": args.d_model,
        "n_layers": args.layers,
        "n_heads": args.heads,
        "context": args.context,
        "batch": args.batch,
        "lr": args.lr,
    }
    with open_context(args) as ctx:
        job = ctx.studio.training.train_job(**options)
        result = run_with_progress("train", job.run, args.progress)
        data = result.to_dict()
        minutes, seconds = divmod(result.total_seconds, 60)
        text = "\n".join(
            [
                f"Training set: {result.songs} catalogue songs, {result.public_domain} "
                f"public-domain tunes ({result.tokens:,} tokens, {result.windows} windows); "
                f"{result.excluded} songs left out",
                f"Trained {result.steps} steps on {result.device} in "
                f"{int(minutes)} min {seconds:.0f} s (training {result.train_seconds:.0f} s)",
                f"Final loss: {result.final_loss:.3f}",
                f"Model: {result.model_id}",
                f"  in {result.folder}",
                f"  weights sha256 {result.weights_sha256}",
                f"Training event: {result.event_id}",
            ]
        )
        emit(args, data, text)
    return EXIT_OK


def cmd_train_status(args: argparse.Namespace) -> int:
    """The models this ledger knows, their training events, and their revocation marks."""
    with open_context(args, build=False) as ctx:
        room = ctx.studio.training
        marks = room.marks()  # refreshed first: logs the marks current consent calls for
        models = room.models()
    data: dict[str, Any] = {
        "models": [m.to_dict() for m in models],
        "marks": [m.to_dict() for m in marks],
    }
    lines = [f"Trained models: {len(models)}"]
    for m in models:
        loss = "" if math.isnan(m.final_loss) else f", final loss {m.final_loss:.3f}"
        lines.append(
            f"  {m.model_id} ({m.origin}, {m.state}): {m.songs} songs + {m.public_domain} "
            f"public-domain tunes on {m.device or '?'}{loss}"
        )
        lines.append(f"      training event {m.training_event_id}, logged {m.logged_at}")
        lines.append(f"      marks: {m.marks}")
    lines.append(f"Revocation marks: {len(marks)}")
    for k in marks:
        version = f"version {k.consent_version}" if k.consent_version else "no consent"
        lines.append(
            f"  {k.model_id}: {k.song_id}, holder {k.holder_id} ({version}; trained under "
            f"version {k.trained_version}): {k.reason}  [event {k.event_id}]"
        )
    if marks:
        lines.append("Marked songs are left out of the next `musicapp train`.")
    emit(args, data, "\n".join(lines))
    return EXIT_OK


def add_train_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `train` and `train status` on the `musicapp` parser."""
    train = sub.add_parser(
        "train",
        parents=[common],
        help="train the composer on consented scores (and public-domain tunes)",
        description="Train the composing engine's model on the catalogue songs whose every "
        "rights holder allows model training and whose score is known, plus public-domain "
        "tunes from music21's corpus (unless --songs-only). The training event (every song "
        "and consent version used) is logged before the weights are published. "
        "`musicapp train status` lists the models and their revocation marks.",
    )
    train.add_argument("--epochs", type=int, default=4)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="auto", help="auto, cuda, mps or cpu (default auto)")
    train.add_argument(
        "--songs-only", action="store_true", help="catalogue songs only: no public-domain tunes"
    )
    train.add_argument(
        "--public-domain", type=int, default=120, help="public-domain tunes to add (default 120)"
    )
    train.add_argument("--d-model", type=int, default=192)
    train.add_argument("--layers", type=int, default=4)
    train.add_argument("--heads", type=int, default=4)
    train.add_argument("--context", type=int, default=256)
    train.add_argument("--batch", type=int, default=16)
    train.add_argument("--lr", type=float, default=1e-3)
    train.set_defaults(func=cmd_train)
    train_sub = train.add_subparsers(dest="train_cmd")
    status = train_sub.add_parser(
        "status", parents=[common], help="the trained models, their events and marks"
    )
    status.set_defaults(func=cmd_train_status)
