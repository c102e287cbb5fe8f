"""The store's rights tables: holders, consent (local and a rights server's) and split versions.

A part of CatalogStore (`catalog.consent`) over the store's one connection and lock. Everything
here is appended, never edited: consent and split changes are new versions
(migrations._v_append_only_consent, _v_registry_consent, _v_split_versions).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlite_utils import Database

from musicapp.catalog import rights, rows
from musicapp.catalog.rights import SplitVersion, chunks
from musicapp.core import ConsentRecord, InvalidInput, RightsHolder, Song, Split, usable_mask


def in_utc(record: ConsentRecord) -> ConsentRecord:
    """The record with its times in UTC, the form stored. A time that has no UTC form (the
    edge of the calendar: "9999-12-31T23:59:59-05:00") is InvalidInput naming the field, here,
    rather than an OverflowError in whatever converts it later (issue 12's poison pill)."""
    times = {}
    for field in ("effective_from", "revoked_at"):
        value = getattr(record, field)
        if value is None:
            continue
        try:
            times[field] = value.astimezone(UTC)
        except OverflowError:
            raise InvalidInput(
                f"consent for {record.song_id} from {record.holder_id}, version "
                f"{record.version}: {field} {value.isoformat()} is out of the calendar's range "
                f"in UTC"
            ) from None
    return replace(record, **times)


def _utc_text(when: datetime | None) -> str | None:
    """A recheck time as stored text; past the calendar's end means never."""
    if when is None:
        return None
    try:
        return when.astimezone(UTC).isoformat()
    except OverflowError:
        return None


class SongSource(Protocol):
    """Where the rights tables read songs from: the store that owns them (CatalogStore)."""

    def songs(self, ids: Iterable[str], at: datetime | None = None) -> dict[str, Song]: ...


class ConsentTables:
    """Rights holders, consent records, the usable-for masks and split versions of songs."""

    def __init__(self, db: Database, lock: threading.RLock, songs: SongSource) -> None:
        self._db = db
        self._lock = lock
        self._songs = songs
        self._usable_version = 0

    def _song(self, song_id: str) -> Song | None:
        return self._songs.songs([song_id]).get(song_id)

    def _known(self, song_id: str) -> Song:
        song = self._song(song_id)
        if song is None:
            raise InvalidInput(f"unknown song id {song_id!r}")
        return song

    # -- rights holders and consent -------------------------------------------------------

    def holders(self) -> list[RightsHolder]:
        with self._lock:
            found = self._db.execute("SELECT id, name, kind FROM holders ORDER BY name, id")
            return [RightsHolder(*r) for r in found]

    def consent_records(self, song_ids: Iterable[str] | None = None) -> list[ConsentRecord]:
        """Every version of the consent in force (of these songs), by song, holder, version.

        For a song and holder that the rights server in force (``registry_server``) has
        published consent for, that is the server's versions; otherwise the local ones (the
        demo, an import manifest). See ``migrations._v_registry_consent``.
        """
        cols = "song_id, holder_id, version, permissions, uses, effective_from, revoked_at"
        order = "ORDER BY song_id, holder_id, version"
        with self._lock:
            server = self.registry_server
            if server is None:
                sql = f"SELECT {cols} FROM consent c WHERE {{songs}} {order}"
                base: list[Any] = []
            else:
                sql = (
                    f"SELECT {cols} FROM registry_consent c WHERE server = ? AND {{songs}} "
                    f"UNION ALL SELECT {cols} FROM consent c WHERE {{songs}} AND NOT EXISTS "
                    f"(SELECT 1 FROM registry_consent r WHERE r.server = ? AND "
                    f"r.song_id = c.song_id AND r.holder_id = c.holder_id) {order}"
                )
                base = [server]
            if song_ids is None:
                found = list(self._db.query(sql.format(songs="1"), base * 2))
            else:
                found = []
                for chunk in chunks(list(dict.fromkeys(song_ids)), 400):
                    where = f"c.song_id IN ({','.join('?' * len(chunk))})"
                    params = [*base, *chunk, *chunk, *base] if server else chunk
                    found += self._db.query(sql.format(songs=where), params)
        return [rows.consent_from_row(r) for r in found]

    @property
    def registry_server(self) -> str | None:
        """The rights server whose published consent is in force here, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM catalog_meta WHERE key = 'registry_server'"
            ).fetchone()
        return row[0] if row else None

    @registry_server.setter
    def registry_server(self, url: str | None) -> None:
        with self._lock, self._db.atomic():
            before = self.registry_server
            if url == before:
                return
            if url is None:
                self._db.execute("DELETE FROM catalog_meta WHERE key = 'registry_server'")
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO catalog_meta (key, value) "
                    "VALUES ('registry_server', ?)",
                    [url],
                )
            changed = [
                r[0]
                for r in self._db.execute(
                    "SELECT DISTINCT song_id FROM registry_consent WHERE server IN (?, ?)",
                    [before or "", url or ""],
                )
            ]
            self.refresh_usable(changed)

    def registry_versions(self, song_ids: Iterable[str]) -> dict[tuple[str, str], int]:
        """The newest version the rights server in force published, per (song, holder)."""
        server = self.registry_server
        if server is None:
            return {}
        out: dict[tuple[str, str], int] = {}
        with self._lock:
            for chunk in chunks(list(dict.fromkeys(song_ids)), 400):
                found = self._db.execute(
                    "SELECT song_id, holder_id, MAX(version) FROM registry_consent "
                    f"WHERE server = ? AND song_id IN ({','.join('?' * len(chunk))}) "
                    "GROUP BY song_id, holder_id",
                    [server, *chunk],
                )
                out.update({(r[0], r[1]): int(r[2]) for r in found})
        return out

    def registry_prices(
        self, keys: Iterable[tuple[str, str, int]]
    ) -> dict[tuple[str, str, int], dict[str, float]]:
        """The prices the rights server in force published with these (song, holder, version)
        consent versions (tier -> euros); a version published without prices is not in it."""
        server = self.registry_server
        wanted = set(keys)
        if server is None or not wanted:
            return {}
        out: dict[tuple[str, str, int], dict[str, float]] = {}
        with self._lock:
            for chunk in chunks(sorted({k[0] for k in wanted}), 400):
                found = self._db.execute(
                    "SELECT song_id, holder_id, version, prices FROM registry_prices "
                    f"WHERE server = ? AND song_id IN ({','.join('?' * len(chunk))})",
                    [server, *chunk],
                )
                for song_id, holder_id, version, prices in found:
                    if (key := (song_id, holder_id, int(version))) in wanted:
                        out[key] = {str(t): float(v) for t, v in json.loads(prices).items()}
        return out

    def _add_prices(self, server: str, record: ConsentRecord, prices: dict[str, float]) -> None:
        """Record the prices published with a version (inside add_registry_consent's
        transaction); the same again is nothing, other prices for it are refused."""
        key = [server, record.song_id, record.holder_id, record.version]
        found = self._db.execute(
            "SELECT prices FROM registry_prices WHERE server = ? AND song_id = ? "
            "AND holder_id = ? AND version = ?",
            key,
        ).fetchone()
        text = json.dumps(dict(sorted(prices.items())))
        if found is None:
            self._db.execute(
                "INSERT INTO registry_prices VALUES (?, ?, ?, ?, ?, ?)",
                [*key, text, datetime.now(UTC).isoformat()],
            )
        elif json.loads(found[0]) != json.loads(text):
            raise InvalidInput(
                f"prices for {record.song_id} from {record.holder_id}: the server sent version "
                f"{record.version} again with other prices; kept the first"
            )

    def add_registry_consent(
        self, server: str, record: ConsentRecord, prices: dict[str, float] | None = None
    ) -> bool:
        """Record one version as the rights server ``server`` published it, with the prices
        published with it; True if the version is new.

        Idempotent (a feed page read again): a version already recorded is left as it is, and
        one the server sends with other contents is refused, since the server's versions never
        change. Versions arrive in order; an older one than the newest recorded is refused.
        Prices for a version recorded before prices were kept here are added to it.
        """
        record = in_utc(record)
        song = self._song(record.song_id)
        if song is None:
            raise InvalidInput(f"consent: unknown song id {record.song_id!r}")
        if record.holder_id not in {h.id for h in song.holders}:
            raise InvalidInput(
                f"consent for {record.song_id}: {record.holder_id} is not one of its rights holders"
            )
        with self._lock, self._db.atomic():
            found = list(
                self._db.query(
                    "SELECT * FROM registry_consent WHERE server = ? AND song_id = ? "
                    "AND holder_id = ? AND version = ?",
                    [server, record.song_id, record.holder_id, record.version],
                )
            )
            if found:
                if rows.consent_from_row(found[0]) != record:
                    raise InvalidInput(
                        f"consent for {record.song_id} from {record.holder_id}: the server sent "
                        f"version {record.version} again with other contents; kept the first"
                    )
                if prices is not None:
                    self._add_prices(server, record, prices)
                return False
            latest = self._db.execute(
                "SELECT MAX(version) FROM registry_consent WHERE server = ? AND song_id = ? "
                "AND holder_id = ?",
                [server, record.song_id, record.holder_id],
            ).fetchone()[0]
            if latest is not None and record.version < latest:
                raise InvalidInput(
                    f"consent for {record.song_id} from {record.holder_id}: version "
                    f"{record.version} is older than {latest}; consent records are append-only"
                )
            self._db.table("registry_consent").insert(
                {"server": server, **rows.consent_row(record)}
            )
            if prices is not None:
                self._add_prices(server, record, prices)
            self.refresh_usable([song.id])
        return True

    def add_consent(self, record: ConsentRecord) -> None:
        """Append one version of one holder's consent; versions only go up, nothing is replaced."""
        song = self._song(record.song_id)
        if song is None:
            raise InvalidInput(f"consent: unknown song id {record.song_id!r}")
        with self._lock, self._db.atomic():
            self.insert_consent(record, song)
            self.refresh_usable([song.id])

    def insert_consent(self, record: ConsentRecord, song: Song) -> None:
        """Append one consent version inside the caller's transaction (add_song's, say), under
        the lock it holds; refresh_usable after the last one."""
        record = in_utc(record)
        if record.song_id != song.id:
            raise InvalidInput(f"consent for {record.song_id} given with song {song.id}")
        if record.holder_id not in {h.id for h in song.holders}:
            raise InvalidInput(
                f"consent for {record.song_id}: {record.holder_id} is not one of its rights holders"
            )
        latest = self._db.execute(
            "SELECT MAX(version) FROM consent WHERE song_id = ? AND holder_id = ?",
            [record.song_id, record.holder_id],
        ).fetchone()[0]
        if latest is not None and record.version <= latest:
            what = "already exists" if record.version == latest else f"is older than {latest}"
            raise InvalidInput(
                f"consent for {record.song_id} from {record.holder_id}: version "
                f"{record.version} {what}; consent records are append-only"
            )
        self._db.table("consent").insert(rows.consent_row(record))

    def refresh_usable(self, song_ids: list[str]) -> None:
        """Recompute the songs' consent masks for the "usable for" filter (migrations._v_usable)."""
        now = datetime.now(UTC)
        songs = self._songs.songs(song_ids)
        by_song: dict[str, list[ConsentRecord]] = {i: [] for i in songs}
        for record in self.consent_records(list(songs)):
            by_song[record.song_id].append(record)
        rows_ = []
        for sid, song in songs.items():
            mask, recheck = usable_mask(song, by_song[sid], now)
            rows_.append((sid, mask, _utc_text(recheck)))
        self._db.conn.executemany(
            "INSERT OR REPLACE INTO usable (song_id, mask, recheck_at) VALUES (?, ?, ?)", rows_
        )
        self._usable_version += 1

    @property
    def usable_version(self) -> int:
        """Bumped whenever this process recomputes masks: readers that cache them (mediated
        selection's filter) know to read again."""
        return self._usable_version

    def due_usable(self) -> None:
        """Bring the masks whose consent dates have passed up to date (before reading them)."""
        with self._lock:
            self.refresh_due_usable()

    def refresh_due_usable(self) -> None:
        """Recompute masks whose recheck time has come: a consent version took effect or a
        revocation date passed since they were computed. Called under the lock (browsing)."""
        now = datetime.now(UTC).isoformat()
        due = [
            r[0]
            for r in self._db.execute(
                "SELECT song_id FROM usable WHERE recheck_at IS NOT NULL AND recheck_at <= ?", [now]
            )
        ]
        if due:
            with self._db.atomic():
                for chunk in chunks(due, 500):
                    self.refresh_usable(chunk)

    # -- rights changes -------------------------------------------------------------------

    def update_rights(
        self,
        song_id: str,
        splits: tuple[Split, ...] | None,
        consent: Iterable[ConsentRecord] = (),
        *,
        effective_from: datetime,
        source: str = "",
        event_id: str = "",
    ) -> int | None:
        """Append a new split version (when `splits` is given) and consent versions to a song
        already in the catalogue, together or not at all; return the new split version.

        Nothing is edited: the song's earlier splits and consent stay as they were, in force
        until `effective_from`. Log the change (the ledger) before calling this.
        """
        records = list(consent)
        with self._lock, self._db.atomic():
            song = self._known(song_id)
            version = None
            if splits is not None:
                version = rights.add_split_version(
                    self._db, song_id, splits, effective_from, source, event_id
                )
                song = self._known(song_id)
            for record in records:
                self.insert_consent(record, song)
            self.refresh_usable([song_id])
        return version

    def split_history(self, song_id: str) -> list[SplitVersion]:
        """Every version of a song's splits, oldest first, with when each took effect."""
        with self._lock:
            return rights.split_history(self._db, song_id)

    def local_consent(self, song_id: str) -> dict[str, ConsentRecord]:
        """The newest local consent version of each holder of a song (not the server's)."""
        with self._lock:
            return rights.local_consent(self._db, song_id)
