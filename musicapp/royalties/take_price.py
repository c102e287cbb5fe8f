"""What one take costs: each holder's price for the take's use tier and their amount.

A holder's amount for a take is what the tier pricing weighs a use by (``engine.py``): the
song's share of the take × the holder's split × the holder's price for the use at the level
the song was used at, the price published with the consent version the take's verification
cited. A period's statement distributes its pool in proportion to these amounts; this is the
amount of one take, before any pool or minimum.

Prices are kept by a rights server (published with each consent version); with no server, or
for a version published without prices, a holder's price is unknown (None), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from musicapp.core import Song, Use
from musicapp.core.consent import USE_ORDER
from musicapp.royalties.period import HolderTerms, UseEvent


@dataclass(frozen=True)
class HolderPrice:
    """One holder of one song heard at one level in the take."""

    song_id: str
    level: str
    holder_id: str
    name: str
    share: float  # of the take: the song's share × the holder's split
    version: int | None  # the consent version the take's verification cited
    prices: Mapping[str, float] | None  # every tier published with it; None: no prices here

    def price(self, use: str) -> float | None:
        """Euros at a share of 1 for ``use`` at this level (the more specific tier wins)."""
        if self.prices is None:
            return None
        return HolderTerms(self.holder_id, 1.0, dict(self.prices)).price(use, self.level)

    def amount(self, use: str) -> float | None:
        price = self.price(use)
        return None if price is None else self.share * price


@dataclass(frozen=True)
class TakePrices:
    """The take's holders with their prices, for the take's use and every other use tier."""

    use: str
    server: str | None  # the rights server whose prices these are; None: none is set
    holders: tuple[HolderPrice, ...]

    @property
    def priced(self) -> bool:
        """Every holder has a price from the server (so the totals are whole)."""
        return bool(self.holders) and all(h.prices is not None for h in self.holders)

    def total(self, use: str | None = None, song_id: str | None = None) -> float | None:
        """The amount at ``use`` (the take's own by default), of one song or of all; None
        when no holder in it has a price."""
        amounts = [
            h.amount(use or self.use)
            for h in self.holders
            if song_id is None or h.song_id == song_id
        ]
        known = [a for a in amounts if a is not None]
        return sum(known) if known else None

    def per_use(self) -> list[tuple[str, float | None]]:
        """What this take's shares come to at each use tier, private to commercial."""
        return [(u.value, self.total(u.value)) for u in USE_ORDER]

    def holder(self, song_id: str, holder_id: str) -> list[HolderPrice]:
        return [h for h in self.holders if (h.song_id, h.holder_id) == (song_id, holder_id)]


def take_prices(
    event: UseEvent,
    songs: Mapping[str, Song],
    prices: Mapping[tuple[str, str, int], Mapping[str, float]],
    server: str | None,
) -> TakePrices:
    """``event``'s holders priced by the versions it cited (``prices`` by (song, holder,
    version), as the rights server published them)."""
    holders = []
    for c in event.contributions:
        song = songs.get(c.song_id)
        if song is None:
            continue
        cited = event.consent_versions.get(c.song_id, {})
        for split in song.splits:
            version = cited.get(split.holder.id)
            found = prices.get((c.song_id, split.holder.id, version)) if version else None
            holders.append(
                HolderPrice(
                    c.song_id,
                    c.level,
                    split.holder.id,
                    split.holder.name,
                    c.share * split.share,
                    version,
                    dict(found) if found is not None else None,
                )
            )
    return TakePrices(event.use, server, tuple(holders))


USE_LABELS = {u.value: u.label for u in Use}
NO_PRICE = "—"


def euro_text(amount: float) -> str:
    """An amount of a take as a person reads it: "€1.20", "€0.10", "€0.015" (a take's amounts
    are often below a cent; a statement rounds a period's to cents)."""
    if amount >= 1 or abs(amount * 100 - round(amount * 100)) < 1e-9:
        return f"€{amount:,.2f}"
    return f"€{amount:.3f}" if amount >= 0.001 else "< €0.001"


def host(server: str) -> str:
    return urlsplit(server).netloc or server


def tier_text(tier: str) -> str:
    """ "commercial/audio" as "commercial, audio level"."""
    use, _, level = tier.partition("/")
    label = USE_LABELS.get(use, use)
    return f"{label}, {level} level" if level else label


def prices_line(prices: dict[str, float]) -> str:
    order = list(USE_LABELS)
    tiers = sorted(prices, key=lambda t: (order.index(t.partition("/")[0]), t))
    return " · ".join(f"{tier_text(t)} {euro_text(prices[t])}" for t in tiers)


def summary_text(prices: TakePrices) -> str:
    """The take's amount at its use tier and at the others, or why there is none (the line
    under the take panel's royalty table, and ``musicapp generate``'s)."""
    if prices.server is None:
        return (
            "No prices or amounts: each holder's prices are kept by a rights server, and none "
            "is set. The shares are how a period's money is split."
        )
    own = prices.total()
    if own is None:
        return (
            f"No prices: {host(prices.server)} published none with the consent versions this take relied "
            "on. The shares are how a period's money is split."
        )
    use = USE_LABELS.get(prices.use, prices.use)
    text = f"This take, for {use}: {euro_text(own)}"
    unpriced = {h.holder_id for h in prices.holders if h.prices is None}
    if unpriced:
        text += f" ({len(unpriced)} holder{'s' if len(unpriced) > 1 else ''} without a price)"
    others = [
        f"{USE_LABELS.get(u, u)} {euro_text(a) if a is not None else NO_PRICE}"
        for u, a in prices.per_use()
        if u != prices.use
    ]
    return f"{text}. At the other tiers: {' · '.join(others)}."


def source_text(prices: TakePrices) -> str:
    """Where the prices come from ("" when there are none)."""
    if prices.server is None or prices.total() is None:
        return ""
    return (
        f"Prices from {host(prices.server)}, as published with the consent versions the take "
        "relied on"
    )


def prices_to_dict(prices: TakePrices) -> dict[str, Any]:
    """The take's prices as ``musicapp generate --json`` prints them (None: no price)."""
    return {
        "use": prices.use,
        "server": prices.server,
        "amount_eur": prices.total(),
        "per_use_eur": dict(prices.per_use()),
        "holders": [
            {
                "song_id": h.song_id,
                "holder_id": h.holder_id,
                "name": h.name,
                "level": h.level,
                "share": h.share,
                "consent_version": h.version,
                "prices_eur": dict(h.prices) if h.prices is not None else None,
                "price_eur": h.price(prices.use),
                "amount_eur": h.amount(prices.use),
            }
            for h in prices.holders
        ],
    }
