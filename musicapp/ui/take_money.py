"""The take panel's money in words: the royalty table's rows (each song heard, then the holders
paid for it), each holder's amount for this take with the price behind it, and a line for the
take as a whole at its own use tier and at the others (``studio.compensation.take_prices``,
``royalties/take_price.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from musicapp.core import RightsHolder, Song
from musicapp.royalties.take_price import (
    NO_PRICE,
    USE_LABELS,
    HolderPrice,
    TakePrices,
    euro_text,
    host,
    prices_line,
    source_text,
    summary_text,
)


def share_text(share: float) -> str:
    """ "12.5 %", or "< 0.1 %" for a share that would read as nothing."""
    return "< 0.1 %" if 0 < share < 0.0005 else f"{share * 100:.1f} %"


class RoyaltyRow(NamedTuple):
    """A row of the royalty table: a song heard (heading) or a holder paid for it."""

    heading: bool
    name: str
    kind: str
    share: float  # of the take
    tip: str
    song_id: str = ""
    holder_id: str = ""  # "" on a song's heading


def royalty_rows(
    royalties: list[tuple[RightsHolder, float]],
    shares: Mapping[str, float],
    songs: Mapping[str, Song],
) -> list[RoyaltyRow] | None:
    """Each song heard, then its holders' parts of the take (song share × split). None when a
    song is unknown or the splits no longer add up to the logged royalties (they changed since
    the take)."""
    rows: list[RoyaltyRow] = []
    owed: dict[str, float] = {}
    for song_id, share in sorted(shares.items(), key=lambda kv: -kv[1]):
        song = songs.get(song_id)
        if song is None or share <= 0:
            return None
        tip = f"“{song.title}” is {share:.1%} of the take"
        rows.append(RoyaltyRow(True, song.title, "song", share, tip, song_id))
        for split in sorted(song.splits, key=lambda sp: -sp.share):
            part = share * split.share
            tip = f"{split.share:.0%} of “{song.title}” × {share:.1%} of the take"
            h = split.holder
            rows.append(RoyaltyRow(False, h.name, h.kind, part, tip, song_id, h.id))
            owed[h.id] = owed.get(h.id, 0.0) + part
    logged = {h.id: s for h, s in royalties if s > 0}
    if any(abs(owed.get(h, 0.0) - logged.get(h, 0.0)) > 1e-6 for h in {*owed, *logged}):
        return None
    return rows


def holder_cell(prices: TakePrices, song_id: str, holder_id: str) -> tuple[str, str]:
    """(text, tooltip) of a holder's Amount cell under one song."""
    rows = prices.holder(song_id, holder_id)
    if not rows:
        return NO_PRICE, ""
    if any(h.prices is None for h in rows):
        return NO_PRICE, _why_no_price(prices, rows[0])
    where = host(prices.server or "")
    use = USE_LABELS.get(prices.use, prices.use)
    lines = [
        f"{h.share:.1%} of the take × {euro_text(h.price(prices.use) or 0.0)} "
        f"({use} at {h.level} level: their price in consent version {h.version} from {where})"
        for h in rows
    ]
    published = rows[0].prices or {}
    lines.append(f"Their prices: {prices_line(dict(published))}" if published else "")
    amount = sum(h.amount(prices.use) or 0.0 for h in rows)
    return euro_text(amount), "\n".join(line for line in lines if line)


def song_cell(prices: TakePrices, song_id: str) -> tuple[str, str]:
    """(text, tooltip) of a song heading's Amount cell: its holders' amounts together."""
    total = prices.total(song_id=song_id)
    if total is None:
        return NO_PRICE, "No holder of this song has a price from the rights server"
    missing = [h for h in prices.holders if h.song_id == song_id and h.prices is None]
    tip = "What this take pays the song's holders at their prices"
    if missing:
        tip += f" ({len(missing)} of them without a price, not counted)"
    return euro_text(total), tip


def _why_no_price(prices: TakePrices, h: HolderPrice) -> str:
    if prices.server is None:
        return "No price: prices are kept by a rights server, and none is set"
    if h.version is None:
        return "No price: the take's consent check cited no version for this holder"
    return (
        f"No price: {host(prices.server)} published consent version {h.version} without "
        "prices, or it is this computer's own record"
    )


def summary(prices: TakePrices | None, error: str = "") -> str:
    """The line under the royalty table, or why the prices could not be read."""
    if prices is None:
        return f"Prices could not be read: {error}" if error else ""
    return summary_text(prices)


def summary_tip(prices: TakePrices | None) -> str:
    return source_text(prices) if prices is not None else ""
