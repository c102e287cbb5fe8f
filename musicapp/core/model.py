"""Value types of the catalogue and of a generation request: songs, rights holders, references."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum


class Level(StrEnum):
    """How much of a reference the user asks for (design paper §4.1.1)."""

    SONG = "song"
    PARAMETER = "parameter"
    AUDIO = "audio"
    TEMPORAL = "temporal"


class Role(StrEnum):
    """The function of a parameter-level reference (paper §6, Fig. 7)."""

    MELODY = "melody"
    HARMONY = "harmony"
    RHYTHM = "rhythm"
    TIMBRE = "timbre"
    INSTRUMENT = "instrument"
    MOOD = "mood"
    GENRE = "genre"


class Use(StrEnum):
    """The intended use of the generated output (paper Table 2)."""

    PRIVATE = "private"
    NON_COMMERCIAL = "non_commercial"
    COMMERCIAL = "commercial"

    @property
    def label(self) -> str:
        return {
            Use.PRIVATE: "private use",
            Use.NON_COMMERCIAL: "non-commercial distribution",
            Use.COMMERCIAL: "commercial distribution",
        }[self]


class InvalidInput(ValueError):
    """A request, reference or record that cannot be valid; the message names the field.

    `str()` is the command line's wording. `field` (the request field at fault, e.g.
    "user_audio"), `path` (the file at fault) and `detail` (the message without the command-line
    `option` that supplies the field) let any other front end word its own message.
    """

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        path: str | None = None,
        option: str | None = None,
    ) -> None:
        super().__init__(f"{detail} ({option})" if option else detail)
        # Attributes, not arguments: pickling (BaseException.__reduce__) restores them from
        # `__dict__`, and subclasses keep their own constructors.
        self.detail, self.field, self.path, self.option = detail, field, path, option


@dataclass(frozen=True)
class RightsHolder:
    """A person or company that holds a share of a song's rights."""

    id: str
    name: str
    kind: str = "composer"  # composer, publisher, performer, label


@dataclass(frozen=True)
class Split:
    """One rights holder's share of one song, as a fraction in (0, 1]."""

    holder: RightsHolder
    share: float

    def __post_init__(self) -> None:
        if not (0.0 < self.share <= 1.0) or math.isnan(self.share):
            raise InvalidInput(
                f"split share for {self.holder.name!r} must be in (0, 1], got {self.share}"
            )


SPLIT_TOLERANCE = 1e-6


def check_splits(song_id: str, splits: tuple[Split, ...]) -> None:
    """Raise InvalidInput unless the splits of a song add up to exactly one."""
    if not splits:
        raise InvalidInput(f"song {song_id}: no rights holders")
    total = sum(s.share for s in splits)
    if abs(total - 1.0) > SPLIT_TOLERANCE:
        raise InvalidInput(f"song {song_id}: rights-holder splits add up to {total:.6f}, not 1")
    ids = [s.holder.id for s in splits]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"song {song_id}: a rights holder appears twice in the splits")


@dataclass(frozen=True)
class Stem:
    """One separately available part of a song: its name, instrument and musical role."""

    name: str  # unique within the song, e.g. "melody", "guitar", "drums"
    instrument: str  # e.g. "Acoustic Guitar (nylon)"
    family: str  # guitar, piano, bass, strings, winds, brass, voice, drums, organ, ...
    role: str  # melody, harmony, bass or rhythm


@dataclass(frozen=True)
class Song:
    """One song of the inference set with its descriptive metadata and rights splits."""

    id: str
    title: str
    artist: str
    album: str
    genre: str
    subgenre: str = ""
    year: int | None = None
    era: str = ""
    country: str = ""
    region: str = ""
    instruments: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    duration_s: float = 0.0
    tempo_bpm: float | None = None
    beats_per_bar: int = 4  # beats of `tempo_bpm` in one bar (6/8 counts 2 dotted quarters)
    downbeat_s: float = 0.0  # the start of the first full bar (after a pickup)
    key: str = ""
    splits: tuple[Split, ...] = ()
    stems: tuple[Stem, ...] = ()
    # The rate the catalogue keeps this song's audio at: the source's own (44.1 or 48 kHz for
    # real recordings; the demo renders at CATALOGUE_RATE). load_audio returns audio at it.
    sample_rate: int = 44100

    @property
    def holders(self) -> tuple[RightsHolder, ...]:
        return tuple(s.holder for s in self.splits)

    def describe(self) -> str:
        return f"{self.title} — {self.artist} ({self.album})"


@dataclass(frozen=True)
class TimeRange:
    """A half-open range [start_s, end_s) of seconds within some audio."""

    start_s: float
    end_s: float

    def __post_init__(self) -> None:
        if math.isnan(self.start_s) or math.isnan(self.end_s):
            raise InvalidInput("time range: start and end must be numbers")
        if self.start_s < 0:
            raise InvalidInput(f"time range: start {self.start_s:g} s is before the beginning")
        if self.end_s <= self.start_s:
            raise InvalidInput(
                f"time range: end {self.end_s:g} s must be after start {self.start_s:g} s"
            )

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def check_within(self, duration_s: float, what: str) -> None:
        """Raise InvalidInput unless the range lies inside audio of the given length."""
        if self.end_s > duration_s + 1e-6:
            raise InvalidInput(
                f"time range {self.start_s:g}-{self.end_s:g} s is outside {what}, "
                f"which lasts {duration_s:.1f} s"
            )

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Parse "START-END" in seconds, e.g. "4.5-12"."""
        try:
            start, end = text.split("-", 1)
            return cls(float(start), float(end))
        except ValueError as exc:
            if isinstance(exc, InvalidInput):
                raise
            raise InvalidInput(f"time range {text!r}: expected START-END in seconds") from exc


VIA_USER_AUDIO = "user_audio"
# A song the audit found outright in the user's audio (fingerprints), added as a reference
# because the user chose "add" (GenerationRequest.on_undeclared).
VIA_AUDIT = "audit"
VIAS = ("", VIA_USER_AUDIO, VIA_AUDIT)


@dataclass(frozen=True)
class Reference:
    """One song the user picked, with how it is to be used and how much it should count."""

    song_id: str
    level: Level = Level.SONG
    role: Role | None = None
    time_range: TimeRange | None = None
    weight: float = 1.0
    # "" for a song the user picked; VIA_USER_AUDIO for one the studio found in the user's own
    # audio by its exact content (a catalogue stem or excerpt brought in as "your audio"), and
    # VIA_AUDIT for one the audit's fingerprints found there: verified and attributed like any
    # reference, but engines never condition on it.
    via: str = ""
    # Audio and temporal level: the reference's stems to match, by stem name or instrument
    # family ("guitar"); "" matches the stems playing `role`, or the whole mix.
    part: str = ""

    def __post_init__(self) -> None:
        if self.via not in VIAS:
            raise InvalidInput(f"reference {self.song_id}: unknown origin {self.via!r}")
        if not self.song_id:
            raise InvalidInput("reference: song id is empty")
        if math.isnan(self.weight) or math.isinf(self.weight) or self.weight <= 0:
            raise InvalidInput(
                f"reference {self.song_id}: weight must be a positive number, got {self.weight}"
            )
        if self.level is Level.PARAMETER and self.role is None:
            raise InvalidInput(
                f"reference {self.song_id}: a parameter-level reference needs a role"
            )
        if self.level is Level.TEMPORAL and self.time_range is None:
            raise InvalidInput(f"reference {self.song_id}: a temporal reference needs a time range")
        if self.part and self.level not in (Level.AUDIO, Level.TEMPORAL):
            raise InvalidInput(
                f"reference {self.song_id}: a part ({self.part!r}) is matched at audio or "
                f"temporal level, not {self.level.value}"
            )

    @property
    def picked(self) -> bool:
        """True for a reference the user chose (not one found in their own audio)."""
        return not self.via

    def describe(self) -> str:
        parts = [self.level.value]
        if self.role:
            parts.append(self.role.value)
        if self.part:
            parts.append(f"its {self.part}")
        if self.time_range:
            parts.append(f"{self.time_range.start_s:g}-{self.time_range.end_s:g}s")
        return f"{self.song_id} ({', '.join(parts)}, weight {self.weight:g})"


MIN_DURATION_S = 2.0
MAX_DURATION_S = 600.0

# What the studio does when the audit finds catalogue recordings in the user's audio that no
# reference declares: refuse the take, add each song as a reference (verified and paid like a
# declared one), or make the take anyway (the override is logged before the engine runs).
UNDECLARED_CHOICES = ("refuse", "add", "override")
# The engines that read a request's prompt (words); the others make a take from the references
# alone, and a take made with words they ignored says so (generation.base.prompt_note).
TEXT_ENGINES = frozenset({"musicgen-melody"})
# The engines that write new notes: no reference's recording is in their takes, so an audit of
# one looks for reused recordings only (attribution.compare, new_notes).
NOTE_ENGINES = frozenset({"composer"})


@dataclass(frozen=True)
class GenerationRequest:
    """What the user asks the studio to make."""

    references: tuple[Reference, ...]
    use: Use = Use.PRIVATE
    duration_s: float = 20.0
    seed: int = 0
    engine: str = "concat"
    prompt: str = ""
    user_audio: str | None = None
    user_range: TimeRange | None = None
    options: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    on_undeclared: str = "refuse"  # one of UNDECLARED_CHOICES

    def __post_init__(self) -> None:
        if not self.references:
            raise InvalidInput("request: pick at least one reference song")
        if self.on_undeclared not in UNDECLARED_CHOICES:
            raise InvalidInput(
                f"request.on_undeclared: {self.on_undeclared!r} is not one of "
                f"{', '.join(UNDECLARED_CHOICES)}",
                field="on_undeclared",
            )
        if not (MIN_DURATION_S <= self.duration_s <= MAX_DURATION_S):
            raise InvalidInput(
                f"request: duration must be between {MIN_DURATION_S:g} and "
                f"{MAX_DURATION_S:g} s, got {self.duration_s:g}"
            )

    @property
    def weights(self) -> tuple[float, ...]:
        return tuple(r.weight for r in self.references)

    @property
    def picked(self) -> tuple[Reference, ...]:
        """The references the user chose, in order: what an engine conditions on."""
        return tuple(r for r in self.references if r.picked)
