"""The studio's door to compensation (``studio.compensation``): what a take pays whom under a
mechanism, the period's statement from the local ledger or from a server's basis, and the
inequality simulator.

Prices live on the rights server (the registry's consent versions); the local catalogue knows
splits but not prices. So a take's preview and a local statement distribute a stated pool
(``PREVIEW_POOL_CENTS`` for a preview: "per 100 EUR of revenue") with ``pricing="flat"``,
and a statement to the cent comes from a basis the server serves
(``GET /v1/royalties/basis``), recomputed here and cross-checked against this device's own
generation events (``own_events``): the server cannot add, drop or change this device's uses
without the check saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from musicapp.core.codec import request_to_dict
from musicapp.ledger.kinds import GENERATION, VERIFICATION
from musicapp.royalties import events as royalty_events
from musicapp.royalties import period, simulate
from musicapp.royalties.period import HolderTerms, Policy, UseEvent
from musicapp.royalties.statement import differences, statement_of
from musicapp.royalties.take_price import TakePrices, take_prices

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.core import GenerationRequest
    from musicapp.ledger import Ledger
    from musicapp.takes import Take

PREVIEW_POOL_CENTS = 10_000  # a preview distributes 100 EUR: its cents read as percent x 100


@dataclass(frozen=True)
class HolderPay:
    """One holder's part of a preview: name, cents per PREVIEW_POOL_CENTS, the songs."""

    holder_id: str
    name: str
    cents: int
    songs: tuple[str, ...]


@dataclass(frozen=True)
class BasisCheck:
    """A server basis against this device's ledger: what the server has that differs."""

    own_events: int
    matched: int
    problems: tuple[str, ...]  # each names the event and what differs

    @property
    def ok(self) -> bool:
        return not self.problems


class RoyaltiesRoom:
    """Compensation for the window and the CLI (module docstring)."""

    def __init__(
        self,
        catalog: CatalogStore,
        ledger: Ledger,
        receipt_of: Callable[[int], Mapping[str, Any] | None] | None = None,
    ) -> None:
        self._catalog = catalog
        self._ledger = ledger
        # The rights server's checked receipt for a ledger seq (sync state), so this device's
        # lines cite the same receipts as the server's statement and its digest can agree.
        self._receipt_of = receipt_of

    # -- rights as the local catalogue knows them ---------------------------------------------

    def rights(self, song_ids: Sequence[str]) -> dict[str, list[HolderTerms]]:
        """Holders and splits of these songs from the local catalogue (no prices: local)."""
        songs = self._catalog.songs(sorted(set(song_ids)))
        return {
            sid: [HolderTerms(s.holder.id, s.share) for s in song.splits]
            for sid, song in songs.items()
        }

    def _names(self, song_ids: Sequence[str]) -> dict[str, str]:
        songs = self._catalog.songs(sorted(set(song_ids)))
        return {s.holder.id: s.holder.name for song in songs.values() for s in song.splits}

    # -- one take, before and after ------------------------------------------------------------

    def preview_request(self, request: GenerationRequest, policy: Policy) -> list[HolderPay]:
        """What a take of this request would pay whom, before it is made: the references'
        weights stand in for the shares the engine will measure."""
        refs = request.references
        total = sum(max(r.weight, 0.0) for r in refs)
        shares = [
            {"reference": i, "song_id": r.song_id, "share": r.weight / total}
            for i, r in enumerate(refs)
            if total > 0 and r.weight > 0
        ]
        payload = {"request": request_to_dict(request), "provenance": {"shares": shares}}
        return self._preview(royalty_events.use_event("preview", payload), policy)

    def preview_take(self, take: Take, policy: Policy) -> list[HolderPay]:
        """What this take pays whom under ``policy``'s mechanism, per 100 EUR."""
        payload = {
            "request": request_to_dict(take.request),
            "provenance": take.provenance.to_dict(),
        }
        return self._preview(royalty_events.use_event(take.id, payload), policy)

    def take_prices(self, take: Take) -> TakePrices:
        """Each holder's price for the take's use tier and their amount for this take, by the
        consent versions its verification cited and the prices the rights server published
        with them (``royalties/take_price.py``); the splits as they were when it was made."""
        generation = self._ledger.get(take.id)
        payload = generation.payload if generation is not None else {
            "request": request_to_dict(take.request),
            "provenance": take.provenance.to_dict(),
        }  # fmt: skip
        cited = self._ledger.get(take.verification_event_id) if take.verification_event_id else None
        event = royalty_events.use_event(
            take.id, payload, cited.payload if cited is not None else None
        )
        # The registry in force is named "URL key K since T" (sync/engine.py): its URL.
        registry = self._catalog.consent.registry_server
        server = registry.split()[0] if registry else None
        if event is None:
            return TakePrices(take.request.use.value, server, ())
        songs = [c.song_id for c in event.contributions]
        made = datetime.fromisoformat(take.created_at) if take.created_at else None
        found = self._catalog.songs(sorted(set(songs)), at=made)
        keys = [
            (sid, holder, v) for sid, cited in event.consent_versions.items()
            for holder, v in cited.items()
        ]  # fmt: skip
        return take_prices(event, found, self._catalog.consent.registry_prices(keys), server)

    def _preview(self, event: UseEvent | None, policy: Policy) -> list[HolderPay]:
        if event is None or not event.contributions:
            return []
        songs = [c.song_id for c in event.contributions]
        flat = Policy(
            mechanism=policy.mechanism, k=policy.k, pricing="flat", pool_cents=PREVIEW_POOL_CENTS
        )
        result = period.compute([event], self.rights(songs), flat)
        names = self._names(songs)
        by_holder: dict[str, set[str]] = {}
        for line in result.lines:
            if line.amount_cents > 0:
                by_holder.setdefault(line.holder_id, set()).add(line.song_id)
        pays = [
            HolderPay(
                p.holder_id,
                names.get(p.holder_id, p.holder_id),
                p.earned_cents,
                tuple(sorted(by_holder.get(p.holder_id, ()))),
            )  # fmt: skip
            for p in result.payouts
            if p.earned_cents > 0
        ]
        return sorted(pays, key=lambda h: (-h.cents, h.holder_id))

    # -- the period ----------------------------------------------------------------------------

    def own_events(self, start: datetime, end: datetime) -> list[UseEvent]:
        """This device's generations logged in [start, end), as the royalties see them."""
        verifications = {e.id: e.payload for e in self._ledger.events(kind=VERIFICATION)}
        out = []
        for e in self._ledger.events(kind=GENERATION):
            if not start <= e.time < end:
                continue
            ver = verifications.get(str(e.payload.get("verification_event_id", "")))
            use = royalty_events.use_event(e.id, e.payload, ver, self._receipt(e.seq))
            if use is not None:
                out.append(use)
        return out

    def _receipt(self, seq: int) -> str | None:
        r = self._receipt_of(seq) if self._receipt_of is not None else None
        if not r or type(r.get("leaf_index")) is not int or type(r.get("tree_size")) is not int:
            return None
        return royalty_events.receipt_id(r["leaf_index"], r["tree_size"])

    def statement(
        self, start: datetime, end: datetime, policy: Policy, holder_id: str | None = None
    ) -> dict[str, Any]:
        """The period's statement from this device's own generations and the local splits."""
        events = self.own_events(start, end)
        songs = [c.song_id for e in events for c in e.contributions]
        # The training pool's songs too: the takes' estimates and the flat pool's songs.
        songs += [s for e in events for s in e.training] + list(policy.training_songs)
        result = period.compute(events, self.rights(songs), policy)
        return statement_of(result, start.isoformat(), end.isoformat(), holder_id)

    def check_basis(
        self, basis_events: Sequence[UseEvent], start: datetime, end: datetime
    ) -> BasisCheck:
        """This device's generations in the period against a server's basis: each must be
        there with the same use and contributions (event ids are the ledger's own)."""
        theirs = {e.event_id.split(":")[-1]: e for e in basis_events}
        problems = []
        own = self.own_events(start, end)
        matched = 0
        for e in own:
            got = theirs.get(e.event_id)
            if got is None:
                problems.append(f"event {e.event_id}: logged here, missing from the basis")
            elif (got.use, got.contributions) != (e.use, e.contributions):
                problems.append(f"event {e.event_id}: the basis has other shares or use")
            elif e.receipt is not None and got.receipt != e.receipt:
                problems.append(
                    f"event {e.event_id}: the basis cites receipt {got.receipt}, this device "
                    f"holds {e.receipt}"
                )
            else:
                matched += 1
        return BasisCheck(len(own), matched, tuple(problems))

    @staticmethod
    def verify(stated: Mapping[str, Any], recomputed: Mapping[str, Any]) -> list[str]:
        """What differs between a received statement and its recomputation (empty: equal)."""
        return differences(stated, recomputed)

    # -- the simulator -------------------------------------------------------------------------

    @staticmethod
    def simulate(
        n_events: int = 200_000,
        n_songs: int = 20_000,
        n_holders: int = 2_000,
        *,
        zipf: float = 1.0,
        pool_cents: int = 10_000_000,
        minimum_cents: int = 1000,
        seed: int = 0,
    ) -> list[simulate.MechanismFigures]:
        """Every mechanism over the same synthetic period (``royalties/simulate.py``)."""
        usage = simulate.synthetic_usage(n_events, n_songs, n_holders, zipf=zipf, seed=seed)
        return simulate.run(usage, pool_cents=pool_cents, minimum_cents=minimum_cents)
