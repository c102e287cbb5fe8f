"""Statement lines: what each logged event owes each rights holder, computed once at intake.

A line is (holder, song, event, use, share, split, price version, price, amount, flags). The
intake computes an event's lines in the transaction that logs it and stores them in
``statement_lines`` (indexed by holder and time), so a statement is a range read and a sum.

Lines are a pure function of the log and of the registry *as it stood when the event was
received*: every event row keeps ``registry_seq``, the newest feed change the intake could see
(on PostgreSQL the intake holds a SHARE lock on ``changes``, so no registry write was in flight),
and only songs and consent versions up to it count. ``recompute`` rebuilds the lines of stored
events from their rows, the same way; the tests check the two agree byte for byte.

The rules (``docs/server-api.md``, Statements): for a ``generation`` (or an ``export`` carrying
a use and provenance shares), each song's share of the output (the user's own audio,
``@user``, owes nobody) × the holder's split in the song × the price per use in the consent
version the cited verification relied on, else the holder's latest version then, else 0.
Amounts are exact: integer nano-euros from the decimal values of share, split and price.
Flags say what a holder should look at: ``unverified`` (no verification of this device cited
before the event), ``refused`` (the cited verification refused the request),
``stale_cache`` (commercial use verified on a consent cache that was stale, local-only or not
recorded, by the server's rule: TTL at most 24 h), ``version_not_cited`` (the verification
named no consent version of this holder for this song that the registry holds).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Connection, bindparam, func, select

from musicapp.core.provenance import USER_SOURCE
from musicapp.ledger.kinds import EXPORT, GENERATION, VERIFICATION
from musicapp.server import db

KINDS = (GENERATION, EXPORT)
NANO = 10**9  # amounts are integer nano-euros
COMMERCIAL_TTL_S = 24 * 3600.0  # the server's cap on the consent cache's age for commercial use
CLOCK_SLACK_S = 300.0  # a last pull later than the verification by more than this is impossible
_EXACT = Context(prec=80)  # share × split × price × 1e9 of three doubles fits in 80 digits

LINE_COLUMNS = (
    "holder_id",
    "created_utc",
    "device_id",
    "seq",
    "song_id",
    "event_id",
    "use",
    "share",
    "split",
    "price_version",
    "price",
    "amount_nano",
    "flags",
)


class Line(NamedTuple):
    """One line: the columns of ``statement_lines``, in ``LINE_COLUMNS`` order."""

    holder_id: str
    created_utc: str
    device_id: str
    seq: int
    song_id: str
    event_id: str
    use: str
    share: float
    split: float
    price_version: int | None
    price: float
    amount_nano: int
    flags: str  # sorted, comma-separated; "" when none


@dataclass
class Event:
    """What the lines of one event are computed from (a stored ``ledger_events`` row)."""

    device_id: str
    seq: int
    event_id: str
    kind: str
    payload: dict[str, Any]
    created_utc: str
    registry_seq: int


def amount_nano(share: float, split: float, price: float) -> int:
    """share × split × price in nano-euros, exactly from the decimal values, rounded half-even."""
    exact = _EXACT.multiply(
        _EXACT.multiply(Decimal(repr(share)), Decimal(repr(split))),
        _EXACT.multiply(Decimal(repr(price)), Decimal(NANO)),
    )
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN, context=_EXACT))


def use_of(payload: dict[str, Any]) -> str | None:
    request = payload.get("request")
    if isinstance(request, dict) and isinstance(request.get("use"), str):
        return str(request["use"])
    use = payload.get("use")
    return str(use) if isinstance(use, str) else None


def song_shares(payload: dict[str, Any]) -> dict[str, float]:
    """The output's share per song (entries of one song added in order); never ``@user``."""
    provenance = payload.get("provenance")
    out: dict[str, float] = {}
    if not isinstance(provenance, dict):
        return out
    for s in provenance.get("shares") or []:
        song = s.get("song_id") if isinstance(s, dict) else None
        if isinstance(song, str) and song != USER_SOURCE:
            out[song] = out.get(song, 0.0) + float(s.get("share", 0.0))
    return out


def _relied_versions(verification: dict[str, Any] | None) -> dict[str, dict[str, int]]:
    """{song_id: {holder_id: version}} the verification relied on."""
    out: dict[str, dict[str, int]] = {}
    for d in (verification or {}).get("decisions") or []:
        song = (d.get("reference") or {}).get("song_id")
        if isinstance(song, str):
            out.setdefault(song, {}).update(d.get("consent_versions") or {})
    return out


def stale_cache(verification: dict[str, Any], verified_utc: str) -> bool:
    """The server's rule for commercial use: the consent cache behind the verification was
    stale by the app's own account, local-only, never pulled, older than its TTL or 24 h,
    pulled "in the future", or not recorded at all (an app that did not say)."""
    cache = verification.get("consent_cache")
    if not isinstance(cache, dict):
        return True
    age = cache.get("cache_age_s")
    if cache.get("stale") is True or cache.get("local_only") is True or age is None:
        return True
    ttl = min(float(cache.get("ttl_s", COMMERCIAL_TTL_S)), COMMERCIAL_TTL_S)
    if not 0.0 <= float(age) <= ttl:
        return True
    pulled = cache.get("last_pull_at")
    if pulled is not None:
        # The age by the event's own times too: a pull "in the future", or one older than the
        # TTL whatever cache_age_s says.
        since = datetime.fromisoformat(verified_utc) - datetime.fromisoformat(pulled)
        if not -CLOCK_SLACK_S <= since.total_seconds() <= ttl + CLOCK_SLACK_S:
            return True
    return False


def _queries() -> tuple[Any, Any, Any, Any]:
    """The intake's lookups, built once (bound parameters: SQLAlchemy compiles each once)."""
    sh, s, c, t = db.song_holders.c, db.songs.c, db.consent.c, db.ledger_events.c
    songs: BindParameter[Any] = bindparam("songs", expanding=True)
    registry: BindParameter[Any] = bindparam("registry")
    holders = (
        select(sh.song_id, sh.holder_id, sh.split)
        .join(db.songs, s.id == sh.song_id)
        .where(sh.song_id.in_(songs), s.seq <= registry)
    )
    latest = (
        select(c.song_id, c.holder_id, func.max(c.version).label("version"))
        .where(c.song_id.in_(songs), c.seq <= registry)
        .group_by(c.song_id, c.holder_id)
    )
    prices = select(c.song_id, c.holder_id, c.version, c.prices).where(
        c.song_id.in_(songs),
        c.version.in_(bindparam("versions", expanding=True)),
        c.seq <= registry,
    )
    verifications = select(t.event_id, t.seq, t.created_utc, t.payload).where(
        t.device_id == bindparam("device"),
        t.event_id.in_(bindparam("ids", expanding=True)),
        t.kind == VERIFICATION,
    )
    return holders, latest, prices, verifications


_HOLDERS, _LATEST, _PRICES, _VERIFICATIONS = _queries()


class Registry:
    """Songs' holders and consent prices as the registry stood at a feed seq, with caches."""

    def __init__(self, conn: Connection, registry_seq: int) -> None:
        self.conn, self.seq = conn, registry_seq
        self._holders: dict[str, dict[str, float]] = {}
        self._latest: dict[tuple[str, str], int] = {}
        self._prices: dict[tuple[str, str, int], dict[str, Any]] = {}

    def load(self, songs: set[str], cited: set[tuple[str, str, int]]) -> None:
        """Fetch what lines for these songs (and these cited versions) need, in a few queries."""
        songs = songs - self._holders.keys()
        for chunk in _chunks(sorted(songs), 500):
            for song in chunk:
                self._holders[song] = {}
            for r in self.conn.execute(_HOLDERS, {"songs": chunk, "registry": self.seq}):
                self._holders[r.song_id][r.holder_id] = float(r.split)
            for r in self.conn.execute(_LATEST, {"songs": chunk, "registry": self.seq}):
                self._latest[(r.song_id, r.holder_id)] = int(r.version)
        wanted = {(s, h, v) for (s, h), v in self._latest.items() if s in songs} | cited
        wanted -= self._prices.keys()
        # By song and version, then picked: a row-value IN list is not served by the index.
        for chunk in _chunks(sorted(wanted), 300):
            params = {
                "songs": sorted({w[0] for w in chunk}),
                "versions": sorted({w[2] for w in chunk}),
                "registry": self.seq,
            }
            for r in self.conn.execute(_PRICES, params):
                if (r.song_id, r.holder_id, r.version) in wanted:
                    self._prices[(r.song_id, r.holder_id, r.version)] = (
                        json.loads(r.prices) if r.prices else {}
                    )

    def holders(self, song_id: str) -> dict[str, float]:
        return self._holders.get(song_id, {})

    def price(
        self, song: str, holder: str, use: str, cited: int | None
    ) -> tuple[int | None, float, bool]:
        """(version priced, price per use, whether it is the cited version)."""
        if cited is not None and (song, holder, cited) in self._prices:
            return cited, _price(self._prices[(song, holder, cited)], use), True
        latest = self._latest.get((song, holder))
        if latest is None:
            return None, 0.0, False
        return latest, _price(self._prices.get((song, holder, latest), {}), use), False


def _price(prices: dict[str, Any], use: str) -> float:
    value = prices.get(use, 0.0)
    # The registry checks prices when they are set; a row that predates that check counts as 0.
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        return 0.0
    return float(value)


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def lines_for(
    events: list[Event],
    verifications: dict[tuple[str, str], tuple[int, str, dict[str, Any]]],
    registries: dict[int, Registry],
) -> list[Line]:
    """The lines of ``events`` (each checked by ``payloads.check_payload`` when it was logged).

    ``verifications`` maps (device id, event id) to (seq, created_utc, payload) of the
    verification events they may cite; ``registries`` the Registry per registry_seq, loaded.
    """
    out: list[Line] = []
    for ev in events:
        use = use_of(ev.payload)
        shares = song_shares(ev.payload)
        if ev.kind not in KINDS or use is None or not shares:
            continue
        registry = registries[ev.registry_seq]
        vid = ev.payload.get("verification_event_id")
        found = verifications.get((ev.device_id, vid)) if isinstance(vid, str) else None
        verification = found[2] if found is not None and found[0] < ev.seq else None
        event_flags = set()
        if verification is None:
            event_flags.add("unverified")
        else:
            if verification.get("allowed") is False:
                event_flags.add("refused")
            if use == "commercial" and stale_cache(verification, found[1]):  # type: ignore[index]
                event_flags.add("stale_cache")
        relied = _relied_versions(verification)
        for song_id in sorted(shares):
            for holder, split in sorted(registry.holders(song_id).items()):
                cited = relied.get(song_id, {}).get(holder)
                version, price, was_cited = registry.price(song_id, holder, use, cited)
                flags = event_flags | ({"version_not_cited"} if not was_cited else set())
                share = shares[song_id]
                out.append(
                    Line(
                        holder,
                        ev.created_utc,
                        ev.device_id,
                        ev.seq,
                        song_id,
                        ev.event_id,
                        use,
                        share,
                        split,
                        version,
                        price,
                        amount_nano(share, split, price),
                        ",".join(sorted(flags)),
                    )
                )
    return out


def needs(events: list[Event]) -> tuple[dict[int, set[str]], set[tuple[str, str]]]:
    """({registry_seq: songs}, {(device id, verification event id)}) the events' lines read."""
    songs: dict[int, set[str]] = {}
    cited: set[tuple[str, str]] = set()
    for ev in events:
        if ev.kind not in KINDS:
            continue
        songs.setdefault(ev.registry_seq, set()).update(song_shares(ev.payload))
        vid = ev.payload.get("verification_event_id")
        if isinstance(vid, str):
            cited.add((ev.device_id, vid))
    return songs, cited


def load_verifications(
    conn: Connection,
    cited: set[tuple[str, str]],
    known: dict[tuple[str, str], tuple[int, str, dict[str, Any]]] | None = None,
) -> dict[tuple[str, str], tuple[int, str, dict[str, Any]]]:
    """(seq, created_utc, payload) of the cited verification events that are stored; those in
    ``known`` (the batch being logged) are taken from it rather than read back."""
    out = {k: v for k, v in (known or {}).items() if k in cited}
    by_device: dict[str, list[str]] = {}
    for device_id, event_id in cited - out.keys():
        by_device.setdefault(device_id, []).append(event_id)
    for device_id, ids in sorted(by_device.items()):
        for chunk in _chunks(sorted(ids), 500):
            for r in conn.execute(_VERIFICATIONS, {"device": device_id, "ids": chunk}):
                out[(device_id, r.event_id)] = (r.seq, r.created_utc, json.loads(r.payload))
    return out


def compute(conn: Connection, events: list[Event]) -> list[Line]:
    """The lines of ``events``, reading what they cite and the registry from the database."""
    songs, cited = needs(events)
    batch = {
        (ev.device_id, ev.event_id): (ev.seq, ev.created_utc, ev.payload)
        for ev in events
        if ev.kind == VERIFICATION
    }
    verifications = load_verifications(conn, cited, batch)
    relied = {
        (s, h, v)
        for _q, _c, p in verifications.values()
        for s, hv in _relied_versions(p).items()
        for h, v in hv.items()
    }
    registries: dict[int, Registry] = {}
    for registry_seq, song_ids in songs.items():
        registry = registries[registry_seq] = Registry(conn, registry_seq)
        registry.load(song_ids, {k for k in relied if k[0] in song_ids})
    return lines_for(events, verifications, registries)


def event_of(row: Any) -> Event:
    return Event(
        row.device_id,
        row.seq,
        row.event_id,
        row.kind,
        json.loads(row.payload),
        row.created_utc,
        row.registry_seq,
    )
