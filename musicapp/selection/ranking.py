"""Turning nearest neighbours into a list a musician can use: diverse, with a long tail.

Plain similarity lists fill up with one artist (ten fiddle reels by "Traditional (American)")
and with what everybody already uses. ``diversify`` caps each artist's share of the list and
keeps a share of its places for the long tail: songs outside the most-used fifth of the
catalogue, by how often the ledger shows them used as references. Relevance still orders the
list: a long-tail song only takes a place from a head song when it is within reach of the pool.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

HEAD_FRACTION = 0.2  # the most-used fifth of the catalogue is the "head"
TAIL_SHARE = 0.3  # at least this share of a list comes from the long tail, when it can


@dataclass(frozen=True)
class Scored:
    song_id: str
    artist: str
    score: float


# Catalogue placeholders for "no known artist": songs under them are not one artist's.
NO_ARTIST = ("traditional", "anonymous", "unknown", "various")


def artist_key(artist: str, song_id: str) -> str:
    """Whom a song counts against in the per-artist cap: its artist, or, under a placeholder
    ("Traditional (Irish)", "Anonymous"), nobody but itself."""
    name = artist.strip().lower()
    return f"\0{song_id}" if not name or name.startswith(NO_ARTIST) else name


def head_songs(use_counts: Mapping[str, int], catalogue_size: int) -> frozenset[str]:
    """The most-used songs: the top HEAD_FRACTION of the catalogue by use. Empty (no head, no
    tail to speak of) until at least that many songs have been used: two songs used in a
    catalogue of sixty do not make the other fifty-eight "the long tail"."""
    used = sorted((n, sid) for sid, n in use_counts.items() if n > 0)
    size = max(1, math.ceil(catalogue_size * HEAD_FRACTION))
    if len(used) < size:
        return frozenset()
    return frozenset(sid for _, sid in used[-size:])


def diversify(
    pool: Sequence[Scored],
    k: int,
    head: frozenset[str],
    per_artist: int | None = None,
    tail_share: float = TAIL_SHARE,
) -> list[tuple[Scored, bool]]:
    """Up to k of `pool` (best first): at most `per_artist` per artist (default a quarter of
    the list, at least 1), and at least `tail_share` of the list from outside `head` when the
    pool has them. Returns (item, is_long_tail) pairs; is_long_tail is False for every item
    when there is no usage to tell head from tail."""
    pool = sorted(pool, key=lambda s: -s.score)
    cap = per_artist or max(1, math.ceil(k / 4))
    chosen: list[Scored] = []
    artists: Counter[str] = Counter()
    for item in pool:
        if len(chosen) == k:
            break
        if artists[item.artist] < cap:
            chosen.append(item)
            artists[item.artist] += 1
    if len(chosen) < k:  # a small pool: relax the cap rather than return a short list
        for item in pool:
            if len(chosen) == k:
                break
            if item not in chosen:
                chosen.append(item)
    if head:
        want = math.ceil(len(chosen) * tail_share)
        have = sum(1 for c in chosen if c.song_id not in head)
        spare = [p for p in pool if p.song_id not in head and p not in chosen]
        for item in spare:
            if have >= want:
                break
            heads = [c for c in chosen if c.song_id in head]
            if not heads:
                break
            weakest = heads[-1]  # the weakest head song gives its place
            if artists[item.artist] - (item.artist == weakest.artist) >= cap:
                continue
            chosen.remove(weakest)
            artists[weakest.artist] -= 1
            chosen.append(item)
            artists[item.artist] += 1
            have += 1
        chosen.sort(key=lambda s: -s.score)
    return [(c, bool(head) and c.song_id not in head) for c in chosen]
