"""A period's royalties from its events and consent records: payouts, lines, a statement.

Inputs are plain values anyone holding the events can rebuild: the server from its log and
registry, the app from its own ledger and catalogue, a holder from the API
(``docs/royalties.md``). ``compute`` sorts everything by id before the engine sees it, so the
result never depends on the order events arrive in, and rounds with ``money.largest_remainder``
so that payouts + carried + undistributed = pool + carried in, to the cent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from musicapp.royalties import engine
from musicapp.royalties.money import largest_remainder

LEVELS = ("song", "parameter", "audio", "temporal")
STATEMENT_FORMAT = 1


@dataclass(frozen=True)
class Contribution:
    """One catalogue song in a use: its share of the output and the level it was used at."""

    song_id: str
    share: float
    level: str = "song"


@dataclass(frozen=True)
class UseEvent:
    """A generation (or priced export) as the royalties see it. ``training`` holds the engine's
    training-data attribution estimates ({song: weight}) when it gives any; ``receipt`` the
    server's receipt for the event; ``consent_versions`` {song: {holder: version}} relied on."""

    event_id: str
    use: str
    contributions: tuple[Contribution, ...]
    training: Mapping[str, float] = field(default_factory=dict)
    receipt: str | None = None
    consent_versions: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class HolderTerms:
    """One holder's terms for one song: split and prices per tier from a consent version.
    A tier is ``use`` or ``use/level``; the more specific one wins."""

    holder_id: str
    split: float
    prices: Mapping[str, float] = field(default_factory=dict)
    version: int | None = None

    def price(self, use: str, level: str) -> float:
        value = self.prices.get(f"{use}/{level}", self.prices.get(use, 0.0))
        return float(value) if value >= 0 else 0.0


@dataclass(frozen=True)
class Policy:
    """How a period's money is distributed; every parameter is stated on the statement."""

    mechanism: str = engine.PROPORTIONAL
    k: int = 3
    pricing: str = "tier"
    pool_cents: int | None = None  # None: the pool is the period's priced revenue
    training_fraction: float = 0.0
    training: str = "flat"
    training_songs: tuple[str, ...] = ()
    minimum_cents: int = 0
    currency: str = "EUR"

    def __post_init__(self) -> None:
        if self.mechanism not in engine.MECHANISMS:
            raise ValueError(
                f"mechanism: {self.mechanism!r} is not one of {', '.join(engine.MECHANISMS)}"
            )
        if self.k < 1:
            raise ValueError(f"k: {self.k} must be at least 1")
        if self.pool_cents is not None and self.pool_cents < 0:
            raise ValueError(f"pool_cents: {self.pool_cents} is negative")
        if self.minimum_cents < 0:
            raise ValueError(f"minimum_cents: {self.minimum_cents} is negative")
        if not 0.0 <= self.training_fraction <= 1.0:
            raise ValueError(f"training_fraction: {self.training_fraction} is not in [0, 1]")
        if self.pricing not in ("tier", "flat"):
            raise ValueError(f"pricing: {self.pricing!r} is not 'tier' or 'flat'")
        if self.training not in ("flat", "estimate"):
            raise ValueError(f"training: {self.training!r} is not 'flat' or 'estimate'")

    def params(self) -> dict[str, Any]:
        """The parameters as a statement states them (k only where the mechanism uses it)."""
        out: dict[str, Any] = {
            "mechanism": self.mechanism,
            "pricing": self.pricing,
            "pool_cents": self.pool_cents,
            "training_fraction": self.training_fraction,
            "training": self.training,
            "training_songs": sorted(self.training_songs),
            "minimum_cents": self.minimum_cents,
            "currency": self.currency,
        }
        if self.mechanism != engine.PROPORTIONAL:
            out["k"] = self.k
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Policy:
        return cls(
            mechanism=str(params["mechanism"]),
            k=int(params.get("k", 3)),
            pricing=str(params.get("pricing", "tier")),
            pool_cents=None if params.get("pool_cents") is None else int(params["pool_cents"]),
            training_fraction=float(params.get("training_fraction", 0.0)),
            training=str(params.get("training", "flat")),
            training_songs=tuple(params.get("training_songs", ())),
            minimum_cents=int(params.get("minimum_cents", 0)),
            currency=str(params.get("currency", "EUR")),
        )


@dataclass(frozen=True)
class Line:
    """What one event paid one holder for one song: the facts it comes from and its cents."""

    holder_id: str
    event_id: str
    song_id: str
    kind: str  # "inference" or "training"
    use: str
    level: str
    share: float  # the song's share of the output after the mechanism
    split: float
    price: float
    consent_version: int | None
    receipt: str | None
    amount_cents: int


@dataclass(frozen=True)
class Payout:
    holder_id: str
    earned_cents: int  # this period, rounded
    carried_in_cents: int
    paid_cents: int
    carried_out_cents: int  # below the minimum: carried to the next period


@dataclass(frozen=True)
class PeriodResult:
    policy: Policy
    pool_cents: int
    undistributed_cents: int
    payouts: tuple[Payout, ...]  # by holder id
    lines: tuple[Line, ...]  # by holder, event, song, kind
    inputs_sha256: str

    def payout(self, holder_id: str) -> Payout | None:
        return next((p for p in self.payouts if p.holder_id == holder_id), None)


def inputs_digest(
    events: Iterable[UseEvent], rights: Mapping[str, Sequence[HolderTerms]]
) -> str:  # fmt: skip
    """sha256 of the inputs in canonical form: two parties with the same digest hold the same
    facts, whatever order they received them in."""
    ev = sorted(
        (
            {
                "event_id": e.event_id,
                "use": e.use,
                "contributions": sorted(
                    [c.song_id, repr(float(c.share)), c.level] for c in e.contributions
                ),
                "training": sorted([s, repr(float(w))] for s, w in e.training.items()),
                "receipt": e.receipt,
                "consent_versions": {
                    s: dict(sorted(v.items())) for s, v in sorted(e.consent_versions.items())
                },  # fmt: skip
            }
            for e in events
        ),
        key=lambda d: str(d["event_id"]),
    )
    rt = {
        song: sorted(
            [
                t.holder_id,
                repr(float(t.split)),
                t.version,
                sorted([k, repr(float(v))] for k, v in t.prices.items()),
            ]  # fmt: skip
            for t in terms
        )
        for song, terms in sorted(rights.items())
    }
    blob = json.dumps({"events": ev, "rights": rt}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def compute(
    events: Iterable[UseEvent],
    rights: Mapping[str, Sequence[HolderTerms]],
    policy: Policy,
    carried_in: Mapping[str, int] | None = None,
) -> PeriodResult:
    """The period's payouts and lines (module docstring)."""
    events = sorted(events, key=lambda e: e.event_id)
    ids = [e.event_id for e in events]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ValueError(f"events: {dup} appears twice")
    carried_in = dict(carried_in or {})
    for holder, amount in carried_in.items():
        if amount < 0:
            raise ValueError(f"carried_in[{holder}]: {amount} cents is negative")
    songs = sorted(
        set(rights) | {c.song_id for e in events for c in e.contributions}
        | {s for e in events for s in e.training} | set(policy.training_songs)
    )  # fmt: skip
    song_ix = {s: i for i, s in enumerate(songs)}
    terms_of = {s: sorted(rights.get(s, ()), key=lambda t: t.holder_id) for s in songs}
    holders = sorted({t.holder_id for ts in terms_of.values() for t in ts} | set(carried_in))
    holder_ix = {h: i for i, h in enumerate(holders)}
    uses_names = sorted({e.use for e in events})
    tiers = [(u, lv) for u in uses_names for lv in LEVELS]
    tier_ix = {t: i for i, t in enumerate(tiers)}
    for e in events:
        for c in e.contributions:
            if c.level not in LEVELS:
                raise ValueError(f"event {e.event_id}: level {c.level!r} is not one of {LEVELS}")
            if not (np.isfinite(c.share) and 0.0 <= c.share <= 1.0):
                raise ValueError(f"event {e.event_id}: share of {c.song_id} is {c.share}")
    entries = [
        (ui, song_ix[c.song_id], c.share, tier_ix[(e.use, c.level)], c)
        for ui, e in enumerate(events)
        for c in sorted(e.contributions, key=lambda c: (c.song_id, c.level))
    ]
    ptr = np.zeros(len(songs) + 1, np.int64)
    ptr[1:] = np.cumsum([len(terms_of[s]) for s in songs])
    flat_terms = [t for s in songs for t in terms_of[s]]
    price = np.array(
        [[t.price(u, lv) for (u, lv) in tiers] for t in flat_terms], np.float64
    ).reshape(len(flat_terms), len(tiers))
    est = [(ui, song_ix[s], float(w)) for ui, e in enumerate(events)
           for s, w in sorted(e.training.items()) if w > 0]  # fmt: skip
    uses = engine.Uses(
        len(events),
        np.array([x[0] for x in entries], np.int64),
        np.array([x[1] for x in entries], np.int64),
        np.array([x[2] for x in entries], np.float64),
        np.array([x[3] for x in entries], np.int64),
        np.array([x[0] for x in est], np.int64),
        np.array([x[1] for x in est], np.int64),
        np.array([x[2] for x in est], np.float64),
    )
    rts = engine.Rights(
        ptr,
        np.array([holder_ix[t.holder_id] for t in flat_terms], np.int64),
        np.array([t.split for t in flat_terms], np.float64),
        price,
    )
    out = engine.compute(
        uses,
        rts,
        len(holders),
        mechanism=policy.mechanism,
        k=policy.k,
        pricing=policy.pricing,
        pool_cents=policy.pool_cents,
        training_fraction=policy.training_fraction,
        training=policy.training,
        training_songs=np.array(
            [song_ix[s] for s in sorted(set(policy.training_songs))], np.int64
        ),  # fmt: skip
        keep_rows=True,
    )
    pool = int(round(out.pool_cents)) if policy.pool_cents is None else policy.pool_cents
    carry = np.array([carried_in.get(h, 0) for h in holders], np.int64)
    undistributed_exact = out.undistributed_cents
    # Round: holders' earnings and what nobody could take share the pool exactly.
    parts = largest_remainder(pool, np.append(out.holder_cents, undistributed_exact)) if (
        pool > 0) else np.zeros(len(holders) + 1, np.int64)  # fmt: skip
    earned, undistributed = parts[:-1], int(parts[-1])
    if pool > 0 and out.holder_cents.sum() + undistributed_exact <= 0:
        earned, undistributed = np.zeros(len(holders), np.int64), pool
    total = earned + carry
    paid = np.where(total >= policy.minimum_cents, total, 0)
    payouts = tuple(
        Payout(h, int(earned[i]), int(carry[i]), int(paid[i]), int(total[i] - paid[i]))
        for i, h in enumerate(holders)
    )
    song_of_right = [s for s in songs for _ in terms_of[s]]
    earned_of = {h: int(earned[i]) for i, h in enumerate(holders)}
    lines = _lines(events, entries, flat_terms, out, earned_of, song_of_right)
    return PeriodResult(
        policy, pool, undistributed, payouts, tuple(lines), inputs_digest(events, rights)
    )


def _lines(
    events: list[UseEvent],
    entries: list[tuple[int, int, float, int, Contribution]],
    flat_terms: list[HolderTerms],
    out: engine.Outcome,
    earned: dict[str, int],
    song_of_right: list[str],
) -> list[Line]:
    """Every holder's lines, their cents rounded (largest remainder) to the holder's earning."""
    if out.row_entry is None or out.row_right is None or out.row_cents is None:
        return []  # no use weighed anything: nothing was earned
    assert out.row_share is not None and out.row_holder is not None
    raw: list[tuple[int, Line, float]] = []
    for r in range(out.row_cents.size):
        ui, _, _, _, c = entries[int(out.row_entry[r])]
        e, t = events[ui], flat_terms[int(out.row_right[r])]
        line = Line(t.holder_id, e.event_id, c.song_id, "inference", e.use, c.level,
                    float(out.row_share[r]), t.split, t.price(e.use, c.level),
                    _version(e, c.song_id, t), e.receipt, 0)  # fmt: skip
        raw.append((int(out.row_holder[r]), line, float(out.row_cents[r])))
    if out.training_right_cents is not None:
        for ri in np.flatnonzero(out.training_right_cents > 0):
            t = flat_terms[int(ri)]
            line = Line(t.holder_id, "", song_of_right[int(ri)], "training", "", "", 0.0,
                        t.split, 0.0, t.version, None, 0)  # fmt: skip
            raw.append((-1, line, float(out.training_right_cents[ri])))
    by_holder: dict[str, list[tuple[Line, float]]] = {}
    for _, line, cents in raw:
        by_holder.setdefault(line.holder_id, []).append((line, cents))
    lines: list[Line] = []
    for holder, items in sorted(by_holder.items()):
        items.sort(key=lambda x: (x[0].event_id, x[0].song_id, x[0].kind))
        w = np.array([c for _, c in items])
        total = earned.get(holder, 0)
        amounts = largest_remainder(total, w) if w.sum() > 0 else np.zeros(w.size, np.int64)
        lines += [
            replace(line, amount_cents=int(a)) for (line, _), a in zip(items, amounts, strict=True)
        ]
    return lines


def _version(event: UseEvent, song_id: str, terms: HolderTerms) -> int | None:
    """The consent version the event relied on for this holder, else the one that priced it."""
    cited = event.consent_versions.get(song_id, {}).get(terms.holder_id)
    return int(cited) if cited is not None else terms.version
