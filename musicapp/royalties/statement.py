"""Statements both sides can reproduce: a holder's (or the whole period's) payouts and lines as
canonical JSON, stating the mechanism, its parameters and the digest of the inputs.

Whoever holds the same events and consent records recomputes the statement with
``period.compute`` and ``statement_of``; ``differences`` lists what does not agree, field by
field, so a mismatch is never silent: a changed parameter shows in ``policy``, changed facts in
``inputs_sha256``, and every cent in the lines and payouts.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from musicapp.royalties.money import euros
from musicapp.royalties.period import STATEMENT_FORMAT, PeriodResult


def statement_of(
    result: PeriodResult, period_from: str, period_to: str, holder_id: str | None = None
) -> dict[str, Any]:
    """The statement of one holder (``holder_id``) or of every holder (None) as plain JSON
    values; amounts in integer cents, with euro strings beside the totals for people."""
    payouts = [p for p in result.payouts if holder_id is None or p.holder_id == holder_id]
    lines = [ln for ln in result.lines if holder_id is None or ln.holder_id == holder_id]
    return {
        "format": STATEMENT_FORMAT,
        "from": period_from,
        "to": period_to,
        "holder_id": holder_id,
        "policy": result.policy.params(),
        "inputs_sha256": result.inputs_sha256,
        "pool_cents": result.pool_cents,
        "undistributed_cents": result.undistributed_cents,
        "paid_total": euros(sum(p.paid_cents for p in payouts)),
        "payouts": [dataclasses.asdict(p) for p in payouts],
        "lines": [dataclasses.asdict(ln) for ln in lines],
    }


def to_json(statement: Mapping[str, Any]) -> str:
    """Canonical JSON: sorted keys, no spaces; the same statement is the same bytes."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def differences(
    stated: Mapping[str, Any], recomputed: Mapping[str, Any], limit: int = 20
) -> list[str]:  # fmt: skip
    """What differs between a statement as received and as recomputed ("" when they agree),
    at most ``limit`` items, each naming the field."""
    out: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if key not in a:
                    out.append(f"{path}.{key}: missing in the statement")
                elif key not in b:
                    out.append(f"{path}.{key}: not in the recomputation")
                else:
                    walk(a[key], b[key], f"{path}.{key}")
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                out.append(f"{path}: {len(a)} items stated, {len(b)} recomputed")
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                walk(x, y, f"{path}[{i}]")
        elif a != b:
            out.append(f"{path}: stated {a!r}, recomputed {b!r}")

    walk(dict(stated), dict(recomputed), "statement")
    return out
