"""Period statements under a chosen mechanism: the period's inputs read from the log and the
registry (its *basis*), and the statement ``musicapp.royalties`` computes from them.

Beside the per-event lines (``lines.py``, ``GET /v1/statements``: share x split x price, fixed
at intake), this prices a whole period at once, so a mechanism that looks across a use's songs
(Top-K) or a pool shared by weight can be applied. What it reads, and how:

- **Events**: the ``generation`` events whose ``created_at`` (in UTC) lies in [start, end),
  each counted as the intake would now count it (``backfill``'s rule: a payload
  ``payloads.check_payload`` accepts, and only the first logging of an event id), turned into
  a ``UseEvent`` by ``royalties.events.use_event``, the one reading the app uses too.
  The event id is the ledger's own ``event_id``: the intake refuses an id any device logged
  before, so it is unique across devices, and it is the id the app holds in its own ledger
  and the id the per-event lines cite. The verification passed along is the event the payload's
  ``verification_event_id`` names on the same device, logged before it (as ``lines.py`` finds
  it). The receipt is ``"<leaf_index>@<tree_size>"``: the event's leaf in the server's log and
  the size of the signed tree head its receipt proves it under, the two numbers
  ``GET /v1/log/inclusion`` takes (an app reads them from the receipt it stored).
- **Rights**: for every song the events name (shares and training estimates), its holders and
  splits, and each holder's whole price list (per use, and per use at a level such as
  ``commercial/audio``) from their latest consent version, **as the registry stood
  at the period's last event** (the largest ``registry_seq`` among its events, read with
  ``lines.Registry``). A period is priced once, by one registry; the per-event lines are
  priced by the registry at each event's intake, by the version its verification cited and
  per use only, so the two agree where prices did not change within the period and no
  holder priced a use at a level.

No amount is carried into a period: the server does not chain periods, so a holder below the
minimum sees it as ``carried_out_cents`` on the statement.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from musicapp.ledger.kinds import GENERATION
from musicapp.royalties import period, statement
from musicapp.royalties.basis import basis_to_dict
from musicapp.royalties.events import use_event
from musicapp.royalties.period import HolderTerms, Policy, UseEvent
from musicapp.server import db, lines
from musicapp.server.payloads import PayloadError, check_payload
from musicapp.server.statements import utc_bound

Rights = dict[str, list[HolderTerms]]

# Amounts past this many cents (10 trillion euros) are refused: the engine computes in doubles,
# exact to the cent only below 2**53 cents.
MAX_CENTS = 10**15


def receipt_id(leaf_index: int, tree_size: int) -> str:
    """How a statement cites the server's receipt for an event (module docstring)."""
    return f"{leaf_index}@{tree_size}"


def _rows(conn: Connection, lo: str, hi: str) -> list[tuple[Any, dict[str, Any]]]:
    """(row, payload) of the period's generation events that count, in log order."""
    t = db.ledger_events.c
    rows = conn.execute(
        select(
            t.device_id,
            t.seq,
            t.event_id,
            t.kind,
            t.payload,
            t.registry_seq,
            t.leaf_index,
            t.receipt_size,
        )
        .where(t.kind == GENERATION, t.created_utc >= lo, t.created_utc < hi)
        .order_by(t.leaf_index)
    ).all()
    first: dict[str, int] = {}
    ids = sorted({r.event_id for r in rows})
    for i in range(0, len(ids), 500):
        for r in conn.execute(
            select(t.event_id, func.min(t.leaf_index).label("first"))
            .where(t.event_id.in_(ids[i : i + 500]))
            .group_by(t.event_id)
        ):
            first[r.event_id] = int(r.first)
    out = []
    for row in rows:
        if first.get(row.event_id) != row.leaf_index:
            continue  # a replay logged before event ids were unique counts once
        payload = json.loads(row.payload)
        try:
            check_payload(row.kind, payload, len(row.payload))
        except PayloadError:
            continue
        out.append((row, payload))
    return out


def basis(conn: Connection, start: datetime, end: datetime) -> tuple[list[UseEvent], Rights]:
    """The period [start, end)'s use events (by event id) and rights (module docstring)."""
    rows = _rows(conn, utc_bound(start, "from"), utc_bound(end, "to"))
    cited = {
        (r.device_id, vid)
        for r, payload in rows
        if isinstance(vid := payload.get("verification_event_id"), str)
    }
    verifications = lines.load_verifications(conn, cited)
    events: list[UseEvent] = []
    for r, payload in rows:
        vid = payload.get("verification_event_id")
        found = verifications.get((r.device_id, vid)) if isinstance(vid, str) else None
        verification = found[2] if found is not None and found[0] < r.seq else None
        ev = use_event(r.event_id, payload, verification, receipt_id(r.leaf_index, r.receipt_size))
        if ev is not None:
            events.append(ev)
    events.sort(key=lambda e: e.event_id)
    if not events:
        return events, {}
    registry_seq = max(r.registry_seq for r, _ in rows)
    return events, _rights(conn, events, registry_seq)


def _rights(conn: Connection, events: list[UseEvent], registry_seq: int) -> Rights:
    songs = {c.song_id for e in events for c in e.contributions}
    songs |= {s for e in events for s in e.training}
    uses = sorted({e.use for e in events})
    registry = lines.Registry(conn, registry_seq)
    registry.load(songs, set())
    tiers = _price_tiers(conn, songs, registry_seq)
    rights: Rights = {}
    for song in sorted(songs):
        terms = []
        for holder, split in sorted(registry.holders(song).items()):
            version = registry.price(song, holder, uses[0], None)[0]
            prices = tiers.get((song, holder, version), {}) if version is not None else {}
            terms.append(HolderTerms(holder, split, prices, version))
        rights[song] = terms
    return rights


def _price_tiers(
    conn: Connection, songs: set[str], registry_seq: int
) -> dict[tuple[str, str, int], dict[str, float]]:
    """Every consent version's whole price list (use tiers, and uses at a level such as
    "commercial/audio", which the royalties price more specifically) up to the registry seq.
    ``lines.Registry`` keeps a use's price only, which is all the per-event lines read."""
    c = db.consent.c
    out: dict[tuple[str, str, int], dict[str, float]] = {}
    ordered = sorted(songs)
    for i in range(0, len(ordered), 500):
        for r in conn.execute(
            select(c.song_id, c.holder_id, c.version, c.prices).where(
                c.song_id.in_(ordered[i : i + 500]), c.seq <= registry_seq
            )
        ):
            raw = json.loads(r.prices) if r.prices else {}
            raw = raw if isinstance(raw, dict) else {}
            out[(r.song_id, r.holder_id, int(r.version))] = {
                str(tier): _price(value) for tier, value in sorted(raw.items())
            }
    return out


def _price(value: Any) -> float:
    """A stored price; one that predates the registry's check counts as 0 (as in lines.py)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value) if math.isfinite(value) and value >= 0 else 0.0


def period_text(start: datetime, end: datetime) -> tuple[str, str]:
    """The period's bounds as statements and bases state them (UTC, as the API's
    ``GET /v1/statements`` writes them)."""
    return start.isoformat(), end.isoformat()


def basis_dict(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    """The period's basis in ``royalties.basis`` form, ready to serve or save."""
    events, rights = basis(conn, start, end)
    return basis_to_dict(events, rights, *period_text(start, end))


def holder_statement(
    conn: Connection, holder_id: str, start: datetime, end: datetime, policy: Policy
) -> dict[str, Any]:
    """The holder's statement for [start, end) under ``policy``, as ``statement_of`` gives it."""
    events, rights = basis(conn, start, end)
    return statement.statement_of(
        period.compute(events, rights, policy), *period_text(start, end), holder_id
    )
