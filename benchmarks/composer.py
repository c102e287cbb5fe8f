"""The composer's takes judged without ears (issue 18): are they new, and do they follow their
references? One take at each level with the shipped model, measured and drawn.

    PYTHONPATH=. .venv/bin/python benchmarks/composer.py [--data-dir DIR] [--pictures docs/composer]
        [--seeds 3] [--json OUT]

For each level (song: two references by weight; parameter: one reference's melody, another's
rhythm; temporal: a range of the user's audio composed anew) and each seed, the engine composes
through the same path the studio uses (``ComposerEngine.compose``, the references' materials as
``load_materials`` cuts them), and the composed score (the continuation alone, the prompt cut
off) is measured against:

- the training set the shipped model was trained on (``models/composer/training.json``, rebuilt
  with its seed): the longest run of notes copied verbatim from any training song (intervals
  and durations, transposition-free), and the share of the take's interval 4- and 8-grams found
  anywhere in it (``measures.novelty``);
- its references (``measures.following``): key (detected on the take, against the key the
  composer was asked for), meter, and at parameter level the melody contour's correlation with
  the melody reference's.

Baselines in the same run: a reference against the training set (how much two real tunes of
this repertoire share), and the take's key fit with a key a fifth away.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from musicapp.config import Settings  # noqa: E402
from musicapp.context import AppContext  # noqa: E402
from musicapp.core import GenerationRequest, Level, Reference, Role, TimeRange  # noqa: E402
from musicapp.generation.base import Conditioning  # noqa: E402
from musicapp.jobs import CancelToken, no_progress  # noqa: E402

A, B, C = "bach-bwv269", "oneills-1183", "ryans-soldiers-joy"


def _requests(user_audio: Path, seed: int) -> dict[str, GenerationRequest]:
    return {
        "song": GenerationRequest(
            (Reference(A, weight=0.7), Reference(C, weight=0.3)), engine="composer",
            duration_s=20.0, seed=seed,
        ),
        "parameter": GenerationRequest(
            (
                Reference(B, Level.PARAMETER, Role.MELODY, weight=0.6),
                Reference(C, Level.PARAMETER, Role.RHYTHM, weight=0.4),
            ),
            engine="composer", duration_s=20.0, seed=seed,
        ),
        "temporal": GenerationRequest(
            (Reference(A, Level.TEMPORAL, time_range=TimeRange(0.0, 12.0)),),
            engine="composer", duration_s=16.0, seed=seed,
            user_audio=str(user_audio), user_range=TimeRange(4.0, 12.0),
        ),
    }  # fmt: skip


def _user_audio(folder: Path) -> Path:
    """16 s of a plucked bass line: the user's own part at temporal level."""
    rate = 44100
    t = np.arange(16 * rate) / rate
    freqs = np.array([98.0, 123.5, 146.8, 130.8])[(t * 2).astype(int) % 4]
    mono = 0.3 * np.sin(2 * np.pi * np.cumsum(freqs) / rate) * np.exp(-3 * (t % 0.5))
    path = folder / "user-bass.wav"
    sf.write(path, np.stack([mono, mono]).T.astype(np.float32), rate)
    return path


def _training_scores(studio: Any) -> dict[str, Any]:
    from musicapp.generation.composer import tokens
    from musicapp.training.corpus import build_training_set

    payload = json.loads((ROOT / "models" / "composer" / "training.json").read_text())["payload"]
    public = sum(1 for i in payload["items"] if i.get("kind") != "song")
    built = build_training_set(
        studio.catalog, public_domain_count=public, seed=int(payload["seed"])
    )
    return {
        item.id: tokens.decode(ids) for item, ids in zip(built.items, built.sequences, strict=True)
    }


def run(data_dir: Path, pictures: Path | None, seeds: int) -> dict[str, Any]:
    from musicapp.generation.composer.conditioning import Key, key_fit, melody_line, pitch_histogram
    from musicapp.generation.composer.engine import ComposerEngine
    from musicapp.generation.composer.measures import following, novelty, piano_roll_png
    from musicapp.material import load_materials

    settings = Settings(data_dir=data_dir, models_dir=data_dir / "models", device="cpu")
    rows: list[dict[str, Any]] = []
    with AppContext.open(settings) as ctx, tempfile.TemporaryDirectory() as tmp:
        studio = ctx.studio
        t0 = time.perf_counter()
        training = _training_scores(studio)
        training_s = time.perf_counter() - t0
        engine = ComposerEngine(settings.audio_dir)
        user = _user_audio(Path(tmp))
        for seed in range(seeds):
            for level, request in _requests(user, seed).items():
                songs = studio.catalog.songs([r.song_id for r in request.references])
                user_audio = None
                if request.user_audio:
                    audio, _ = sf.read(request.user_audio, dtype="float32", always_2d=True)
                    user_audio = audio.T.copy()
                materials = load_materials(
                    studio.catalog, request, songs, 44100, no_progress, CancelToken()
                )
                started = time.perf_counter()
                made = engine.compose(
                    request, Conditioning(materials, 44100, user_audio), no_progress, CancelToken()
                )
                seconds = time.perf_counter() - started
                refs = made.references
                heaviest = max(refs, key=lambda r: r.weight)
                melody_ref = next(
                    (r for r in refs if r.material.reference.role is Role.MELODY), None
                )
                asked = Key(made.plan.tonic, heaviest.features.key.mode, 0.0)
                feats = type(heaviest.features)(
                    asked, made.plan.meter, made.plan.tempo_qpm, (), (), ()
                )
                follow = following(
                    made.score,
                    melody_line(made.score),
                    feats,
                    melody_ref.features.melody if melody_ref else (),
                )
                new = novelty(made.score, training)
                fifth = Key((made.plan.tonic + 7) % 12, asked.mode, 0.0)
                baseline = novelty(
                    heaviest.score,
                    {k: v for k, v in training.items() if k != heaviest.material.song.id},
                )
                rows.append(
                    {
                        "level": level,
                        "seed": seed,
                        "seconds": round(seconds, 2),
                        "notes": int(made.score.note_num()),
                        "asked_key": asked.name,
                        "key": follow.key,
                        "key_fit": round(follow.key_fit, 3),
                        "key_fit_fifth_away": round(key_fit(pitch_histogram(made.score), fifth), 3),
                        "meter_match": follow.meter_match,
                        "contour": (
                            round(follow.contour_correlation, 3)
                            if follow.contour_correlation is not None
                            else None
                        ),
                        "longest_copy": new.longest_copy_notes,
                        "copied_from": new.longest_copy_song,
                        "ngram4": round(new.ngram_overlap[4], 3),
                        "ngram8": round(new.ngram_overlap[8], 3),
                        "reference_longest_copy": baseline.longest_copy_notes,
                        "reference_ngram8": round(baseline.ngram_overlap[8], 3),
                    }
                )
                if pictures is not None and seed == 0:
                    pictures.mkdir(parents=True, exist_ok=True)
                    piano_roll_png(
                        made.score, pictures / f"take-{level}.png", f"composer take, {level} level"
                    )
                    for r in refs:
                        piano_roll_png(
                            r.score,
                            pictures / f"take-{level}-ref-{r.material.song.id}.png",
                            f"reference {r.material.song.title} ({r.material.reference.level.value}"
                            + (
                                f", {r.material.reference.role.value}"
                                if r.material.reference.role
                                else ""
                            )
                            + ")",
                        )
    return {
        "training_items": len(training),
        "training_rebuild_s": round(training_s, 1),
        "takes": rows,
    }


def _table(result: dict[str, Any]) -> str:
    head = (
        "| level | seed | notes | asked key | take key | key fit (asked / a fifth away) | meter | "
        "contour | longest copy (notes) | 4-gram / 8-gram overlap | a reference's own: longest "
        "copy, 8-gram | compose s |"
    )
    lines = [head, "|" + "---|" * 12]
    for r in result["takes"]:
        contour = "" if r["contour"] is None else f"{r['contour']:.2f}"
        lines.append(
            f"| {r['level']} | {r['seed']} | {r['notes']} | {r['asked_key']} | {r['key']} | "
            f"{r['key_fit']:.2f} / {r['key_fit_fifth_away']:.2f} | {'yes' if r['meter_match'] else 'no'} | "
            f"{contour} | {r['longest_copy']} "
            f"({r['copied_from'] or '-'}) | {r['ngram4']:.2f} / {r['ngram8']:.2f} | "
            f"{r['reference_longest_copy']}, {r['reference_ngram8']:.2f} | {r['seconds']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/musicapp-composer-bench"))
    parser.add_argument("--pictures", type=Path, default=None)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = run(args.data_dir, args.pictures, args.seeds)
    print(
        f"training set rebuilt: {result['training_items']} items in {result['training_rebuild_s']} s"
    )
    print(_table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
