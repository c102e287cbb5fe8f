"""Undeclared material in the user's own audio: what the audit found that no reference declares,
and what becomes of it (the user's choice: refuse, add, override; ``GenerationRequest``).

Pure rules over ``Finding`` values; the studio's audit room runs the audit and logs the events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from musicapp.attribution.types import Finding
from musicapp.core import VIA_AUDIT, VIA_USER_AUDIO, GenerationRequest, Level, Reference


def clock(seconds: float) -> str:
    """m:ss, as a player shows a position."""
    whole = max(0, int(round(seconds)))
    return f"{whole // 60}:{whole % 60:02d}"


def span(finding: Finding) -> str:
    return f"{clock(finding.start_s)}–{clock(finding.end_s)}"


class UndeclaredMaterial(Exception):
    """The audit found catalogue recordings in the user's audio that no reference declares, and
    the request says "refuse" (the default): nothing was made. ``findings`` (times in the
    user's file), ``titles`` ({song_id: "Title — Artist"}), ``event_id`` (the ``audit`` event
    that logged the refusal)."""

    def __init__(
        self, findings: tuple[Finding, ...], titles: Mapping[str, str], event_id: str = ""
    ) -> None:
        self.findings = findings
        self.titles = dict(titles)
        self.event_id = event_id
        named = "; ".join(f"{self.titles.get(f.song_id, f.song_id)} at {span(f)}" for f in findings)
        super().__init__(
            f"your audio holds catalogue recordings no reference declares: {named}. Choose "
            "refuse (nothing is made), add (each song becomes a reference, its consent checked "
            "and its holders paid) or override (make the take anyway; the override is logged)"
        )


@dataclass(frozen=True)
class Declared:
    """The request after the audit of the user's audio, and what to log and note with it."""

    request: GenerationRequest
    findings: tuple[Finding, ...] = ()  # all found in the user's audio (times in the file)
    undeclared: tuple[Finding, ...] = ()  # of those, the songs no reference declared
    audit_event_id: str = ""
    notes: tuple[str, ...] = ()
    unchecked: bool = False  # the audit failed and the user overrode it

    @property
    def overridden(self) -> bool:
        return (bool(self.undeclared) or self.unchecked) and self.request.on_undeclared == (
            "override"
        )


def in_file(findings: Iterable[Finding], offset_s: float) -> tuple[Finding, ...]:
    """Findings made on a cut of the user's file, with their times in the file itself."""
    if not offset_s:
        return tuple(findings)
    return tuple(
        replace(f, start_s=f.start_s + offset_s, end_s=f.end_s + offset_s) for f in findings
    )


# When songs found by exact identity (``consent/your_audio.py``) account for this much of the
# user's audio, the file *is* their audio: a fingerprint of another song in it can only be a
# likeness between catalogue recordings, never material of the user's, and is not undeclared.
# Not 1: identity counts whole content chunks, so a file's edges read short (a 15 s preview
# cut from a song reads 0.98).
IDENTITY_COVERS_ALL = 0.95


def undeclared(findings: Iterable[Finding], request: GenerationRequest) -> tuple[Finding, ...]:
    """The findings whose song is not already a reference (picked, or found by identity), unless
    exact identity already explains the whole of the user's audio."""
    identified = sum(r.weight for r in request.references if r.via == VIA_USER_AUDIO)
    if identified >= IDENTITY_COVERS_ALL:
        return ()
    declared = {r.song_id for r in request.references}
    return tuple(f for f in findings if f.song_id not in declared)


def covered_seconds(findings: Iterable[Finding]) -> dict[str, float]:
    """Per song, the seconds of the user's audio its findings cover (overlaps counted once)."""
    spans: dict[str, list[tuple[float, float]]] = {}
    for f in findings:
        spans.setdefault(f.song_id, []).append((f.start_s, f.end_s))
    out: dict[str, float] = {}
    for song_id, items in spans.items():
        total, end = 0.0, float("-inf")
        for a, b in sorted(items):
            if b > end:
                total += b - max(a, end)
                end = b
        out[song_id] = total
    return out


def added_references(
    found: tuple[Finding, ...], request: GenerationRequest, used_s: float
) -> tuple[Reference, ...]:
    """One audio-level reference per undeclared song, weighted by the fraction of the used
    user audio it covers (scaled down when, with the songs found by identity, the fractions
    would give the user's audio away more than once: ``assign_user_share``)."""
    seconds = covered_seconds(found)
    fractions = {s: min(1.0, v / used_s) if used_s > 0 else 0.0 for s, v in seconds.items()}
    taken = sum(r.weight for r in request.references if not r.picked)
    room = max(0.0, 1.0 - taken)
    total = sum(fractions.values())
    scale = room / total if total > room and total > 0 else 1.0
    return tuple(
        Reference(song_id, Level.AUDIO, weight=max(fraction * scale, 1e-9), via=VIA_AUDIT)
        for song_id, fraction in sorted(fractions.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def found_notes(found: tuple[Finding, ...], titles: Mapping[str, str], how: str) -> tuple[str, ...]:
    """For the take's record: which recording the audit found where in the user's audio."""
    out = []
    for f in found:
        change = []
        if f.pitch_shift:
            change.append(f"{f.pitch_shift:+d} semitones")
        if abs(f.tempo_ratio - 1.0) >= 0.005:
            change.append(f"tempo ×{f.tempo_ratio:.2f}")
        changed = f" ({', '.join(change)})" if change else ""
        out.append(
            f"the audit found {titles.get(f.song_id, f.song_id)} ({clock(f.song_start_s)}–"
            f"{clock(f.song_end_s)} of the song{changed}) in your audio at {span(f)}: {how}"
        )
    return tuple(out)
