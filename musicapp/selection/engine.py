"""Mediated selection over one catalogue: prompts, "more like this", recommendations,
alternatives and proposals, each filtered by consent and verified before it is offered.

The filter is two steps. The catalogue's "usable for" masks (a browsing aid, kept by the
consent tables) narrow the index search to songs usable for the level and use asked; then every
song about to be offered is checked by the same ``ConsentService`` that verifies requests
(consent records in force, blocked records, the cache's freshness for commercial use), and a
song it refuses is dropped and the next one taken. So a stale mask can only hide a song, never
offer a refused one.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from musicapp.core import GenerationRequest, InvalidInput, Level, Reference, TimeRange, Use
from musicapp.core.consent import probe_reference, usable_bit
from musicapp.selection.describe import FEATURES_VERSION, feature_vector, standardise
from musicapp.selection.indexing import CatalogueIndexer, category_prompt
from musicapp.selection.ranking import Scored, artist_key, diversify, head_songs
from musicapp.selection.store import SelectionStore
from musicapp.selection.types import Candidate, Ranking
from musicapp.selection.vectors import VectorIndex

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.consent import ConsentService
    from musicapp.core import Song
    from musicapp.ledger import Ledger
    from musicapp.selection.embedders import Embedders

AUDIO_WEIGHT = 0.5  # without CLAP: the share of "sounds alike" in "more like this"
# The masks are a prefilter only (see the module docstring): re-read when this process changed
# them (ConsentTables.usable_version) or, for changes made by another process, after this long.
MASK_TTL_S = 60.0
HEAD_TTL_S = 60.0  # the head needs the catalogue's song count: a full count at a million
# A typed prompt's words matched in the songs' descriptions (bm25, scaled to the best match)
# add up to this to the embedding's cosine: "jig for fiddle" should find songs that say "jig"
# and "fiddle", which a sentence embedding alone ranks below looser neighbours. Tuned on the
# demo catalogue (benchmarks/selection_quality.py).
LEXICAL_WEIGHT = 0.2
MAX_WORD_SHARE = 0.25  # words in more songs than this say too little to search by


def shaped_like(song: Song, like: Reference | None, level: Level) -> Reference:
    """A reference to `song` shaped like `like` (a refused one: its level, role, part, weight),
    or a plain one at `level`; a time range is kept when it fits the song, else moved to its
    start with the same length (cut to the song)."""
    if like is None:
        return probe_reference(song.id, level)
    rng = like.time_range
    if rng is not None and rng.end_s > song.duration_s:
        length = min(rng.end_s - rng.start_s, song.duration_s)
        rng = TimeRange(0.0, length)
    return replace(like, song_id=song.id, time_range=rng, via="")


class Selector:
    """The selection engine the studio's selection room drives."""

    def __init__(
        self,
        catalog: CatalogStore,
        consent: ConsentService,
        ledger: Ledger,
        store_path: Path,
        embedders: Callable[[], Embedders],
    ) -> None:
        self.catalog = catalog
        self.consent = consent
        self.ledger = ledger
        self.store = SelectionStore(store_path)
        self._make_embedders = embedders
        self._embedders: Embedders | None = None
        self._lock = threading.RLock()
        self._indexes: dict[str, tuple[int, VectorIndex]] = {}
        self._generation = 0  # bumped when vectors are added: indexes are rebuilt lazily
        self._masks: tuple[int, float, np.ndarray] | None = None  # version, read at, by vid
        self._by_bit: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # bit: (masks, allowed)
        self._use_counts: Counter[str] = Counter()
        self._counted_to = 0  # the ledger seq use_counts has read up to
        self._head: tuple[float, frozenset[str]] | None = None
        # VectorIndex keywords (benchmarks and tests: e.g. a smaller ivf_from)
        self.index_options: dict[str, Any] = {}

    # -- models and indexes --------------------------------------------------------------------

    @property
    def embedders(self) -> Embedders:
        with self._lock:
            if self._embedders is None:
                self._embedders = self._make_embedders()
            return self._embedders

    def indexer(self) -> CatalogueIndexer:
        return CatalogueIndexer(self.catalog, self.store, self.embedders)

    def changed(self) -> None:
        """Vectors or consent changed: rebuild indexes and masks on next use."""
        with self._lock:
            self._generation += 1
            self._masks = None
            self._head = None

    @property
    def text_by(self) -> str:
        return "audio" if self.embedders.clap is not None else "description"

    def text_index(self) -> VectorIndex:
        e = self.embedders
        return self._index("text", lambda: self.store.song_vectors(e.text.key, self.text_by))

    def song_index(self) -> VectorIndex:
        """The space "more like this", recommendations and alternatives search: CLAP's audio
        embeddings, or without CLAP the analysis features and the description's embedding
        side by side (each unit length, weighted by AUDIO_WEIGHT: the inner product is the
        weighted sum of the two similarities), so "like this" means sounding alike and being
        the same kind of song."""
        e = self.embedders
        if e.clap is not None:
            key = e.clap.key
            return self._index("song", lambda: self.store.song_vectors(key, "audio"))

        def combined() -> tuple[np.ndarray, np.ndarray]:
            fvids, raw = self.store.song_features(FEATURES_VERSION)
            tvids, text = self.store.song_vectors(e.text.key, "description")
            if not len(tvids):
                return tvids, text
            out = np.zeros(
                (len(tvids), raw.shape[1] + text.shape[1] if len(fvids) else text.shape[1]),
                dtype=np.float32,
            )
            out[:, -text.shape[1] :] = text * np.sqrt(1 - AUDIO_WEIGHT)
            if len(fvids):
                mean, std = standardise(raw)
                audio = feature_vector(raw, mean, std) * np.sqrt(AUDIO_WEIGHT)
                row = {int(v): i for i, v in enumerate(tvids)}
                for v, vec in zip(fvids, audio, strict=True):
                    if int(v) in row:
                        out[row[int(v)], : raw.shape[1]] = vec
            return tvids, out

        return self._index("song", combined)

    def song_vector(self, song_ids: Sequence[str], weights: Sequence[float]) -> np.ndarray | None:
        """The weighted mean of songs' vectors in the song space (None: none is embedded)."""
        index = self.song_index()
        ids = self.store.vids(song_ids)
        acc = None
        for sid, w in zip(song_ids, weights, strict=True):
            vid = ids.get(sid)
            v = index.vector(vid) if vid is not None else None
            if v is not None:
                acc = v * w if acc is None else acc + v * w
        if acc is None:
            return None
        return (acc / max(float(np.linalg.norm(acc)), 1e-9)).astype(np.float32)

    def _index(self, name: str, load: Callable[[], tuple[np.ndarray, np.ndarray]]) -> VectorIndex:
        """The index `name` for the embedders in force: in memory, else the saved one when it
        was built from this very store revision and model (a big catalogue's index takes
        minutes to train), else built from the store's vectors (and saved when big)."""
        key = f"{name}:{self._model_key(name)}"
        with self._lock:
            built = self._indexes.get(name)
            if built is not None and built[0] == self._generation:
                return built[1]
            revision = self.store.revision()
            path = self.store.path.with_name(f"{self.store.path.stem}-{name}.faiss")
            saved = self.store.meta(f"index:{name}")
            index = None
            if saved is not None and path.is_file():
                model, _, rest = saved.rpartition("@")
                saved_dim, _, at = rest.partition(":")
                if model == key and at == revision:
                    try:
                        index = VectorIndex.load(path, int(saved_dim), **self.index_options)
                    except InvalidInput:
                        index = None  # damaged: built again below
            if index is None:
                vids, vectors = load()
                dim = vectors.shape[1] if len(vids) else 1
                index = VectorIndex(dim, **self.index_options)
                if len(vids):
                    index.add(vids, vectors)
                if index.is_ivf:
                    index.save(path)
                    self.store.set_meta(f"index:{name}", f"{key}@{index.dim}:{revision}")
            self._indexes[name] = (self._generation, index)
            return index

    def _model_key(self, name: str) -> str:
        e = self.embedders
        if e.clap is not None:
            return e.clap.key
        return e.text.key if name == "text" else f"features+{e.text.key}"

    # -- consent --------------------------------------------------------------------------------

    def allowed(self, level: Level, use: Use) -> np.ndarray:
        """A boolean array by vector id: the songs the masks call usable for level and use."""
        bit = usable_bit(level, use)
        consent = self.catalog.consent
        with self._lock:
            cached = self._masks
            fresh = (
                cached is not None
                and cached[0] == consent.usable_version
                and time.monotonic() - cached[1] < MASK_TTL_S
            )
        if not fresh:
            consent.due_usable()
            version = consent.usable_version
            vids, masks = self.store.usable_masks(Path(self.catalog.path))
            table = np.zeros(int(vids.max(initial=0)) + 1, dtype=np.int64)
            table[vids] = masks
            with self._lock:
                self._masks = cached = (version, time.monotonic(), table)
        assert cached is not None
        with self._lock:
            found = self._by_bit.get(bit)
            if found is None or found[0] is not cached[2]:
                found = (cached[2], (cached[2] & bit) != 0)
                self._by_bit[bit] = found
        return found[1]

    def verified(
        self,
        songs: Sequence[Song],
        use: Use,
        level: Level,
        like: Reference | None = None,
        beside: Sequence[Reference] = (),
    ) -> set[str]:
        """The songs the consent service allows as a reference shaped like `like` (or a plain
        one at `level`) for `use`, checked together with `beside` (the rest of a request)."""
        if not songs:
            return set()
        refs = [shaped_like(s, like, level) for s in songs]
        request = GenerationRequest(references=(*beside, *refs), use=use)
        verification = self.consent.check(request)
        return {d.reference.song_id for d in verification.decisions[len(beside) :] if d.allowed}

    # -- popularity -----------------------------------------------------------------------------

    def use_counts(self) -> Counter[str]:
        """How often each song was a reference in this ledger's takes (for the long tail).
        The ledger only grows: each call reads just the takes logged since the last one."""
        with self._lock:
            for event in self.ledger.events("generation", since_seq=self._counted_to):
                for ref in event.payload.get("request", {}).get("references", []):
                    if isinstance(ref, dict) and isinstance(ref.get("song_id"), str):
                        self._use_counts[ref["song_id"]] += 1
                self._counted_to = event.seq
            return Counter(self._use_counts)

    def head(self) -> frozenset[str]:
        """The most-used songs (ranking.head_songs), recomputed at most every HEAD_TTL_S."""
        with self._lock:
            cached = self._head
            if cached is not None and time.monotonic() - cached[0] < HEAD_TTL_S:
                return cached[1]
        head = head_songs(self.use_counts(), self.catalog.count())
        with self._lock:
            self._head = (time.monotonic(), head)
        return head

    # -- ranking --------------------------------------------------------------------------------

    def rank(
        self,
        query: str,
        index: VectorIndex,
        vector: np.ndarray,
        *,
        k: int,
        use: Use | None,
        level: Level | None,
        exclude: Sequence[str] = (),
        like: Reference | None = None,
        embedding: str,
        why: str,
        notes: Sequence[str] = (),
        head: frozenset[str] | None = None,
        diverse: bool = True,
        words: Sequence[str] = (),
    ) -> Ranking:
        """The k best songs near `vector`: consent-filtered (when `use` is given) and verified,
        diverse by artist, with a share of the long tail. With `words` (a typed prompt's), the
        songs whose descriptions hold them join the pool and each song's score gains up to
        LEXICAL_WEIGHT for them (bm25, scaled to the best match)."""
        if k < 1 or k > 200:
            raise InvalidInput(f"k: ask for 1 to 200 songs, not {k}")
        if use is not None and level is None:
            level = like.level if like is not None else Level.SONG
        allowed = self.allowed(level, use) if use is not None and level is not None else None
        skip = set(exclude)
        skip_vids = set(self.store.vids(skip).values())
        if allowed is not None and skip_vids:
            allowed = allowed.copy()
            allowed[[v for v in skip_vids if v < len(allowed)]] = False
        if head is None:
            head = self.head()
        pool_size = max(20, 4 * k)
        picked: list[tuple[Scored, bool]] = []
        for _attempt in range(4):
            scores, vids = index.search(vector, pool_size + len(skip_vids), allowed)
            dense = {int(v): float(s) for s, v in zip(scores[0], vids[0], strict=True) if v >= 0}
            dense = self._with_words(dense, words, index, vector, allowed, pool_size)
            names = self.store.song_ids(dense)
            found = sorted(
                ((names[v], s) for v, s in dense.items() if v in names and names[v] not in skip),
                key=lambda item: -item[1],
            )
            songs = self.catalog.songs([sid for sid, _ in found])
            ok = (
                self.verified([songs[s] for s, _ in found if s in songs], use, level, like)
                if use is not None and level is not None
                else set(songs)
            )
            pool = [Scored(s, artist_key(songs[s].artist, s), sc) for s, sc in found if s in ok]
            picked = (
                diversify(pool, k, head)
                if diverse
                else diversify(pool, k, frozenset(), per_artist=k, tail_share=0.0)
            )
            exhausted = len(found) < pool_size
            if len(picked) >= k or exhausted:
                break
            pool_size *= 4  # refusals thinned the pool: look further
        candidates = tuple(
            Candidate(songs[item.song_id], round(item.score, 4), why, tail, use is not None)
            for item, tail in picked
        )
        return Ranking(query, candidates, embedding, level if use else None, use, tuple(notes))

    def _with_words(
        self,
        dense: dict[int, float],
        words: Sequence[str],
        index: VectorIndex,
        vector: np.ndarray,
        allowed: np.ndarray | None,
        limit: int,
    ) -> dict[int, float]:
        """Dense scores plus the lexical bonus; songs found only by their words get their dense
        score from their stored vector."""
        if not words:
            return dense
        found = self.store.lexical(words, limit, MAX_WORD_SHARE)
        if not found:
            return dense
        best = max(score for _, score in found)
        out = dict(dense)
        for vid, score in found:
            if allowed is not None and (vid >= len(allowed) or not allowed[vid]):
                continue
            if vid not in out:
                stored = index.vector(vid)
                if stored is None:
                    continue
                out[vid] = float(stored @ vector)
            out[vid] += LEXICAL_WEIGHT * score / best
        return out

    def query_vector(self, text: str, categories: Sequence[str]) -> np.ndarray:
        """The text-space vector of a prompt and its category chips (their mean)."""
        parts = [t for t in (text.strip(),) if t] + [category_prompt(c) for c in categories]
        if not parts:
            raise InvalidInput("prompt: type a description or choose a category")
        vectors = self.embedders.text.embed_texts(parts)
        v = vectors.mean(axis=0)
        return (v / max(float(np.linalg.norm(v)), 1e-9)).astype(np.float32)
