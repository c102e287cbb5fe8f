"""Turning what a user types into a safe SQLite FTS5 query, and the search index's contents."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from musicapp.core import Song

# Letters and digits only: anything else (quotes, *, -, ^, :, parentheses) is FTS5 syntax or
# a separator for the unicode61 tokenizer anyway.
_WORD = re.compile(r"[^\W_]+")

# bm25 weights, one per FTS column (song_id, title, artist, album, genre, subgenre, tags): a
# match in the title should outrank the same word in the tags.
RANK_WEIGHTS = (0.0, 10.0, 6.0, 4.0, 3.0, 3.0, 1.0)

# Search ranks only this many rows of each candidate query, taken in index order (cheap:
# SQLite stops early). Ranking every match of "the r" (hundreds of thousands at a million
# songs) is what makes a naive autocomplete slow; with fewer matches the ranking sees them all.
CANDIDATES = 150


@dataclass(frozen=True)
class Suggestion:
    """One completion for the search box: a song's id, title and artist."""

    song_id: str
    title: str
    artist: str


def fts_query(text: str) -> str | None:
    """Each word as a quoted FTS5 string, all required, the last one a prefix; None if no words.

    Quoting makes words like AND, OR, NOT and NEAR plain words, so no input is a syntax error.
    """
    words = _WORD.findall(text)
    if not words:
        return None
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def fold(text: str) -> str:
    """Lower case without diacritics, as the FTS5 tokenizer sees text ("König" → "konig")."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def candidate_queries(text: str, limit: int) -> list[tuple[str, list[object]]]:
    """The SQL that search runs: titles starting with the text, then any FTS5 match.

    Neither is ranked in SQL: bm25 reads every match of every word to weigh them ("the"
    alone is in a third of the songs), which is what made a naive type-ahead slow. Each query
    instead takes its first CANDIDATES rows in index order and rank() orders them.
    """
    query = fts_query(text)
    if query is None or limit <= 0:
        return []
    cap = max(CANDIDATES, limit)
    typed = " ".join(text.split())
    cols = "title, artist, album, genre, subgenre"
    return [
        (
            f"SELECT id, {cols}, '' FROM songs WHERE title >= ? COLLATE NOCASE "
            "AND title < ? COLLATE NOCASE ORDER BY title COLLATE NOCASE LIMIT ?",
            [typed, typed + "\U0010ffff", cap],
        ),
        (
            f"SELECT song_id, {cols}, tags FROM songs_fts WHERE songs_fts MATCH ? LIMIT ?",
            [query, cap],
        ),
    ]


def rank(text: str, rows: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Candidate rows (song_id, title, artist, album, genre, subgenre, tags), best first.

    Titles that start with the typed words come first; then each word counts with its
    column's RANK_WEIGHTS weight, damped by the column's length (as bm25 does, without IDF).
    """
    words = _WORD.findall(fold(text))
    if not words:
        return []
    *whole, last = words

    def score(row: tuple[str, ...]) -> tuple[float, ...]:
        total = 0.0
        starts = 0
        for i, (weight, value) in enumerate(zip(RANK_WEIGHTS[1:], row[1:], strict=False)):
            tokens = _WORD.findall(fold(value))
            if not tokens:
                continue
            hits = sum(w in tokens for w in whole) + any(t.startswith(last) for t in tokens)
            total += weight * hits / (1.0 + 0.1 * len(tokens))
            if i == 0 and len(tokens) >= len(words) and tokens[: len(whole)] == whole:
                starts = int(tokens[len(whole)].startswith(last))
        return (-starts, -total, len(row[1]), row[0])

    return sorted(rows, key=score)


def fts_row(song: Song) -> dict[str, str]:
    """The searchable text of one song, by FTS column."""
    tags = [*song.moods, *song.instruments, song.era, song.country, song.region, song.key]
    if song.year:
        tags.append(str(song.year))
    return {
        "song_id": song.id,
        "title": song.title,
        "artist": song.artist,
        "album": song.album,
        "genre": song.genre,
        "subgenre": song.subgenre,
        "tags": " ".join(t for t in tags if t),
    }
