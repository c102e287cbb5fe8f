"""The audit harness's catalogue: the demo recipe plus ~950 corpus tunes, and held-out songs.

Every song is rendered exactly like the demo catalogue (`musicapp.catalog.demo.build_demo` with
a larger recipe: the demo's holders, kits, arrangements and collections, more songs). The extra
songs are drawn, seeded, from music21's corpus: O'Neill's, Ryan's Mammoth, Aird's Airs, Bach's
chorales and the Essen folksongs (German and Han), each with its collection, an arrangement that
suits it, a tempo in that arrangement's range and consent "full". A candidate is first screened
(parsed and arranged once, `min_s=0`): one that fails to parse, has no notes or plays less than
SHORTEST_S on its own (before the renderer loops it) is skipped and logged. Two tunes with the
same title are one tune in two books, so a title is used once.

A held-out song must hold no catalogue song's tune: rendered with the same soundfont, two
settings of one hymn tune (Bach harmonised many chorale melodies more than once) or one tune
under two titles share their melody stem, and a clip made of it is not clean. So a held-out
candidate whose melody opens with the same INCIPIT_INTERVALS intervals as a catalogue song's
(any key) is left out and logged; the incipits are kept in ``incipits.json``.

The held-out songs are other corpus tunes rendered the same way into a store of their own
(never audited against) and written out as WAV: the "other material" of user clips and the
user's own audio of audio- and temporal-level takes.

Everything lives under the work folder and is reused: a song already in a store is not
rendered again, the screen's verdicts are kept in ``screen.json``.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

log = logging.getLogger("audit_data")

SEED = 15
SHORTEST_S = 12.0  # a tune shorter than this on its own would be mostly its own loop
INCIPIT_INTERVALS = 8  # two melodies opening with these many equal intervals are one tune
CATALOGUE_EXTRA = 950  # on top of the demo's 64 songs
HELD_OUT = 150  # asked for; the shares round to 151

# (collection, corpus files, arrangements that suit the collection, quota of extra songs,
#  held-out quota). Quotas are shares of CATALOGUE_EXTRA and HELD_OUT.
POOLS: tuple[tuple[str, str, tuple[str, ...], float, float], ...] = (
    ("ryans", "ryansMammoth/*.abc", ("oldtime", "scottish-dance", "ceilidh"), 0.34, 0.33),
    (
        "oneills",
        "oneills1850/[0-9]*-*.abc",
        ("irish-session", "irish-fiddle", "irish-air"),
        0.27,
        0.24,
    ),
    ("bach", "bach/bwv*.mxl", ("chorale-strings", "chorale-winds", "chorale-brass"), 0.16, 0.16),
    (
        "essen-de",
        "essenFolksong/[abefkz]*.abc",
        ("lied", "oompah", "parlour"),
        0.13,
        0.14,
    ),
    ("essen-cn", "essenFolksong/han*.abc", ("dizi-yangqin",), 0.06, 0.07),
    (
        "aird",
        "airdsAirs/book*.abc",
        ("scottish-dance", "scottish-pipes", "smallpipes"),
        0.04,
        0.06,
    ),
)
# Beats per minute of the meter's beat, per arrangement (the demo recipe's own ranges, widened).
TEMPI = {
    "oldtime": (92, 132),
    "scottish-dance": (88, 112),
    "ceilidh": (100, 138),
    "irish-session": (96, 120),
    "irish-fiddle": (96, 120),
    "irish-air": (62, 86),
    "chorale-strings": (58, 84),
    "chorale-winds": (58, 84),
    "chorale-brass": (58, 84),
    "lied": (60, 100),
    "oompah": (72, 100),
    "parlour": (64, 90),
    "dizi-yangqin": (70, 92),
    "scottish-pipes": (88, 108),
    "smallpipes": (70, 92),
}


@dataclass(frozen=True)
class Candidate:
    """One corpus tune the harness may render."""

    id: str
    collection: str
    source: str  # corpus path, relative
    number: int | None
    title: str


def corpus_root() -> Path:
    from music21 import corpus

    first = Path(corpus.getCorePaths()[0])
    return next(p for p in first.parents if p.name == "corpus")


def _abc_tunes(path: Path) -> list[tuple[int, str]]:
    """(X number, first title) of every tune in an ABC file, read from its headers alone."""
    tunes: list[tuple[int, str]] = []
    number: int | None = None
    for line in path.read_text("latin-1").splitlines():
        if line.startswith("X:"):
            digits = re.sub(r"\D", "", line[2:])
            number = int(digits) if digits else None
        elif line.startswith("T:") and number is not None:
            tunes.append((number, line[2:].strip()))
            number = None
    return tunes


def _title(raw: str) -> str:
    t = raw.strip().rstrip(".").strip()
    return t.title() if t.isupper() else t


def _key(title: str) -> str:
    """A title folded so the same tune in two books is seen as one."""
    t = re.sub(r"[^a-z ]", "", title.lower())
    t = re.sub(r"\b(the|a|an|reel|jig|hornpipe|strathspey)\b", " ", t)
    return " ".join(t.split())


def candidates(root: Path) -> dict[str, list[Candidate]]:
    """Every corpus tune of each pool, in a fixed order."""
    out: dict[str, list[Candidate]] = {}
    for collection, pattern, *_ in POOLS:
        found: list[Candidate] = []
        seen_numbers: set[int] = set()
        for path in sorted(root.glob(pattern)):
            rel = path.relative_to(root).as_posix()
            stem = path.stem.lower().replace("_", "-")
            if path.suffix == ".mxl":
                # Named as the demo recipe names its chorales ("bach/bwv269"), so the demo's
                # own are recognised and left out.
                name = rel.removesuffix(".mxl")
                found.append(
                    Candidate(f"bach-{stem}", collection, name, None, f"Chorale BWV {stem[3:]}")
                )
                continue
            tunes = _abc_tunes(path)
            if collection == "ryans":
                if len(tunes) == 1:
                    found.append(
                        Candidate(f"ryans-{stem}", collection, rel, None, _title(tunes[0][1]))
                    )
                continue
            for number, title in tunes:
                if collection == "oneills":
                    # The O'Neill's files overlap (1556-1576 and 1556-1624): one tune, one song.
                    if number in seen_numbers:
                        continue
                    seen_numbers.add(number)
                    cid = f"oneills-{number:04d}"
                else:
                    cid = f"{collection.split('-')[0]}-{stem}-{number}"
                found.append(Candidate(cid, collection, rel, number, _title(title)))
        out[collection] = found
    return out


def demo_data() -> dict[str, Any]:
    from musicapp.catalog.recipe import _RESOURCES, RECIPE_RESOURCE

    data: dict[str, Any] = json.loads((_RESOURCES / RECIPE_RESOURCE).read_text("utf-8"))
    return data


def _song_entry(c: Candidate, rng: random.Random, data: dict[str, Any]) -> dict[str, Any]:
    arrangements = next(p[2] for p in POOLS if p[0] == c.collection)
    arrangement = rng.choice(arrangements)
    lo, hi = TEMPI[arrangement]
    entry: dict[str, Any] = {
        "id": c.id,
        "collection": c.collection,
        "source": c.source,
        "title": c.title,
        "tempo": rng.randint(lo, hi),
        "arrangement": arrangement,
        "consent": "full",
        "splits": rng.randrange(len(data["collections"][c.collection]["splits"])),
    }
    if c.number is not None:
        entry["number"] = c.number
    return entry


def _screen_one(entry: dict[str, Any]) -> tuple[str, str]:
    """In a worker: "" when the tune renders and lasts SHORTEST_S on its own, else why not."""
    from musicapp.catalog.arrange import arrange
    from musicapp.catalog.recipe import parse_recipe

    data = demo_data()
    data["songs"] = [entry]
    try:
        recipe = parse_recipe(data)
        spec = recipe.songs[0]
        arranged = arrange(spec, recipe.arrangements[spec.arrangement], recipe.kits, 0.0, 34.0)
    except Exception as exc:  # music21 raises many kinds on scores it cannot read
        return entry["id"], f"cannot be rendered: {type(exc).__name__}: {exc}"[:200]
    if arranged.length_s < SHORTEST_S:
        return entry["id"], f"too short: {arranged.length_s:.1f} s"
    return entry["id"], ""


def _incipit_one(entry: dict[str, Any]) -> tuple[str, list[int]]:
    """In a worker: the first INCIPIT_INTERVALS intervals (semitones) of the tune's top part;
    empty when the score cannot be read or is shorter."""
    import warnings

    from music21 import corpus, stream

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = corpus.parse(entry["source"], number=entry.get("number"), forceSource=True)
        if isinstance(score, stream.Opus):
            score = score.scores[0]
        part = score.parts[0] if score.parts else score
        midi = [n.pitch.midi for n in part.flatten().notes if n.isNote]
    except Exception:  # music21 raises many kinds on scores it cannot read
        return entry["id"], []
    midi = midi[: INCIPIT_INTERVALS + 1]
    steps = [b - a for a, b in zip(midi, midi[1:], strict=False)]
    return entry["id"], steps if len(steps) == INCIPIT_INTERVALS else []


def incipits(work: Path, entries: list[dict[str, Any]], workers: int = 2) -> dict[str, list[int]]:
    """Each entry's melody incipit (``_incipit_one``), kept in ``work/incipits.json``."""
    path = work / "incipits.json"
    known: dict[str, list[int]] = json.loads(path.read_text()) if path.exists() else {}
    todo = [e for e in entries if e["id"] not in known]
    if todo:
        with ProcessPoolExecutor(workers) as pool_ex:
            known.update(pool_ex.map(_incipit_one, todo, chunksize=8))
        path.write_text(json.dumps(known, indent=0, sort_keys=True))
    return known


def other_tunes(
    held: list[dict[str, Any]], catalogue: list[dict[str, Any]], tunes: dict[str, list[int]]
) -> list[dict[str, Any]]:
    """The held-out entries whose tune no catalogue entry has (by incipit, ``tunes``); each
    one left out is logged with the catalogue song it shares its tune with."""
    taken = {tuple(tunes[e["id"]]): e["id"] for e in catalogue if tunes.get(e["id"])}
    kept = []
    for e in held:
        twin = taken.get(tuple(tunes.get(e["id"]) or ()))
        if twin:
            log.info("held out %s left out: its melody opens like catalogue song %s", e["id"], twin)
            continue
        kept.append(e)
    return kept


def plan(work: Path, extra: int, held_out: int, workers: int = 2) -> tuple[list, list]:
    """The extra catalogue songs and the held-out songs (recipe song entries), screened."""
    data = demo_data()
    rng = random.Random(SEED)
    pools = candidates(corpus_root())
    used_sources = {(s["source"], s.get("number")) for s in data["songs"]}
    used_titles = {_key(s["title"]) for s in data["songs"] if s["collection"] != "bach"}
    screen_path = work / "screen.json"
    verdicts: dict[str, str] = json.loads(screen_path.read_text()) if screen_path.exists() else {}
    chosen: dict[str, list[dict[str, Any]]] = {"catalogue": [], "held_out": []}
    for collection, _pattern, _arr, share, held_share in POOLS:
        pool = [c for c in pools[collection] if (c.source, c.number) not in used_sources]
        rng.shuffle(pool)
        want = {"catalogue": round(extra * share), "held_out": round(held_out * held_share)}
        entries = []
        for c in pool:
            key = _key(c.title)
            if collection != "bach" and key in used_titles:
                continue
            used_titles.add(key)
            entries.append(_song_entry(c, rng, data))
        cursor = 0
        for which in ("catalogue", "held_out"):
            need = want[which]
            while need > 0 and cursor < len(entries):
                batch = entries[cursor : cursor + max(need + need // 4 + 2, 4)]
                cursor += len(batch)
                todo = [e for e in batch if e["id"] not in verdicts]
                if todo:
                    with ProcessPoolExecutor(workers) as pool_ex:
                        for sid, why in pool_ex.map(_screen_one, todo, chunksize=4):
                            verdicts[sid] = why
                            if why:
                                log.info("skipped %s: %s", sid, why)
                    screen_path.write_text(json.dumps(verdicts, indent=0, sort_keys=True))
                for e in batch:
                    if need > 0 and not verdicts[e["id"]]:
                        chosen[which].append(e)
                        need -= 1
            if need > 0:
                log.warning("%s: %d %s songs short of the quota", collection, need, which)
    catalogue = data["songs"] + chosen["catalogue"]
    tunes = incipits(work, catalogue + chosen["held_out"], workers)
    return chosen["catalogue"], other_tunes(chosen["held_out"], catalogue, tunes)


def recipe_with(songs: list[dict[str, Any]], with_demo: bool) -> Any:
    from musicapp.catalog.recipe import parse_recipe

    data = demo_data()
    data["songs"] = (data["songs"] if with_demo else []) + songs
    return parse_recipe(data)


@dataclass
class Catalogue:
    """The harness's built data: where the catalogue and the held-out audio are."""

    work: Path
    data_dir: Path  # a Settings data folder: catalog.sqlite, audio/
    held_out_dir: Path  # held-out WAVs
    songs: int
    held_out: list[Path]
    build_s: float


def _log_progress(prefix: str) -> Callable[[Any], None]:
    last = [0.0]

    def cb(p: Any) -> None:
        now = time.monotonic()
        if now - last[0] > 30 or p.fraction >= 1.0:
            last[0] = now
            log.info("%s %3.0f%% %s", prefix, 100 * p.fraction, p.message)

    return cb


def build(work: Path, extra: int = CATALOGUE_EXTRA, held_out: int = HELD_OUT) -> Catalogue:
    """Build (or finish) the catalogue and the held-out songs under ``work``."""
    from musicapp.catalog.demo import build_demo
    from musicapp.catalog.store import CatalogStore
    from musicapp.config import Settings

    work.mkdir(parents=True, exist_ok=True)
    timings_path = work / "build_times.json"
    timings: dict[str, float] = (
        json.loads(timings_path.read_text()) if timings_path.exists() else {}
    )
    t0 = time.perf_counter()
    songs, held = plan(work, extra, held_out)
    (work / "plan.json").write_text(json.dumps({"catalogue": songs, "held_out": held}, indent=1))
    timings.setdefault(
        "plan_s", time.perf_counter() - t0
    )  # the first plan screens; later ones read

    settings = Settings(data_dir=work / "data")
    settings.ensure_dirs()
    t1 = time.perf_counter()
    store = CatalogStore(settings.catalog_path, settings.audio_dir)
    try:
        added = build_demo(store, _log_progress("catalogue"), recipe=recipe_with(songs, True))
        count = store.count()
    finally:
        store.close()
    if added:
        timings["catalogue_s"] = timings.get("catalogue_s", 0.0) + time.perf_counter() - t1

    t2 = time.perf_counter()
    held_dir = work / "held_out"
    wav_dir = held_dir / "wav"
    wav_dir.mkdir(parents=True, exist_ok=True)
    hstore = CatalogStore(held_dir / "catalog.sqlite", held_dir / "audio")
    paths: list[Path] = []
    try:
        h_added = build_demo(hstore, _log_progress("held-out"), recipe=recipe_with(held, False))
        for entry in held:
            out = wav_dir / f"{entry['id']}.wav"
            if not out.exists() and hstore.song(entry["id"]) is not None:
                audio = hstore.load_audio(entry["id"])
                tmp = out.with_suffix(".part.wav")
                sf.write(tmp, np.asarray(audio).T, hstore.song(entry["id"]).sample_rate, "PCM_16")
                tmp.rename(out)
            if out.exists():
                paths.append(out)
    finally:
        hstore.close()
    if h_added:
        timings["held_out_s"] = timings.get("held_out_s", 0.0) + time.perf_counter() - t2
    timings_path.write_text(json.dumps(timings, indent=1))
    total = sum(timings.values())
    log.info("catalogue: %d songs, held-out: %d WAVs, build %.0f s", count, len(paths), total)
    return Catalogue(work, settings.data_dir, wav_dir, count, paths, total)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/work/cache/audit-bench"))
    ap.add_argument("--extra", type=int, default=CATALOGUE_EXTRA)
    ap.add_argument("--held-out", type=int, default=HELD_OUT)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    built = build(args.work, args.extra, args.held_out)
    print(f"{built.songs} songs in {built.data_dir}, {len(built.held_out)} held-out WAVs")


if __name__ == "__main__":
    main()
