"""How far can an audio audit go on the harness's takes (issue 15)? A layer audited alone.

A parameter-level take credits a reference for one layer of it: its melody, or its harmony,
rhythm or palette (timbre), which the concat engine takes from that reference's stems
(`generation.layers.LAYER_STEMS`). In this catalogue an arrangement's accompaniment is the same
pattern on the same samples in every song of it, so the stems behind a harmony or rhythm layer
may be heard in many songs. This asks how well any audio audit could do there: each layer of
``--songs`` catalogue songs (a seeded sample) is audited alone, whole and unchanged, as a take
is audited (`Auditor.audit`), the easiest case a take can present, and again cut into its bars
and put together in a seeded random order, as the engine reorders a reference (alone, not
mixed with other layers, not moved in pitch or tempo). Where the song is not among the audit's
first three even then, a take whose largest share is that layer cannot be named either. Then, over the harness's own takes, how many have their largest share in each kind of
layer, and the top-3 figure the whole set could reach if every take were named whenever its
largest layer alone is:

    PYTHONPATH=. .venv/bin/python benchmarks/audit_ceiling.py --work /work/cache/audit-bench

``--work`` is a folder the harness built (``benchmarks/audit.py``), with its audit index.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_score  # noqa: E402

from musicapp.attribution.auditor import Auditor, audit_index_path  # noqa: E402
from musicapp.context import AppContext  # noqa: E402
from musicapp.core import Level, Role, Song  # noqa: E402
from musicapp.generation.layers import LAYER_STEMS, ROLE_LAYER  # noqa: E402

SEED = 11
LAYERS = ("melody", "harmony", "rhythm", "palette")


def layer_audio(ctx: AppContext, song: Song, layer: str) -> np.ndarray | None:
    """The stems a layer of this song is made from, summed as they sit in its mix; None when
    the song has none of them (the engine would not use it for that layer either)."""
    for roles in LAYER_STEMS[layer]:
        names = [s.name for s in song.stems if s.role in roles]
        if names:
            return np.sum([ctx.catalog.load_audio(song.id, stem=n) for n in names], axis=0)
    return None


def reordered(audio: np.ndarray, rate: int, song: Song, rng: random.Random) -> np.ndarray:
    """The audio's whole bars (from its start) in a random order: the bars a take is made of."""
    bar = int(round(60.0 / float(song.tempo_bpm) * int(song.beats_per_bar) * rate))
    n = audio.shape[1] // bar
    order = list(range(n))
    rng.shuffle(order)
    return np.concatenate([audio[:, i * bar : (i + 1) * bar] for i in order], axis=1)


def audit_layers(
    ctx: AppContext, auditor: Auditor, ids: list[str], bars: bool
) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    for layer in LAYERS:
        rng = random.Random(f"{SEED}-{layer}")
        top1 = top3 = others = own_found = n = 0
        own_share: list[float] = []
        times: list[float] = []
        for song_id in ids:
            song = ctx.catalog.song(song_id)
            assert song is not None
            audio = layer_audio(ctx, song, layer)
            if audio is None or float(np.abs(audio).max()) < 1e-4:
                continue
            if bars:
                audio = reordered(audio, song.sample_rate, song, rng)
            auditor._last_clusters = None  # each layer searches afresh
            t0 = time.perf_counter()
            result = auditor.audit(audio, song.sample_rate)
            times.append(time.perf_counter() - t0)
            ranked = [s for s, _ in result.top(3)]
            n += 1
            top1 += bool(ranked) and ranked[0] == song_id
            top3 += song_id in ranked
            found = result.found_songs()
            own_found += song_id in found
            others += bool(found - {song_id})
            own_share.append(result.influence.get(song_id, 0.0))
        figures[layer] = {
            "layers audited": n,
            "own song top-1": top1 / max(n, 1),
            "own song top-3": top3 / max(n, 1),
            "own song found outright": own_found / max(n, 1),
            "another song found outright": others / max(n, 1),
            "own share p50": float(np.median(own_share)) if own_share else 0.0,
            "audit p50 (s)": float(np.median(times)) if times else 0.0,
        }
    return figures


def largest_layers(work: Path) -> Counter[str]:
    """How many of the harness's takes have their largest share in each kind of layer: the
    level for song, audio and temporal takes, the layer for parameter-level ones."""
    from musicapp.core.provenance import Provenance

    counts: Counter[str] = Counter()
    for path in sorted((work / "takes").glob("*.json")):
        d = json.loads(path.read_text())
        shares = Provenance.from_dict(d["provenance"]).song_shares()
        if not shares:
            continue
        top = max(shares.items(), key=lambda kv: kv[1])[0]
        level = str(d["level"])
        if level == Level.PARAMETER.value:
            role = next(r["role"] for r in d["references"] if r["song_id"] == top)
            counts[ROLE_LAYER[Role(role)]] += 1
        else:
            counts[level] += 1
    return counts


def main(argv: list[str] | None = None) -> None:
    args = audit_score.sample_args(__doc__ or "", argv)
    settings = audit_score.settings_for(args.work / "data")
    with AppContext.open(settings) as ctx:
        ids = audit_score.seeded_songs(ctx.catalog, args.songs, SEED)
        auditor = Auditor(audit_index_path(settings.catalog_path), ctx.catalog)
        try:
            first = ctx.catalog.song(ids[0])
            assert first is not None
            auditor.audit(ctx.catalog.load_audio(ids[0]), first.sample_rate)  # loads the index
            figures = {
                "whole": audit_layers(ctx, auditor, ids, bars=False),
                "bars reordered": audit_layers(ctx, auditor, ids, bars=True),
            }
        finally:
            auditor.close()
    for variant, table in figures.items():
        print(f"A layer of {len(ids)} catalogue songs of {args.work}, audited alone: {variant}\n")
        print(f"{'figure':30s}" + "".join(f"{n:>12s}" for n in LAYERS))
        for row in table[LAYERS[0]]:
            cells = []
            for layer in LAYERS:
                v = table[layer][row]
                cells.append(f"{v:12.0f}" if row == "layers audited" else f"{v:12.3f}")
            print(f"{row:30s}" + "".join(cells))
        print()
    counts = largest_layers(args.work)
    total = sum(counts.values())
    print(f"The harness's {total} takes by where their largest share lies:\n")
    head = "".join(f"{'top-3, ' + v:>24s}" for v in figures)
    print(f"{'largest share in':20s}{'takes':>8s}{'share':>8s}{head}")
    reach = dict.fromkeys(figures, 0.0)
    for kind, n in counts.most_common():
        cells = ""
        for variant, table in figures.items():
            alone = table[kind]["own song top-3"] if kind in table else 1.0
            reach[variant] += n * alone
            cells += f"{alone * 100:23.1f}%" if kind in table else f"{'(mixes: 100)':>24s}"
        print(f"{kind:20s}{n:8d}{n / total * 100:7.1f}%{cells}")
    print(
        "\nTop-3 the set could reach if a take were named whenever its largest layer alone is"
        " (whole mixes counted as always named): "
        + ", ".join(f"{v} {r / total * 100:.1f}%" for v, r in reach.items())
    )


if __name__ == "__main__":
    main()
