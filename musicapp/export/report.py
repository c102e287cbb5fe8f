"""What verifying a file reports: named checks, the export or take it came from, and what is
left unproven."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicapp.ledger import Ledger, LedgerError

if TYPE_CHECKING:
    from musicapp.export.lookup import ContentMatch


@dataclass(frozen=True)
class Check:
    """One named check of a file: whether it passed and, in words, why."""

    name: str
    ok: bool
    detail: str
    skipped: bool = False


@dataclass(frozen=True)
class FileReport:
    """All checks of one file; ``ok`` when every check passed (or was skipped).

    ``match`` is set when the file was identified by its audio rather than by its tags (they
    were stripped, or it is a take file); ``not_established`` says, one phrase each, what the
    checks could not vouch for (an identification by audio, or an offline check without a
    ledger). ``record`` is the attribution record the file carries, as read (None if none);
    ``offline`` that the file was checked with no ledger, against a CA certificate only.
    """

    path: Path
    checks: list[Check]
    ok: bool
    match: ContentMatch | None = None
    not_established: tuple[str, ...] = ()
    record: dict[str, Any] | None = None
    offline: bool = False

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def summary(self) -> str:
        """One line: what the file is, or why it is not vouched for."""
        if self.match is not None:
            m = self.match
            what = f"export {m.event_id}" if m.kind == "export" else "a take"
            take = f" of take {m.generation_event_id}" if m.generation_event_id else ""
            head = f"{what}{take} ({m.when}), {m.how}"
            if self.ok:
                return f"IDENTIFIED by its audio: {head}"
            return f"FAILED: identified by its audio as {head}, but " + self.failures[0].detail
        if self.ok:
            return (
                f"OK (offline, without a ledger): {self.path}"
                if self.offline
                else f"OK: {self.path}"
            )
        content = self.check("content")
        if content is not None and not content.ok:
            return f"NOT IDENTIFIED: {self.path}: {content.detail}"
        first = self.failures[0]
        return f"FAILED: {self.path}: {first.name}: {first.detail}"


def skipped(name: str, detail: str) -> Check:
    return Check(name, True, detail, skipped=True)


def check_chain(ledger: Ledger) -> Check:
    try:
        report = ledger.verify()
    except LedgerError as exc:
        return Check("chain", False, f"the ledger cannot be read ({exc})")
    if report.ok:
        known = (
            f" ({len(report.acknowledged)} earlier problem(s) on record)"
            if report.acknowledged
            else ""
        )
        return Check("chain", True, f"{report.checked} event(s), chain intact{known}")
    shown = report.problems[:3]
    more = f" (and {len(report.problems) - 3} more)" if len(report.problems) > 3 else ""
    return Check("chain", False, "; ".join(shown) + more)
