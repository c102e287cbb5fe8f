"""What mediated selection answers with: ranked candidates, alternatives, proposals, status.

Similarity only navigates: every song offered here is a catalogue song, shown with its rights
holders, and is verified like any other reference when it is used (design paper §4.2.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from musicapp.core import Level, Reference, Song, Use

# The category facets (design paper §4.1.2, "category prompts") and their labels.
FACETS: dict[str, tuple[str, ...]] = {
    "mood": ("happy", "sad", "energetic", "nostalgic", "angry", "relaxed"),
    "situation": ("wedding", "funeral", "birthday", "graduation", "party", "church service"),
    "function": ("workout", "focus", "sleep", "dance", "meditation", "study"),
}


@dataclass(frozen=True)
class Candidate:
    """One song offered by a prompt, a "more like this" or a recommendation."""

    song: Song
    score: float  # cosine similarity to the query, in [-1, 1]
    why: str = ""  # a short reason a user can read ("nearest in timbre and tempo")
    long_tail: bool = False  # offered from the less-used part of the catalogue (not popular)
    usable: bool = True  # verified usable for the ranking's level and use (False: unfiltered)


@dataclass(frozen=True)
class Ranking:
    """An answer: candidates best first, and what produced them."""

    query: str  # the prompt, "like: <title>", or "session"
    candidates: tuple[Candidate, ...]
    embedding: str  # which embedding answered, in words ("CLAP (music)" or the embedded default)
    level: Level | None = None  # the consent filter the candidates passed, if any
    use: Use | None = None
    notes: tuple[str, ...] = ()  # what the user should know (e.g. "CLAP weights missing: ...")

    @property
    def filtered_for(self) -> str:
        """'usable at parameter level for commercial distribution', or '' when unfiltered."""
        if self.level is None or self.use is None:
            return ""
        return f"usable at {self.level.value} level for {self.use.label}"

    @property
    def song_ids(self) -> list[str]:
        return [c.song.id for c in self.candidates]


@dataclass(frozen=True)
class Alternatives:
    """Permitted songs nearest to a refused reference, for the same level and use."""

    refused: Reference
    reasons: tuple[str, ...]  # why the reference was refused
    ranking: Ranking  # every candidate passed the same consent check the request failed

    def swapped(self, song_id: str) -> Reference:
        """The refused reference with its song swapped for `song_id` (level, role, part kept;
        a time range only when it fits in the new song is the caller's check)."""
        from dataclasses import replace

        return replace(self.refused, song_id=song_id)


@dataclass(frozen=True)
class Proposal:
    """A permitted reference the app proposes for a parameter the user left unspecified."""

    reference: Reference
    song: Song
    reason: str  # "no timbre reference: nearest permitted to your melody reference"
    embedding: str = ""


@dataclass(frozen=True)
class SelectionStatus:
    """Which embeddings answer and how much of the catalogue they cover."""

    text_embedding: str  # answers text prompts and categories
    audio_embedding: str  # answers "more like this"
    clap: bool  # CLAP weights present, checked and loaded
    clap_detail: str  # why CLAP is not answering, when it is not
    songs: int  # songs in the catalogue
    indexed: int  # songs with embeddings for the current embedders
    notes: tuple[str, ...] = field(default=())

    @property
    def pending(self) -> int:
        return max(0, self.songs - self.indexed)
