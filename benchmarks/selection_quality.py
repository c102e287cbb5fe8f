"""Mediated selection's quality on the demo catalogue (64 songs, 10 genres).

    .venv/bin/python benchmarks/selection_quality.py [--data-dir DEMO] [--models-dir M]

Without --data-dir the demo catalogue is built in a temporary folder first (a few minutes). It
prints four tables:

1. Text prompts written so that they do not contain the expected genre's name: precision@5 (the
   share of the first five songs in the expected genre) of the plain similarity ranking and of
   the list the app shows (diverse by artist, which costs precision where one "artist", such as
   "Traditional (Irish)", is most of a genre). Answered by the embedded default (MiniLM over song
   descriptions); CLAP's real weights are not on this machine, and a tiny randomly initialised
   CLAP (`--tiny-clap`) can only show the wiring works: its cosine is noise, and what still ranks
   is the lexical half (the prompt's words in the song descriptions).
2. "More like this" precision@5 by genre (each song as the query; the same genre counts).
3. Category labels against labels we know: the demo's mood tags (melancholic → sad, bright or
   playful → happy, energetic or lively → energetic, calm or serene → relaxed, wistful or tender
   → nostalgic), predicted zero-shot from descriptions *without* those tags.
4. Recommendations from each song as the session, against a popularity-only baseline (the ten
   most-used songs) and plain similarity, with usage simulated as a Zipf law over a random order:
   distinct artists per list, long-tail share (songs outside the most-used fifth) and genre
   precision@10.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from musicapp.config import Settings  # noqa: E402
from musicapp.context import AppContext  # noqa: E402
from musicapp.jobs import CancelToken  # noqa: E402
from musicapp.selection.indexing import MOOD_TAGS  # noqa: E402

QUERIES = [  # (prompt, expected genre): no prompt names its genre
    ("four-part sacred hymn", "Baroque"),
    ("jig for fiddle", "Irish Folk"),
    ("solemn polyphonic mass sung by a choir", "Renaissance"),
    ("syncopated honky-tonk piano", "Ragtime"),
    ("bagpipes and pipe band drums", "Scottish Folk"),
    ("slow movement for string quartet", "Classical"),
    ("banjo and fiddle hoedown", "Americana"),
    ("folk song with hammered dulcimer and woodblock", "Chinese Folk"),
    ("village song with accordion, clarinet and tuba", "German Folk"),
    ("Northumbrian ballad with oboe and strings", "English Folk"),
]
MOOD_TRUTH = MOOD_TAGS  # the app's own mapping of tags to the mood labels


def precision(ids: list[str], genre_of: dict[str, str], genre: str, k: int) -> float:
    return sum(genre_of[i] == genre for i in ids[:k]) / k


def open_demo(args: argparse.Namespace) -> tuple[AppContext, Path]:
    work = Path(tempfile.mkdtemp(prefix="selection-quality-"))
    data = work / "data"
    if args.data_dir:
        shutil.copytree(args.data_dir, data, ignore=shutil.ignore_patterns("*selection*"))
    models = Path(args.models_dir or work / "models")
    if getattr(args, "tiny_clap", False):
        # A tiny randomly initialised CLAP in the real layout, verified by a manifest listing
        # it: the prompts then go through CLAP's code paths. Its figures are chance level.
        from musicapp.selection import clap
        from musicapp.testing.tiny_clap import save_tiny_clap, tiny_manifest

        models = work / "tiny-clap-models"
        clap.MANIFEST = tiny_manifest(models, save_tiny_clap(models), work / "manifest.toml")
    settings = Settings(data_dir=data, models_dir=models)
    settings.server_url = ""
    ctx = AppContext.open(settings)
    if ctx.studio.library.is_empty():
        print("Building the demo catalogue…", file=sys.stderr)
        ctx.studio.library.build_demo_job().run(lambda _p: None, CancelToken())
    job = ctx.studio.selection.index_job()
    if job is not None:
        print("Embedding the catalogue…", file=sys.stderr)
        job.run(lambda _p: None, CancelToken())
    return ctx, work


def table_prompts(ctx: AppContext, genre_of: dict[str, str]) -> list[str]:
    room = ctx.studio.selection
    engine = room.engine
    rows = [f"{'prompt':48s} {'expected':14s} {'P@5 plain':>9s} {'P@5 shown':>9s}  top 5 (plain)"]
    plain_all, shown_all = [], []
    for text, genre in QUERIES:
        vector = engine.query_vector(text, ())
        plain = engine.rank(
            text,
            engine.text_index(),
            vector,
            k=5,
            use=None,
            level=None,
            embedding="",
            why="",
            diverse=False,
            words=re.findall(r"[^\W_]+", text),
        ).song_ids
        shown = room.prompt(text, k=5).song_ids
        p, s = precision(plain, genre_of, genre, 5), precision(shown, genre_of, genre, 5)
        plain_all.append(p)
        shown_all.append(s)
        top = ", ".join(genre_of[i][:10] for i in plain)
        rows.append(f"{text[:48]:48s} {genre:14s} {p:9.2f} {s:9.2f}  {top}")
    rows.append(
        f"{'mean':48s} {'':14s} {statistics.mean(plain_all):9.2f} {statistics.mean(shown_all):9.2f}"
    )
    rows.append(f"answered by: {room.status().text_embedding}")
    return rows


def table_similar(ctx: AppContext, genre_of: dict[str, str]) -> list[str]:
    engine = ctx.studio.selection.engine
    by_genre: dict[str, list[float]] = defaultdict(list)
    index = engine.song_index()
    for sid, genre in genre_of.items():
        vector = engine.song_vector([sid], [1.0])
        assert vector is not None
        ids = engine.rank(
            sid,
            index,
            vector,
            k=5,
            use=None,
            level=None,
            exclude=[sid],
            embedding="",
            why="",
            diverse=False,
        ).song_ids
        by_genre[genre].append(precision(ids, genre_of, genre, 5))
    rows = [f"{'genre':16s} {'songs':>5s} {'P@5':>6s}"]
    for genre, values in sorted(by_genre.items()):
        rows.append(f"{genre:16s} {len(values):5d} {statistics.mean(values):6.2f}")
    every = [v for vs in by_genre.values() for v in vs]
    rows.append(f"{'all songs':16s} {len(every):5d} {statistics.mean(every):6.2f}")
    rows.append(f"answered by: {ctx.studio.selection.status().audio_embedding} + descriptions")
    return rows


def table_moods(ctx: AppContext) -> list[str]:
    from musicapp.selection.describe import FEATURES_VERSION, Descriptors, description
    from musicapp.selection.indexing import label_songs

    engine = ctx.studio.selection.engine
    songs = ctx.studio.catalog.all_songs()
    texts = []
    for song in songs:
        row = engine.store.song_row(song.id)
        assert row is not None
        cached = engine.store.descriptors(row[1], FEATURES_VERSION)
        d = None if cached is None else Descriptors(*cached[0], cached[1])
        texts.append(description(song, d, with_moods=False))
    vectors = engine.embedders.text.embed_texts(texts)
    predicted = label_songs(vectors, engine.embedders.text)
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for song, labels in zip(songs, predicted, strict=True):
        truth = {MOOD_TRUTH[m] for m in song.moods if m in MOOD_TRUTH}
        guess = {label for facet, label, _ in labels if facet == "mood"}
        for label in guess:
            (tp if label in truth else fp)[label] += 1
        for label in truth - guess:
            fn[label] += 1
    rows = [f"{'mood':10s} {'truth':>5s} {'given':>5s} {'precision':>9s} {'recall':>6s}"]
    for label in ("happy", "sad", "energetic", "nostalgic", "angry", "relaxed"):
        given, truth = tp[label] + fp[label], tp[label] + fn[label]
        prec = f"{tp[label] / given:9.2f}" if given else f"{'-':>9s}"
        rec = f"{tp[label] / truth:6.2f}" if truth else f"{'-':>6s}"
        rows.append(f"{label:10s} {truth:5d} {given:5d} {prec} {rec}")
    given = sum(tp.values()) + sum(fp.values())
    rows.append(
        f"{'all':10s} {sum(tp.values()) + sum(fn.values()):5d} {given:5d} "
        f"{sum(tp.values()) / max(given, 1):9.2f} "
        f"{sum(tp.values()) / max(sum(tp.values()) + sum(fn.values()), 1):6.2f}"
    )
    # Two situation/function labels the demo's tags also tell: "sacred" songs suit a church
    # service, "dance" songs are dance music.
    for facet, label, tag in (
        ("situation", "church service", "sacred"),
        ("function", "dance", "dance"),
    ):
        truth_ids = {s.id for s in songs if tag in s.moods}
        given_ids = {
            s.id
            for s, labels in zip(songs, predicted, strict=True)
            if (facet, label) in {(f, lb) for f, lb, _ in labels}
        }
        hit = len(truth_ids & given_ids)
        prec = f"{hit / len(given_ids):9.2f}" if given_ids else f"{'-':>9s}"
        rows.append(
            f"{label[:10]:10s} {len(truth_ids):5d} {len(given_ids):5d} {prec} "
            f"{hit / max(len(truth_ids), 1):6.2f}  ({facet}; truth: tagged '{tag}')"
        )
    rows.append(
        "(zero-shot labels from descriptions without the mood tags; 'angry' has no song to "
        "find. In the app, songs with mood tags take their mood labels from the tags.)"
    )
    return rows


def table_recommend(ctx: AppContext, genre_of: dict[str, str], seed: int) -> list[str]:
    from musicapp.selection.ranking import artist_key, head_songs

    room = ctx.studio.selection
    engine = room.engine
    ids = sorted(genre_of)
    rng = random.Random(seed)
    order = ids[:]
    rng.shuffle(order)
    uses = Counter({sid: int(1000 / (rank + 1)) for rank, sid in enumerate(order)})  # Zipf
    engine.use_counts = lambda: uses  # type: ignore[method-assign]
    head = head_songs(uses, len(ids))
    artist = {s.id: s.artist for s in ctx.studio.catalog.all_songs()}
    stats: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for sid in ids:
        genre = genre_of[sid]
        popular = [s for s, _ in uses.most_common() if s != sid][:10]
        vector = engine.song_vector([sid], [1.0])
        plain = engine.rank(
            "session",
            engine.song_index(),
            vector,
            k=10,
            use=None,
            level=None,  # type: ignore[arg-type]
            exclude=[sid],
            embedding="",
            why="",
            diverse=False,
        ).song_ids
        ours = room.recommend([sid], k=10).song_ids
        for name, lst in (
            ("popularity only", popular),
            ("similarity only", plain),
            ("musicapp", ours),
        ):
            named = Counter(artist[i] for i in lst if artist_key(artist[i], i)[0] != "\0")
            stats[name].append(
                (
                    len({artist[i] for i in lst}) / len(lst),
                    max(named.values(), default=0),
                    sum(i not in head for i in lst) / len(lst),
                    precision(lst, genre_of, genre, 10),
                )
            )
    rows = [
        f"{'list':16s} {'artists/10':>10s} {'most by one':>11s} {'long tail':>9s} {'genre P@10':>10s}"
    ]
    for name, values in stats.items():
        a, m, t, p = (statistics.mean(v[i] for v in values) for i in range(4))
        worst = max(v[1] for v in values)
        rows.append(f"{name:16s} {a * 10:10.1f} {m:5.1f} (max {worst}) {t:9.0%} {p:10.2f}")
    rows.append(
        "(artists/10: distinct artist names, 'Traditional (...)' counting as one; most by one: "
        "songs by the best-represented named artist, mean and worst list)"
    )
    rows.append(f"(usage simulated: Zipf over a shuffled catalogue, seed {seed}; head = top fifth)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="a demo data folder (`musicapp demo --headless`)")
    parser.add_argument("--models-dir", help="models folder (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--tiny-clap",
        action="store_true",
        help="answer with a tiny random CLAP (wiring only: its cosine is noise)",
    )
    args = parser.parse_args(argv)
    ctx, work = open_demo(args)
    try:
        genre_of = {s.id: s.genre for s in ctx.studio.catalog.all_songs()}
        if args.tiny_clap:
            print(
                "\n## Text prompts, tiny random CLAP (wiring only: its cosine is noise, so what "
                "ranks here is the prompt's words in the descriptions)\n"
            )
            print("\n".join(table_prompts(ctx, genre_of)))
            return 0
        for title, rows in (
            ("Text prompts (precision@5)", table_prompts(ctx, genre_of)),
            ('"More like this" (precision@5 by genre)', table_similar(ctx, genre_of)),
            ("Mood labels against the demo's tags", table_moods(ctx)),
            (
                "Recommendations vs a popularity-only baseline",
                table_recommend(ctx, genre_of, args.seed),
            ),
        ):
            print(f"\n## {title}\n")
            print("\n".join(rows))
    finally:
        ctx.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
