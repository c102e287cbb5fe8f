"""A verification report as the chain a person follows: file → embedded record → C2PA signature
→ ledger event → device signature → server receipt → consent versions in force.

Each link gathers the checks that vouch for it (``verifier.py`` and ``offline.py`` name them)
and is ``ok``, ``failed``, ``skipped`` (the check could not be run here: no ledger, no CA
certificate, no c2pa library) or ``absent`` (nothing in the file or the report speaks to it:
a file exported before receipts, say). The Verify window and ``musicapp verify`` show the
links; ``credits_of`` the references with their shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from musicapp.export.report import Check, FileReport

LinkState = Literal["ok", "failed", "skipped", "absent"]

# (key, title, the checks that make it, in the order they are told)
LINKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("file", "File", ("readable", "audio", "content")),
    ("record", "Embedded record", ("attribution", "tags", "sidecar")),
    ("c2pa", "C2PA signature", ("c2pa",)),
    ("ledger", "Ledger event", ("ledger", "event", "chain")),
    ("device", "Device signature", ("device",)),
    ("receipt", "Server receipt", ("receipt",)),
    ("consent", "Consent versions in force", ("consent",)),
)


@dataclass(frozen=True)
class Link:
    """One link of the chain: its state and, in words, why."""

    key: str
    title: str
    state: LinkState
    detail: str


def _state(checks: list[Check]) -> LinkState:
    if not checks:
        return "absent"
    if any(not c.ok for c in checks):
        return "failed"
    if all(c.skipped for c in checks):
        return "skipped"
    return "ok"


def links_of(report: FileReport) -> list[Link]:
    """The seven links of ``report``; a failed check's reason comes first in its link."""
    out = []
    for key, title, names in LINKS:
        checks = [c for n in names if (c := report.check(n)) is not None]
        state = _state(checks)
        ordered = sorted(checks, key=lambda c: (c.ok, c.skipped))  # failures first, skips last
        detail = "; ".join(c.detail for c in ordered) if checks else _absent(key, report)
        out.append(Link(key, title, state, detail))
    return out


def _absent(key: str, report: FileReport) -> str:
    readable = report.check("readable")
    if readable is not None and not readable.ok:
        return "not reached: the file cannot be read"
    if key == "c2pa":
        return "the file carries no C2PA manifest"
    if key in ("device", "receipt", "consent"):
        return "the file carries no server receipt (exported before a sync, or by an older version)"
    return "not checked"


@dataclass(frozen=True)
class Credit:
    """One reference as the file's record names it."""

    song_id: str
    title: str
    artist: str
    share: float | None
    level: str
    role: str


def credits_of(report: FileReport) -> list[Credit]:
    """The references the file's record (or the matched export) names, largest share first."""
    record: Mapping[str, Any] | None = report.record
    refs = record.get("references") if isinstance(record, Mapping) else None
    out = []
    for ref in refs if isinstance(refs, list) else []:
        if not isinstance(ref, Mapping):
            continue
        share = ref.get("share")
        out.append(
            Credit(
                str(ref.get("song_id") or ""),
                str(ref.get("title") or ""),
                str(ref.get("artist") or ""),
                float(share)
                if isinstance(share, int | float) and not isinstance(share, bool)
                else None,
                str(ref.get("level") or ""),
                str(ref.get("role") or ""),
            )
        )
    return sorted(out, key=lambda c: -(c.share or 0.0))
