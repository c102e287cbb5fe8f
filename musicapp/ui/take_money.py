"""The take panel's money in words: each holder's amount for this take with the price behind it,
and a line for the take as a whole at its own use tier and at the others
(``studio.compensation.take_prices``, ``royalties/take_price.py``)."""

from __future__ import annotations

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
