"""The browser's hierarchies: their levels as SQL, the node-count table's triggers and rebuild.

Counts per node live in `tree_counts` (hierarchy, parent path, label → songs under it), kept by
triggers, because counting a genre's songs at a million rows means reading them all. A node's
parent is its path joined by U+001F. Leaves (songs) are read from indexed tables, page by page.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

UNKNOWN = "Unknown"
SEP = "\x1f"


def _label(column: str) -> str:
    return f"coalesce(nullif(s.{column}, ''), '{UNKNOWN}')"


_DECADE = f"CASE WHEN s.year IS NULL THEN '{UNKNOWN}' ELSE (s.year / 10 * 10) || 's' END"
_YEAR = f"coalesce(CAST(s.year AS TEXT), '{UNKNOWN}')"


@dataclass(frozen=True)
class Hierarchy:
    """One way to browse: the label of each level above the songs, as SQL over row `s`.

    `source` is the table the levels read: songs, or song_instruments for the instrument tree.
    `leaf` names the source's columns that the path's labels select, one per level (None where
    a level is implied by the next one, like a decade by its year).
    """

    key: str
    label: str
    levels: tuple[str, ...]
    leaf: tuple[str | None, ...]
    source: str = "songs"


HIERARCHIES: tuple[Hierarchy, ...] = (
    Hierarchy(
        "genre",
        "Genre › artist › album",
        (_label("genre"), _label("artist"), _label("album")),
        ("genre", "artist", "album"),
    ),
    Hierarchy(
        "subgenre",
        "Genre › subgenre › artist › album",
        (_label("genre"), _label("subgenre"), _label("artist"), _label("album")),
        ("genre", "subgenre", "artist", "album"),
    ),
    Hierarchy("decade", "Decade › year", (_DECADE, _YEAR), (None, "year")),
    Hierarchy(
        "place",
        "Country › region › artist",
        (_label("country"), _label("region"), _label("artist")),
        ("country", "region", "artist"),
    ),
    Hierarchy(
        "instrument",
        "Instrument family › instrument",
        (_label("family"), _label("instrument")),
        ("family", "instrument"),
        source="song_instruments",
    ),
)
BY_KEY = {h.key: h for h in HIERARCHIES}


def _parent(h: Hierarchy, depth: int) -> str:
    if depth == 0:
        return "''"
    return " || char(31) || ".join(h.levels[:depth])


def _count_rows(h: Hierarchy, row: str) -> list[tuple[str, str]]:
    """(parent, label) SQL per level, over the trigger row `row` (NEW or OLD)."""
    out = []
    for depth in range(len(h.levels)):
        parent = _parent(h, depth).replace("s.", f"{row}.")
        out.append((parent, h.levels[depth].replace("s.", f"{row}.")))
    return out


def trigger_sql() -> list[str]:
    """CREATE TRIGGER statements that keep tree_counts and song_instruments up to date."""
    out = [
        # One row per song and instrument, with the title to order the instrument's songs by.
        "CREATE TRIGGER tree_stems_insert AFTER INSERT ON stems BEGIN "
        "INSERT OR IGNORE INTO song_instruments (song_id, family, instrument, title) "
        "SELECT NEW.song_id, NEW.family, NEW.instrument, title FROM songs WHERE id = NEW.song_id; "
        "END",
    ]
    for source in ("songs", "song_instruments"):
        inserts, deletes = [], []
        for h in (h for h in HIERARCHIES if h.source == source):
            for parent, label in _count_rows(h, "NEW"):
                inserts.append(
                    f"INSERT INTO tree_counts (hierarchy, parent, label, n) "
                    f"VALUES ('{h.key}', {parent}, {label}, 1) "
                    "ON CONFLICT DO UPDATE SET n = n + 1;"
                )
            for parent, label in _count_rows(h, "OLD"):
                key = f"hierarchy = '{h.key}' AND parent = {parent} AND label = {label}"
                deletes.append(f"UPDATE tree_counts SET n = n - 1 WHERE {key};")
                deletes.append(f"DELETE FROM tree_counts WHERE {key} AND n <= 0;")
        if source == "songs":
            deletes.append("DELETE FROM song_instruments WHERE song_id = OLD.id;")
        out.append(
            f"CREATE TRIGGER tree_{source}_insert AFTER INSERT ON {source} BEGIN "
            + " ".join(inserts)
            + " END"
        )
        out.append(
            f"CREATE TRIGGER tree_{source}_delete AFTER DELETE ON {source} BEGIN "
            + " ".join(deletes)
            + " END"
        )
    return out


TRIGGERS = (
    "tree_stems_insert",
    "tree_songs_insert",
    "tree_songs_delete",
    "tree_song_instruments_insert",
    "tree_song_instruments_delete",
)


def drop_triggers(db: Database) -> None:
    for name in TRIGGERS:
        db.execute(f"DROP TRIGGER IF EXISTS {name}")


def create_triggers(db: Database) -> None:
    for statement in trigger_sql():
        db.execute(statement)


def rebuild(db: Database) -> None:
    """Recount every node from the songs and stems (after a bulk load, or in the migration)."""
    db.execute("DELETE FROM song_instruments")
    db.execute(
        "INSERT OR IGNORE INTO song_instruments (song_id, family, instrument, title) "
        "SELECT st.song_id, st.family, st.instrument, s.title "
        "FROM stems st JOIN songs s ON s.id = st.song_id"
    )
    db.execute("DELETE FROM tree_counts")
    for h in HIERARCHIES:
        for depth in range(len(h.levels)):
            db.execute(
                "INSERT INTO tree_counts (hierarchy, parent, label, n) "
                f"SELECT '{h.key}', {_parent(h, depth)}, {h.levels[depth]}, COUNT(*) "
                f"FROM {h.source} s GROUP BY 2, 3"
            )


def leaf_where(h: Hierarchy, path: tuple[str, ...]) -> tuple[str, list[object]]:
    """The WHERE clause (and its parameters) selecting the songs under a full path."""
    terms: list[str] = []
    params: list[object] = []
    for column, label in zip(h.leaf, path, strict=True):
        if column is None:
            continue
        if column == "year":
            if label == UNKNOWN:
                terms.append("year IS NULL")
            else:
                terms.append("year = ?")
                params.append(int(label) if label.isdigit() else -1)
        elif label == UNKNOWN:
            terms.append(f"{column} IN ('', '{UNKNOWN}')")
        else:
            terms.append(f"{column} = ?")
            params.append(label)
    return " AND ".join(terms) or "1", params
