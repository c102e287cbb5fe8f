"""Money as integer minor units (cents), and the one rounding rule every split uses.

Largest remainder (Hamilton): each party gets the floor of its exact amount, and the cents the
floors leave over go one each to the largest fractional parts, ties to the earlier party in
the order given (callers order parties by id, so the result never depends on input order).
The parts always sum to the total exactly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def largest_remainder(total: int, weights: NDArray[np.floating]) -> NDArray[np.int64]:
    """``total`` cents split in proportion to ``weights`` (non-negative, any scale): integer
    parts that sum to ``total`` exactly. All weights zero: nothing can be split (ValueError)."""
    if total < 0:
        raise ValueError(f"total: {total} cents is negative")
    w = np.asarray(weights, dtype=np.float64)
    if w.size == 0:
        if total:
            raise ValueError(f"total: {total} cents and nobody to pay")
        return np.zeros(0, np.int64)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights: every weight must be a finite number >= 0")
    s = float(w.sum())
    if s <= 0:
        if total:
            raise ValueError(f"total: {total} cents and every weight is zero")
        return np.zeros(w.size, np.int64)
    exact = (w / s) * total  # normalised first: total / s overflows for denormal weights
    floors = np.floor(exact).astype(np.int64)
    # Float error can put a floor one above the truth's when the exact value is an integer.
    floors = np.minimum(floors, total)
    left = total - int(floors.sum())
    if left < 0:  # only by float error: take back from the smallest remainders
        order = np.argsort(exact - floors, kind="stable")
        take = order[floors[order] > 0][:-left]
        floors[take] -= 1
        left = total - int(floors.sum())
    if left:
        # stable sort on -remainder: ties go to the earlier index
        order = np.argsort(-(exact - floors), kind="stable")
        floors[order[:left]] += 1
    return floors


def cents(amount: float) -> int:
    """A euro amount as whole cents, half to even (prices are stated in euros)."""
    return int(round(amount * 100))


def euros(amount_cents: int) -> str:
    """Cents as a euro string with two decimals: 1234 → '12.34', -5 → '-0.05'."""
    sign = "-" if amount_cents < 0 else ""
    whole, part = divmod(abs(int(amount_cents)), 100)
    return f"{sign}{whole}.{part:02d}"
