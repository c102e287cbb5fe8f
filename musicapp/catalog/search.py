"""Turning what a user types into a safe SQLite FTS5 query, and the search index's contents."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from musicapp.core import Level, Song, Use

# Letters and digits only: anything else (quotes, *, -, ^, :, parentheses) is FTS5 syntax or
# a separator for the unicode61 tokenizer anyway.
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SearchFilters:
    """What search results and completions are narrowed to; None means any.

    `level` and `use` go together: only songs whose every rights holder allows that level for
    that use (the consent policy's own decision) pass. A level alone means private use.
    `genre` and `era` are the songs' own labels (as in the browser); `instrument` is an
    instrument family ("guitar", "strings") or an instrument ("Violin").
    """

    level: Level | None = None
    use: Use | None = None
    genre: str | None = None
    era: str | None = None
    instrument: str | None = None

    @property
    def active(self) -> bool:
        return any(
            v is not None for v in (self.level, self.use, self.genre, self.era, self.instrument)
        )


@dataclass(frozen=True)
class Suggestion:
    """One completion for the search box: a song's id, title and artist, and its album and
    year so that songs of the same title and artist are told apart."""

    song_id: str
    title: str
    artist: str
    album: str = ""
    year: int | None = None

    def label(self) -> str:
        """ "Title — Artist (Album, Year)", the album and year where known."""
        extra = ", ".join(x for x in (self.album, str(self.year) if self.year else "") if x)
        return f"{self.title} — {self.artist}" + (f" ({extra})" if extra else "")


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


def filter_clause(filters: SearchFilters | None) -> tuple[str, dict[str, object]]:
    """SQL conditions on songs row `s` for `filters` (" AND ..." or ""), and their parameters."""
    if filters is None or not filters.active:
        return "", {}
    from musicapp.core import usable_bit  # the consent policy's bit for (level, use)

    parts: list[str] = []
    params: dict[str, object] = {}
    if filters.genre is not None:
        parts.append("s.genre = :f_genre")
        params["f_genre"] = filters.genre
    if filters.era is not None:
        parts.append("s.era = :f_era")
        params["f_era"] = filters.era
    if filters.instrument is not None:
        parts.append(
            "EXISTS (SELECT 1 FROM song_instruments i WHERE i.song_id = s.id "
            "AND (i.family = :f_inst OR i.instrument = :f_inst))"
        )
        params["f_inst"] = filters.instrument
    if filters.level is not None or filters.use is not None:
        bit = usable_bit(filters.level or Level.SONG, filters.use or Use.PRIVATE)
        parts.append("EXISTS (SELECT 1 FROM usable u WHERE u.song_id = s.id AND u.mask & :f_bit)")
        params["f_bit"] = bit
    return "".join(f" AND {p}" for p in parts), params


# The word matches of search come from the first CANDIDATES rows FTS5 finds, in index order,
# ordered by where the words are. bm25 is not used: it reads every match of every word to
# weigh them ("the" alone is in a third of the songs), which is what made a naive type-ahead
# slow; a column filter ("{title} : ...") is as slow when the words are mostly elsewhere.
CANDIDATES = 50

# Where a word counts most: a title that has it beats an artist, then an album; then shorter
# titles. Plain lower() in SQL: a title with diacritics still matches, only ranks lower.
_WHERE_SCORE = " + ".join(
    f"{w} * (instr(' ' || lower({col}), :last) > 0)"
    for col, w in (("title", 4), ("artist", 2), ("album", 1))
)


def tier_queries(
    text: str, limit: int, filters: SearchFilters | None = None
) -> list[tuple[str, dict[str, object]]]:
    """The SQL of search, in rank order; the store runs them until `limit` songs are found.

    First the titles that start with the typed text (from the title index, shortest first),
    then FTS5 matches of every word (the last as a prefix), ordered by _WHERE_SCORE. Rows:
    (song_id, title, artist).
    """
    query = fts_query(text)
    if query is None or limit <= 0:
        return []
    where, params = filter_clause(filters)
    typed = " ".join(text.split())
    last = _WORD.findall(fold(text))[-1]
    params |= {
        "typed": typed,
        "typed_end": typed + "\U0010ffff",
        "cap": max(CANDIDATES, limit),
        "query": query,
        "last": " " + last,
    }
    # MATERIALIZED keeps SQLite from flattening the capped subqueries into the ordered outer
    # query, which would order every match (a second for "the r") instead of CANDIDATES.
    by_title = (
        "WITH m AS MATERIALIZED (SELECT s.id, s.title, s.artist FROM songs s "
        f"WHERE s.title >= :typed COLLATE NOCASE AND s.title < :typed_end COLLATE NOCASE{where} "
        "ORDER BY s.title COLLATE NOCASE LIMIT :cap) "
        "SELECT id, title, artist FROM m ORDER BY length(title), title, id"
    )
    if where:
        matches = (
            "SELECT f.song_id, f.title, f.artist, f.album FROM songs_fts f JOIN songs s "
            f"ON s.id = f.song_id WHERE songs_fts MATCH :query{where} LIMIT :cap"
        )
    else:
        matches = (
            "SELECT song_id, title, artist, album FROM songs_fts "
            "WHERE songs_fts MATCH :query LIMIT :cap"
        )
    by_words = (
        f"WITH m AS MATERIALIZED ({matches}) SELECT song_id, title, artist FROM m "
        f"ORDER BY {_WHERE_SCORE} DESC, length(title), title, song_id"
    )
    return [(by_title, params), (by_words, params)]


def browse_query(filters: SearchFilters, limit: int) -> tuple[str, dict[str, object]]:
    """Songs passing `filters` with no text typed, in the browser's order."""
    where, params = filter_clause(filters)
    sql = (
        "SELECT s.id, s.title, s.artist FROM songs s "
        f"WHERE 1{where} ORDER BY s.genre, s.artist, s.album, s.title, s.id LIMIT :limit"
    )
    return sql, params | {"limit": limit}


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
