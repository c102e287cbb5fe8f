"""The studio's door to mediated selection: prompts, "more like this", recommendations,
alternatives for refused references and proposals for unspecified parameters.

Every list it returns was checked with the same consent service that verifies requests, for the
level and use asked (when asked): a song refused for them is never offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from musicapp.core import GenerationRequest, Level, Use, Verification
    from musicapp.jobs import FunctionJob
    from musicapp.selection.types import Alternatives, Proposal, Ranking, SelectionStatus


class SelectionRoom:
    """Mediated selection over the studio's catalogue (``studio.selection``)."""

    def status(self) -> SelectionStatus:
        """Which embeddings answer (in words), CLAP's state, and how much is indexed."""
        raise NotImplementedError

    def prompt(
        self,
        text: str,
        *,
        categories: Sequence[str] = (),
        use: Use | None = None,
        level: Level | None = None,
        k: int = 10,
        exclude: Sequence[str] = (),
    ) -> Ranking:
        """Songs for a free-text prompt and/or category chips ("mood:sad", "situation:funeral"),
        best first, diverse (no artist filling the list) with a share of the long tail;
        `exclude` (songs already shown) asks for more or other candidates. With `use` (and
        `level`, default song level) only songs usable for them are offered."""
        raise NotImplementedError

    def similar(
        self,
        song_id: str,
        *,
        use: Use | None = None,
        level: Level | None = None,
        k: int = 10,
        exclude: Sequence[str] = (),
    ) -> Ranking:
        """"More like this": the songs nearest to one catalogue song in the audio embedding."""
        raise NotImplementedError

    def recommend(
        self,
        session: Sequence[str],
        *,
        use: Use | None = None,
        level: Level | None = None,
        k: int = 10,
        exclude: Sequence[str] = (),
    ) -> Ranking:
        """Recommendations from the references chosen so far (`session`), past picks in the
        ledger and explicit likes."""
        raise NotImplementedError

    def alternatives(self, verification: Verification, *, k: int = 5) -> list[Alternatives]:
        """For each refused reference of a verification: the permitted songs nearest to it for
        the same level and use, each checked by the consent service."""
        raise NotImplementedError

    def propose(self, request: GenerationRequest) -> list[Proposal]:
        """Permitted references for the parameters a parameter-level request leaves open (e.g.
        timbre when melody and rhythm are given), verified like chosen ones."""
        raise NotImplementedError

    def facets(self) -> dict[str, list[tuple[str, int]]]:
        """Category facets (mood, situation, function) with each label's song count."""
        raise NotImplementedError

    def labels(self, song_id: str) -> dict[str, tuple[str, ...]]:
        """A song's category labels by facet."""
        raise NotImplementedError

    def like(self, song_id: str, liked: bool = True) -> None:
        """Remember (or forget) that the user likes a song; likes steer recommendations."""
        raise NotImplementedError

    def likes(self) -> list[str]:
        raise NotImplementedError

    def index_job(self) -> FunctionJob[int] | None:
        """Embed the songs not embedded yet (resumable: what is done stays done), as a job;
        None when every song is embedded."""
        raise NotImplementedError
