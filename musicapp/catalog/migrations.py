"""The catalogue's SQLite schema as numbered migrations, applied in order on open (Vorta-style)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlite_utils import Database

from musicapp.catalog import hierarchy

# Both the table definition and the search code depend on these columns being in this order:
# bm25() takes one weight per column.
FTS_COLUMNS = ("song_id", "title", "artist", "album", "genre", "subgenre", "tags")


def _run(db: Database, statements: str) -> None:
    # Not executescript(): it commits first, which would break the migration's transaction.
    for statement in statements.split(";\n"):
        if statement.strip():
            db.execute(statement)


def _v1_tables(db: Database) -> None:
    _run(
        db,
        """
        CREATE TABLE songs (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            artist TEXT NOT NULL,
            album TEXT NOT NULL,
            genre TEXT NOT NULL,
            subgenre TEXT NOT NULL DEFAULT '',
            year INTEGER,
            era TEXT NOT NULL DEFAULT '',
            country TEXT NOT NULL DEFAULT '',
            region TEXT NOT NULL DEFAULT '',
            instruments TEXT NOT NULL DEFAULT '[]',
            moods TEXT NOT NULL DEFAULT '[]',
            duration_s REAL NOT NULL,
            tempo_bpm REAL,
            key TEXT NOT NULL DEFAULT '',
            mix_gain REAL NOT NULL DEFAULT 1.0,
            added_at TEXT NOT NULL
        );
        CREATE INDEX songs_tree ON songs (genre, artist, album);
        CREATE TABLE holders (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL
        );
        CREATE TABLE splits (
            song_id TEXT NOT NULL REFERENCES songs(id),
            holder_id TEXT NOT NULL REFERENCES holders(id),
            share REAL NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (song_id, holder_id)
        );
        CREATE TABLE stems (
            song_id TEXT NOT NULL REFERENCES songs(id),
            name TEXT NOT NULL,
            instrument TEXT NOT NULL,
            family TEXT NOT NULL,
            role TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (song_id, name)
        );
        CREATE TABLE consent (
            song_id TEXT NOT NULL REFERENCES songs(id),
            holder_id TEXT NOT NULL REFERENCES holders(id),
            version INTEGER NOT NULL,
            permissions TEXT NOT NULL,
            uses TEXT NOT NULL,
            effective_from TEXT NOT NULL,
            revoked_at TEXT,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (song_id, holder_id, version)
        );
        """,
    )


def _v2_search(db: Database) -> None:
    # Prefix indexes for 2 and 3 characters keep type-ahead queries fast; remove_diacritics 2
    # lets "konig" find "König".
    db.execute(
        f"CREATE VIRTUAL TABLE songs_fts USING fts5({FTS_COLUMNS[0]} UNINDEXED, "
        + ", ".join(FTS_COLUMNS[1:])
        + ", prefix='2 3', tokenize=\"unicode61 remove_diacritics 2\")"
    )
    db.execute(
        """
        INSERT INTO songs_fts (song_id, title, artist, album, genre, subgenre, tags)
        SELECT id, title, artist, album, genre, subgenre,
               instruments || ' ' || moods || ' ' || era || ' ' || country || ' ' || region
        FROM songs
        """
    )


def _v3_append_only_consent(db: Database) -> None:
    # Consent is evidence: a change is a new version, never an edit, so even a bug or a hand
    # edit through the app's connection cannot rewrite history.
    _run(
        db,
        """
        CREATE TRIGGER consent_no_update BEFORE UPDATE ON consent
        BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
        CREATE TRIGGER consent_no_delete BEFORE DELETE ON consent
        BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
        """,
    )


def _v4_meter(db: Database) -> None:
    # The generation engine cuts references into bars: the score's meter and first downbeat
    # are exact, where estimating them from audio is right only about two times in three.
    _run(
        db,
        """
        ALTER TABLE songs ADD COLUMN beats_per_bar INTEGER NOT NULL DEFAULT 4;
        ALTER TABLE songs ADD COLUMN downbeat_s REAL NOT NULL DEFAULT 0.0
        """,
    )


def _v_hierarchies_and_prefix1(db: Database) -> None:
    # Browsing a million songs: node counts kept by triggers (hierarchy.py), indexes that give
    # each hierarchy's songs in title order, page by page.
    _run(
        db,
        """
        CREATE TABLE tree_counts (
            hierarchy TEXT NOT NULL,
            parent TEXT NOT NULL,
            label TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (hierarchy, parent, label)
        ) WITHOUT ROWID;
        CREATE INDEX tree_counts_order ON tree_counts (hierarchy, parent, label COLLATE NOCASE, n);
        CREATE TABLE song_instruments (
            song_id TEXT NOT NULL,
            family TEXT NOT NULL,
            instrument TEXT NOT NULL,
            title TEXT NOT NULL,
            PRIMARY KEY (song_id, instrument)
        ) WITHOUT ROWID;
        CREATE INDEX song_instruments_tree
            ON song_instruments (family, instrument, title COLLATE NOCASE, song_id);
        CREATE INDEX songs_year ON songs (year, title COLLATE NOCASE, id);
        CREATE INDEX songs_place ON songs (country, region, artist);
        CREATE INDEX songs_subgenre ON songs (genre, subgenre, artist, album);
        CREATE INDEX songs_title ON songs (title COLLATE NOCASE)
        """,
    )
    hierarchy.rebuild(db)
    hierarchy.create_triggers(db)
    # A one-letter prefix index: without it FTS5 merges every term's doclist that starts with
    # the letter ("the r" after typing one letter), which is the slow part of autocomplete.
    db.execute(
        f"CREATE VIRTUAL TABLE songs_fts_new USING fts5({FTS_COLUMNS[0]} UNINDEXED, "
        + ", ".join(FTS_COLUMNS[1:])
        + ", prefix='1 2 3', tokenize=\"unicode61 remove_diacritics 2\")"
    )
    cols = ", ".join(FTS_COLUMNS)
    db.execute(f"INSERT INTO songs_fts_new (rowid, {cols}) SELECT rowid, {cols} FROM songs_fts")
    db.execute("DROP TABLE songs_fts")
    db.execute("ALTER TABLE songs_fts_new RENAME TO songs_fts")


def _v_import_hashes(db: Database) -> None:
    # Import is incremental: a file whose bytes were imported before is skipped. The content
    # hash is the key, so a moved file is still known; the path finds an earlier version of a
    # changed file.
    _run(
        db,
        """
        CREATE TABLE imported_files (
            content_hash TEXT PRIMARY KEY,
            path TEXT NOT NULL,
            song_id TEXT NOT NULL REFERENCES songs(id),
            imported_at TEXT NOT NULL
        );
        CREATE INDEX imported_files_path ON imported_files (path)
        """,
    )


def _v_usable(db: Database) -> None:
    # The search filter "usable for this level and use" at a million songs: each song's consent
    # decisions as a bit mask (core.consent.usable_mask), derived from the consent table and
    # never the record of it. recheck_at is when a decision may change by itself (a version
    # taking effect, a revocation date); the store recomputes rows whose time has come, and
    # the rows seeded here ('' = now) on first use.
    _run(
        db,
        """
        CREATE TABLE usable (
            song_id TEXT PRIMARY KEY REFERENCES songs(id),
            mask INTEGER NOT NULL,
            recheck_at TEXT
        ) WITHOUT ROWID;
        CREATE INDEX usable_recheck ON usable (recheck_at) WHERE recheck_at IS NOT NULL;
        INSERT INTO usable (song_id, mask, recheck_at) SELECT DISTINCT song_id, 0, '' FROM consent
        """,
    )


def _v_registry_consent(db: Database) -> None:
    # Consent as a rights server published it, kept apart from the records seeded here (the
    # demo, an import manifest). The server is the source of truth: for a song and holder it has
    # published, its versions are the ones in force and the ones a verification cites (the
    # server prices statements by them), even where a local seed has the same version number.
    # Keyed by server, so a folder that started over with another server keeps the old one's
    # records as evidence without mixing them in. Append-only like consent; catalog_meta names
    # the server in force.
    _run(
        db,
        """
        CREATE TABLE registry_consent (
            server TEXT NOT NULL,
            song_id TEXT NOT NULL REFERENCES songs(id),
            holder_id TEXT NOT NULL REFERENCES holders(id),
            version INTEGER NOT NULL,
            permissions TEXT NOT NULL,
            uses TEXT NOT NULL,
            effective_from TEXT NOT NULL,
            revoked_at TEXT,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (server, song_id, holder_id, version)
        );
        CREATE TRIGGER registry_consent_no_update BEFORE UPDATE ON registry_consent
        BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
        CREATE TRIGGER registry_consent_no_delete BEFORE DELETE ON registry_consent
        BEGIN SELECT RAISE(ABORT, 'consent records are append-only'); END;
        CREATE TABLE catalog_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
        """,
    )


def _v_source_rate(db: Database) -> None:
    # Real recordings are kept at their own rate (44.1, 48 kHz, ...) and image. Songs stored
    # before this were resampled to 32 kHz. stem_layout says how a song's mono stems sit in its
    # mix: 'spread' (rendered parts: mix.pan_positions, constant power, times mix_gain; every
    # older song) or 'recorded' (imported stems: a mono one in the centre on both sides, a
    # stereo one as it is). mix_file names the song's own full mix in its folder; '' when the
    # mix is the sum of its stems. Songs imported before this keep their channels as stems of
    # role 'mix' (mix.MIX_STEMS), which the store still reads as their own mix.
    _run(
        db,
        """
        ALTER TABLE songs ADD COLUMN sample_rate INTEGER NOT NULL DEFAULT 32000;
        ALTER TABLE songs ADD COLUMN stem_layout TEXT NOT NULL DEFAULT 'spread';
        ALTER TABLE songs ADD COLUMN mix_file TEXT NOT NULL DEFAULT ''
        """,
    )
    # Those channels are not instruments: drop them from the instrument tree (its counts follow
    # by trigger); the rows in stems stay, since they say which files hold the mix.
    db.execute("DELETE FROM song_instruments WHERE family = 'mix'")


def _v_split_versions(db: Database) -> None:
    # Splits change (a corrected manifest) without rewriting history: the splits table holds
    # each song's first splits (version 1, from when it was added), and every change is a new
    # version here, in force from its effective_from, logged in the ledger first (event_id).
    # Takes keep the royalties computed when they were made; new takes use the latest version.
    _run(
        db,
        """
        CREATE TABLE split_versions (
            song_id TEXT NOT NULL REFERENCES songs(id),
            version INTEGER NOT NULL,
            holder_id TEXT NOT NULL REFERENCES holders(id),
            share REAL NOT NULL,
            position INTEGER NOT NULL,
            effective_from TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            event_id TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (song_id, version, holder_id)
        );
        CREATE TRIGGER split_versions_no_update BEFORE UPDATE ON split_versions
        BEGIN SELECT RAISE(ABORT, 'split versions are append-only'); END;
        CREATE TRIGGER split_versions_no_delete BEFORE DELETE ON split_versions
        BEGIN SELECT RAISE(ABORT, 'split versions are append-only'); END;
        CREATE TRIGGER splits_no_update BEFORE UPDATE ON splits
        BEGIN SELECT RAISE(ABORT, 'splits are append-only: add a split version'); END;
        CREATE TRIGGER splits_no_delete BEFORE DELETE ON splits
        BEGIN SELECT RAISE(ABORT, 'splits are append-only: add a split version'); END
        """,
    )


def _v_registry_prices(db: Database) -> None:
    # The prices a rights server published with each consent version (tier -> euros per take
    # at a share of 1: "commercial", or "commercial/song" for one level), so a take can say what
    # it costs under the versions it cited. Kept apart from registry_consent, which is
    # append-only and older than prices here; a version published without prices has no row.
    _run(
        db,
        """
        CREATE TABLE registry_prices (
            server TEXT NOT NULL,
            song_id TEXT NOT NULL,
            holder_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            prices TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (server, song_id, holder_id, version)
        );
        CREATE TRIGGER registry_prices_no_update BEFORE UPDATE ON registry_prices
        BEGIN SELECT RAISE(ABORT, 'prices are append-only'); END;
        CREATE TRIGGER registry_prices_no_delete BEFORE DELETE ON registry_prices
        BEGIN SELECT RAISE(ABORT, 'prices are append-only'); END
        """,
    )


MIGRATIONS: tuple[Callable[[Database], None], ...] = (
    _v1_tables,
    _v2_search,
    _v3_append_only_consent,
    _v4_meter,
    _v_hierarchies_and_prefix1,
    _v_import_hashes,
    _v_usable,
    _v_registry_consent,
    _v_source_rate,
    _v_split_versions,
    _v_registry_prices,
)
LATEST_VERSION = len(MIGRATIONS)


def schema_version(db: Database) -> int:
    """The highest migration applied to the file; 0 for a new, empty file."""
    if "schema_version" not in db.table_names():
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(db: Database, upto: int = LATEST_VERSION) -> int:
    """Apply the missing migrations up to `upto`, each in its own transaction; return the version."""
    with db.atomic():
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
    current = schema_version(db)
    for version in range(current + 1, upto + 1):
        with db.atomic():
            MIGRATIONS[version - 1](db)
            db.execute(
                "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                [version, datetime.now(UTC).isoformat()],
            )
    return max(current, upto)
