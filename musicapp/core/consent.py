"""Consent records (paper Tables 1-2) and the policy that decides each reference: default deny."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from musicapp.core.model import InvalidInput, Level, Reference, Role, Song, TimeRange, Use


class Permission(StrEnum):
    """The four flags of the paper's Table 1."""

    MODEL_TRAINING = "model_training"
    SONG_INFERENCE = "song_inference"
    PARAMETER_INFERENCE = "parameter_inference"
    AUDIO_INFERENCE = "audio_inference"

    @property
    def label(self) -> str:
        return {
            Permission.MODEL_TRAINING: "model training",
            Permission.SONG_INFERENCE: "song-level use",
            Permission.PARAMETER_INFERENCE: "parameter-level use",
            Permission.AUDIO_INFERENCE: "audio-level use",
        }[self]


# A temporal reference draws on a stretch of the reference's own audio, so it needs the
# audio-level flag: the rights holder agreed to have their recording itself reworked.
LEVEL_PERMISSION: dict[Level, Permission] = {
    Level.SONG: Permission.SONG_INFERENCE,
    Level.PARAMETER: Permission.PARAMETER_INFERENCE,
    Level.AUDIO: Permission.AUDIO_INFERENCE,
    Level.TEMPORAL: Permission.AUDIO_INFERENCE,
}

USE_ORDER = (Use.PRIVATE, Use.NON_COMMERCIAL, Use.COMMERCIAL)


@dataclass(frozen=True)
class ConsentRecord:
    """One version of one rights holder's consent for one song. New versions, never edits."""

    song_id: str
    holder_id: str
    version: int
    permissions: frozenset[Permission]
    uses: frozenset[Use]
    effective_from: datetime
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.version < 1:
            raise InvalidInput(f"consent for {self.song_id}: version must be 1 or more")
        if self.effective_from.tzinfo is None:
            raise InvalidInput(f"consent for {self.song_id}: effective_from needs a time zone")
        if self.revoked_at is not None and self.revoked_at.tzinfo is None:
            raise InvalidInput(f"consent for {self.song_id}: revoked_at needs a time zone")

    def allows(self, permission: Permission, use: Use, at: datetime) -> bool:
        return not self.is_revoked(at) and permission in self.permissions and use in self.uses

    def is_revoked(self, at: datetime) -> bool:
        return self.revoked_at is not None and self.revoked_at <= at


def check_prices(prices: object, field: str = "prices") -> dict[str, float]:
    """A holder's prices as published with a consent version: euros per tier, a tier being a
    use ("commercial") or a use at a level ("commercial/audio", the more specific price; see
    royalties.period.HolderTerms.price), each a number >= 0. InvalidInput names the tier."""
    if not isinstance(prices, Mapping):
        raise InvalidInput(f"{field}: not an object of tier -> price")
    uses, levels = [u.value for u in Use], [lv.value for lv in Level]
    out: dict[str, float] = {}
    for tier, price in prices.items():
        use, _, level = str(tier).partition("/")
        if use not in uses or (level and level not in levels) or str(tier).endswith("/"):
            raise InvalidInput(
                f"{field}.{tier}: not a use tier ({', '.join(uses)}, or one of them at a level: "
                f"{uses[0]}/{levels[0]}, ... with the levels {', '.join(levels)})"
            )
        if isinstance(price, bool) or not isinstance(price, int | float):
            raise InvalidInput(f"{field}.{tier}: {price!r} is not a price (a number >= 0)")
        if not math.isfinite(price) or price < 0:
            raise InvalidInput(f"{field}.{tier}: {price} is not a price (a number >= 0)")
        out[str(tier)] = float(price)
    return out


def current_record(
    records: Iterable[ConsentRecord], song_id: str, holder_id: str, at: datetime
) -> ConsentRecord | None:
    """The newest version in force at `at` for one holder of one song, or None."""
    best: ConsentRecord | None = None
    for rec in records:
        if rec.song_id != song_id or rec.holder_id != holder_id or rec.effective_from > at:
            continue
        if best is None or rec.version > best.version:
            best = rec
    return best


@dataclass(frozen=True)
class Decision:
    """The verdict on one reference: allowed, or refused with reasons a person can read."""

    reference: Reference
    allowed: bool
    reasons: tuple[str, ...]
    consent_versions: tuple[tuple[str, int], ...] = ()
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verification:
    """The decisions on every reference of a request; it passes only if every one does."""

    use: Use
    decisions: tuple[Decision, ...]

    @property
    def allowed(self) -> bool:
        return bool(self.decisions) and all(d.allowed for d in self.decisions)

    @property
    def refused(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if not d.allowed)

    def summary(self) -> str:
        if self.allowed:
            return f"All {len(self.decisions)} reference(s) are cleared for {self.use.label}."
        lines = [f"Refused for {self.use.label}:"]
        for d in self.refused:
            found = " (found in your audio)" if not d.reference.picked else ""
            lines.extend(f"  {d.reference.song_id}{found}: {r}" for r in d.reasons)
        return "\n".join(lines)


def _uses_phrase(uses: Iterable[Use]) -> str:
    ordered = [u.label for u in USE_ORDER if u in set(uses)]
    if not ordered:
        return "for no use"
    if len(ordered) == 1:
        return f"for {ordered[0]} only"
    return "for " + ", ".join(ordered[:-1]) + f" and {ordered[-1]} only"


def _holder_reasons(
    name: str, rec: ConsentRecord | None, permission: Permission, use: Use, at: datetime
) -> list[str]:
    if rec is None:
        return [f"Rights holder {name} has not given consent for this song (default deny)"]
    if rec.is_revoked(at):
        assert rec.revoked_at is not None
        return [
            f"Rights holder {name} revoked consent on {rec.revoked_at:%Y-%m-%d} "
            f"(consent version {rec.version})"
        ]
    reasons = []
    if permission not in rec.permissions:
        reasons.append(
            f"Rights holder {name} does not allow {permission.label} "
            f"(consent version {rec.version})"
        )
    elif use not in rec.uses:
        reasons.append(
            f"Rights holder {name} allows {permission.label} {_uses_phrase(rec.uses)} "
            f"(consent version {rec.version})"
        )
    return reasons


def alternatives_for(song: Song, records: Sequence[ConsentRecord], at: datetime) -> tuple[str, ...]:
    """Level and use combinations that every rights holder of the song allows, as phrases."""
    out = []
    for level in (Level.SONG, Level.PARAMETER, Level.AUDIO):
        permission = LEVEL_PERMISSION[level]
        uses = [
            use
            for use in USE_ORDER
            if song.splits
            and all(
                (rec := current_record(records, song.id, s.holder.id, at)) is not None
                and rec.allows(permission, use, at)
                for s in song.splits
            )
        ]
        if uses:
            out.append(f"{level.value} level {_uses_phrase(uses)}")
    return tuple(out)


def decide(
    reference: Reference,
    use: Use,
    song: Song | None,
    records: Sequence[ConsentRecord],
    at: datetime,
) -> Decision:
    """Apply the consent policy to one reference. Every rights holder must allow it."""
    if song is None:
        return Decision(reference, False, (f"Unknown song id {reference.song_id!r}",))
    if not song.splits:
        return Decision(
            reference, False, ("The song has no registered rights holders (default deny)",)
        )
    permission = LEVEL_PERMISSION[reference.level]
    reasons: list[str] = []
    versions: list[tuple[str, int]] = []
    for split in song.splits:
        rec = current_record(records, song.id, split.holder.id, at)
        if rec is not None:
            versions.append((split.holder.id, rec.version))
        reasons.extend(_holder_reasons(split.holder.name, rec, permission, use, at))
    if reasons:
        return Decision(
            reference,
            False,
            tuple(reasons),
            tuple(versions),
            alternatives_for(song, records, at),
        )
    n = len(song.splits)
    who = "The rights holder allows" if n == 1 else f"All {n} rights holders allow"
    return Decision(
        reference,
        True,
        (f"{who} {permission.label} for {use.label}",),
        tuple(versions),
    )


def verify(
    references: Sequence[Reference],
    use: Use,
    songs: dict[str, Song],
    records: Sequence[ConsentRecord],
    at: datetime,
) -> Verification:
    """Decide every reference of a request."""
    return Verification(
        use, tuple(decide(r, use, songs.get(r.song_id), records, at) for r in references)
    )


def usable_bit(level: Level, use: Use) -> int:
    """The bit of `usable_mask` that says "usable at this level for this use"."""
    return 1 << (list(Level).index(level) * len(Use) + list(Use).index(use))


def probe_reference(song_id: str, level: Level) -> Reference:
    """A reference of `level` as the policy sees it (the role and range only make it valid):
    what "usable at this level" is decided with, here and by mediated selection."""
    role = Role.MELODY if level is Level.PARAMETER else None
    rng = TimeRange(0.0, 1.0) if level is Level.TEMPORAL else None
    return Reference(song_id, level, role, rng)


def usable_mask(
    song: Song, records: Sequence[ConsentRecord], at: datetime
) -> tuple[int, datetime | None]:
    """Every (level, use) the policy allows for `song` at `at`, as usable_bit()s; and the next
    time a record's own dates can change that (a version taking effect, a revocation), if any.

    For browsing filters only: every request is still verified with decide() when it is made.
    """
    mask = 0
    for level in Level:
        for use in Use:
            if decide(probe_reference(song.id, level), use, song, records, at).allowed:
                mask |= usable_bit(level, use)
    upcoming = [r.effective_from for r in records if r.effective_from > at]
    upcoming += [r.revoked_at for r in records if r.revoked_at is not None and r.revoked_at > at]
    return mask, min(upcoming, default=None)
