"""Turning what a user types into a safe SQLite FTS5 query, and the search index's contents."""

from __future__ import annotations

import re

from musicapp.core import Song

# Letters and digits only: anything else (quotes, *, -, ^, :, parentheses) is FTS5 syntax or
# a separator for the unicode61 tokenizer anyway.
_WORD = re.compile(r"[^\W_]+")

# bm25 weights, one per FTS column (song_id, title, artist, album, genre, subgenre, tags): a
# match in the title should outrank the same word in the tags.
RANK_WEIGHTS = (0.0, 10.0, 6.0, 4.0, 3.0, 3.0, 1.0)


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
