"""Public-domain tunes from music21's corpus, to widen the training set beyond the catalogue.

The catalogue alone (tens of songs) is too little to learn from, so a run may add tunes whose
copyright has long expired: O'Neill's Music of Ireland (1850), Ryan's Mammoth Collection (1883),
German folksongs of the Essen collection and Bach's chorales. They have no rights holder and
earn nothing; the training event still lists each one by its corpus path and tune number.

A tune the demo catalogue already holds (the same file and number, or the same title) is never
drawn: in the catalogue it has holders whose consent decides, and a copy of it here would
bypass a refusal or a revocation. The draw is seeded, so a seed names the same tunes.

Parsing a tune takes music21 a fraction of a second; the tokens of every tune parsed are kept
in a cache file (per tokenizer) in the data folder, so the next run reads them back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musicapp.jobs import CancelToken, Progress, ProgressCallback, no_progress

log = logging.getLogger(__name__)

STAGE = "public-domain tunes"
# (collection, glob under the corpus root, share of the tunes drawn)
POOLS: tuple[tuple[str, str, float], ...] = (
    ("oneills", "oneills1850/[0-9]*-*.abc", 0.3),
    ("ryans", "ryansMammoth/*.abc", 0.3),
    ("essen", "essenFolksong/[abefkz]*.abc", 0.2),
    ("bach", "bach/bwv*.mxl", 0.2),
)
# Tunes shorter than this (tokens) teach little. A tune longer than MAX_TOKENS is longer than
# any in these books: music21 took in more than one tune (an ABC file whose X: numbers it
# could not tell apart), so it is left out rather than trained on as one piece.
MIN_TOKENS = 64
MAX_TOKENS = 6000


@dataclass(frozen=True)
class Tune:
    """One public-domain tune: where it is in the corpus, and its title."""

    collection: str
    source: str  # path under the corpus root, as corpus.parse takes it
    number: int | None  # the tune's X: number in an ABC file of many tunes
    title: str

    @property
    def id(self) -> str:
        return f"pd:{self.source}" + (f"#{self.number}" if self.number is not None else "")


def corpus_root() -> Path:
    """The folder of music21's bundled corpus."""
    from music21 import corpus

    first = Path(corpus.getCorePaths()[0])
    return next(p for p in first.parents if p.name == "corpus")


def fold_title(title: str) -> str:
    """A title reduced so one tune printed in two books compares equal."""
    t = re.sub(r"[^a-z ]", "", title.lower())
    t = re.sub(r"\b(the|a|an|reel|jig|hornpipe|strathspey|air)\b", " ", t)
    return " ".join(t.split())


def _abc_headers(path: Path) -> list[tuple[int, str]]:
    """(X: number, first T: title) of each tune in an ABC file, from the header lines only."""
    found: list[tuple[int, str]] = []
    number: int | None = None
    for line in path.read_text("latin-1").splitlines():
        if line.startswith("X:"):
            digits = "".join(ch for ch in line[2:] if ch.isdigit())
            number = int(digits) if digits else None
        elif line.startswith("T:") and number is not None:
            found.append((number, line[2:].strip().rstrip(".")))
            number = None
    return found


def all_tunes(root: Path) -> dict[str, list[Tune]]:
    """Every tune of each pool, in a fixed order (sorted paths, then file order)."""
    out: dict[str, list[Tune]] = {}
    for collection, pattern, _share in POOLS:
        tunes: list[Tune] = []
        numbers: set[int] = set()
        for path in sorted(root.glob(pattern)):
            rel = path.relative_to(root).as_posix()
            if path.suffix == ".mxl":
                tunes.append(Tune(collection, rel.removesuffix(".mxl"), None, path.stem))
                continue
            headers = _abc_headers(path)
            if collection == "ryans":  # only the files of one tune: the others are medleys
                if len(headers) == 1:
                    tunes.append(Tune(collection, rel, None, headers[0][1]))
                continue
            for number, title in headers:
                if collection == "oneills" and number in numbers:
                    continue  # two of O'Neill's files overlap: one tune is drawn once
                numbers.add(number)
                tunes.append(Tune(collection, rel, number, title))
        out[collection] = tunes
    return out


def draw(
    count: int,
    seed: int,
    avoid_sources: set[tuple[str, int | None]],
    avoid_titles: set[str],
    root: Path | None = None,
) -> list[Tune]:
    """Candidates for ``count`` tunes, seeded: each pool's in draw order, twice its share and a
    few more (some will not parse, or are too short or long; ``tokenised`` takes each pool's
    share of those that do). Tunes the catalogue holds (by source and number, or title) are
    left out."""
    rng = random.Random(seed)
    pools = all_tunes(root or corpus_root())
    out: list[Tune] = []
    titles = set(avoid_titles)
    for collection, _pattern, share in POOLS:
        pool = [
            t
            for t in pools[collection]
            if (t.source, t.number) not in avoid_sources and fold_title(t.title) not in titles
        ]
        rng.shuffle(pool)
        want = round(count * share) * 2 + 4
        picked: list[Tune] = []
        for t in pool:
            key = fold_title(t.title)
            if collection != "bach" and key in titles:
                continue
            if collection != "bach":
                titles.add(key)
            picked.append(t)
            if len(picked) >= want:
                break
        out.extend(picked)
    return out


def _to_score(tune: Tune) -> Any:
    """The tune parsed by music21 and written as MIDI, read back by symusic."""
    import symusic
    from music21 import corpus, stream

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = corpus.parse(tune.source, number=tune.number, forceSource=True)
        if isinstance(parsed, stream.Opus):
            parsed = parsed.scores[0]
        fd, tmp = tempfile.mkstemp(suffix=".mid")
        os.close(fd)
        try:
            parsed.write("midi", fp=tmp)
            return symusic.Score(tmp)
        finally:
            Path(tmp).unlink(missing_ok=True)


class TokenCache:
    """Token ids of tunes already parsed, by tune id, in one JSON file per tokenizer."""

    def __init__(self, folder: Path | None, tokenizer_name: str) -> None:
        self.path = None if folder is None else Path(folder) / f"pd-tokens-{tokenizer_name}.json"
        self._data: dict[str, Any] = {}
        self._dirty = False
        if self.path is not None and self.path.is_file():
            try:
                self._data = json.loads(self.path.read_text("utf-8"))
            except (OSError, ValueError) as exc:  # a damaged cache is rebuilt, not trusted
                log.warning("token cache %s unreadable (%s): rebuilt", self.path, exc)

    def get(self, tune_id: str) -> dict[str, Any] | None:
        entry = self._data.get(tune_id)
        return entry if isinstance(entry, dict) else None

    def put(self, tune_id: str, entry: dict[str, Any]) -> None:
        self._data[tune_id] = entry
        self._dirty = True

    def save(self) -> None:
        """Write the cache through a temporary file renamed into place."""
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(self._data, f, separators=(",", ":"))
        os.replace(tmp, self.path)
        self._dirty = False


def tokens_sha256(ids: list[int]) -> str:
    """The sha256 of a token sequence (its ids, comma-separated): what a training event names."""
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()


def tokenised(
    tunes: list[Tune],
    count: int,
    cache_dir: Path | None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> list[tuple[Tune, list[int]]]:
    """``count`` tunes with their tokens: of each pool, the first of its share (in draw order)
    that parse into MIN_TOKENS to MAX_TOKENS tokens; tunes that fail are logged and skipped
    (their failure is cached too)."""
    from musicapp.generation.composer import tokens

    cache = TokenCache(cache_dir, tokens.TOKENIZER_NAME)
    out: list[tuple[Tune, list[int]]] = []
    quota = {c: round(count * share) for c, _p, share in POOLS}
    taken = dict.fromkeys(quota, 0)
    total = max(1, sum(quota.values()))
    try:
        for tune in tunes:
            if taken.get(tune.collection, 0) >= quota.get(tune.collection, 0):
                continue
            if cancel is not None:
                cancel.check()
            entry = cache.get(tune.id)
            if entry is None:
                try:
                    entry = {"ids": tokens.encode(_to_score(tune))}
                except Exception as exc:  # music21 raises many kinds on scores it cannot read
                    entry = {"error": f"{type(exc).__name__}: {exc}"[:200]}
                cache.put(tune.id, entry)
            ids = entry.get("ids")
            if not isinstance(ids, list) or not MIN_TOKENS <= len(ids) <= MAX_TOKENS:
                why = entry.get("error") or f"{len(ids or [])} tokens"
                log.info("public-domain tune %s skipped: %s", tune.id, why)
                continue
            out.append((tune, [int(i) for i in ids]))
            taken[tune.collection] += 1
            progress(Progress(len(out) / total, STAGE, f"{tune.id} ({len(ids)} tokens)"))
    finally:
        cache.save()
    return out
