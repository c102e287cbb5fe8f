"""The studio's door to mediated selection: prompts, "more like this", recommendations,
alternatives for refused references and proposals for unspecified parameters.

Every list it returns was checked with the same consent service that verifies requests, for the
level and use asked (when asked): a song refused for them is never offered. The engine is
``selection/engine.py``; the embeddings are chosen in ``selection/embedders.py`` (CLAP when its
weights are here, else the embedded MiniLM default) and loaded on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from musicapp.core import InvalidInput, Level, Reference, Role
from musicapp.jobs import CancelToken, FunctionJob, ProgressCallback
from musicapp.selection.types import FACETS, Alternatives, Proposal, Ranking, SelectionStatus

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.config import Settings
    from musicapp.consent import ConsentService
    from musicapp.core import GenerationRequest, Song, Use, Verification
    from musicapp.ledger import Ledger
    from musicapp.selection.embedders import Embedders
    from musicapp.selection.engine import Selector

# The parameters a parameter-level request can leave open, in the order they are proposed.
OPEN_ROLES = (Role.TIMBRE, Role.HARMONY, Role.RHYTHM, Role.MELODY)


def selection_store_path(catalog_path: Path) -> Path:
    """``<catalogue>-selection.sqlite`` beside the catalogue (rebuildable from it)."""
    return catalog_path.with_name(f"{catalog_path.stem}-selection.sqlite")


class SelectionRoom:
    """Mediated selection over the studio's catalogue (``studio.selection``)."""

    def __init__(
        self,
        settings: Settings,
        catalog: CatalogStore,
        consent: ConsentService,
        ledger: Ledger,
        validate: Callable[[GenerationRequest], object],
    ) -> None:
        from musicapp.selection.engine import Selector

        def embedders() -> Embedders:
            from musicapp.selection.embedders import Embedders

            return Embedders(settings.models_dir, settings.device)

        self._validate = validate
        self._catalog = catalog
        self._indexed_at: int | None = None  # catalog.songs_stamp() at the last complete run
        self.engine: Selector = Selector(
            catalog, consent, ledger, selection_store_path(Path(settings.catalog_path)), embedders
        )

    def close(self) -> None:
        self.engine.store.close()

    def status(self) -> SelectionStatus:
        """Which embeddings answer (in words), CLAP's state, and how much is indexed."""
        e = self.engine.embedders
        indexed = self.engine.store.count_with(e.text.key, self.engine.text_by)
        return SelectionStatus(
            text_embedding=e.text.name,
            audio_embedding=e.audio_name,
            clap=e.clap is not None,
            clap_detail="" if e.clap is not None else e.clap_detail,
            songs=self._catalog.count(),
            indexed=indexed,
            notes=tuple(e.notes),
        )

    def _ready(self) -> None:
        """Embed what is missing first (a small catalogue in seconds; the app runs the job at
        import and after the demo build, so this is only a catch-up)."""
        self._catch_up(lambda _p: None, CancelToken())

    def _catch_up(self, progress: ProgressCallback, cancel: CancelToken) -> int:
        """Run the indexing job unless no song was added since the last complete run: finding
        what is pending reads every song id, too much for each prompt at a million songs."""
        stamp = self._catalog.songs_stamp()
        if stamp == self._indexed_at:
            return 0
        job = self.index_job()
        done = 0 if job is None else job.run(progress, cancel)
        self._indexed_at = stamp
        return done

    def _notes(self) -> list[str]:
        e = self.engine.embedders
        notes = list(e.notes)
        if e.clap is None and e.clap_detail:
            notes.append(f"CLAP is not answering: {e.clap_detail}")
        return notes

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
        self._ready()
        vector = self.engine.query_vector(text, categories)
        shown = text.strip() or " + ".join(categories)
        if text.strip() and categories:
            shown = f"{text.strip()} + {' + '.join(categories)}"
        return self.engine.rank(
            shown,
            self.engine.text_index(),
            vector,
            k=k,
            use=use,
            level=level,
            exclude=exclude,
            embedding=self.engine.embedders.text.name,
            why="matches the prompt",
            notes=self._notes(),
            words=re.findall(r"[^\W_]+", text),
        )

    def _song_embedding(self) -> str:
        e = self.engine.embedders
        if e.clap is not None:
            return e.clap.name
        return f"{e.audio_name} + {e.text.name}"

    def similar(
        self,
        song_id: str,
        *,
        use: Use | None = None,
        level: Level | None = None,
        k: int = 10,
        exclude: Sequence[str] = (),
    ) -> Ranking:
        """ "More like this": the songs nearest to one catalogue song."""
        song = self._song(song_id)
        self._ready()
        vector = self.engine.song_vector([song_id], [1.0])
        if vector is None:
            raise InvalidInput(f"song {song_id}: it has no embedding yet (index the catalogue)")
        return self.engine.rank(
            f"like: {song.title}",
            self.engine.song_index(),
            vector,
            k=k,
            use=use,
            level=level,
            exclude=[song_id, *exclude],
            embedding=self._song_embedding(),
            why=f"sounds like {song.title}",
            notes=self._notes(),
        )

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
        self._ready()
        likes = self.likes()
        past = [sid for sid, _ in self.engine.use_counts().most_common(5)]
        ids = [*session, *likes, *past]
        weights = [1.0] * len(session) + [0.5] * len(likes) + [0.25] * len(past)
        vector = self.engine.song_vector(ids, weights) if ids else None
        if vector is None:
            return Ranking(
                "session",
                (),
                self._song_embedding(),
                notes=("Pick a reference, like a song or make a take to get recommendations",),
            )
        return self.engine.rank(
            "session",
            self.engine.song_index(),
            vector,
            k=k,
            use=use,
            level=level,
            exclude=[*session, *exclude],
            embedding=self._song_embedding(),
            why="near your references, likes and past picks",
            notes=self._notes(),
        )

    def alternatives(self, verification: Verification, *, k: int = 5) -> list[Alternatives]:
        """For each refused reference the user picked: the permitted songs nearest to it for
        the same level and use, each checked by the consent service. (Songs found in the
        user's own audio are not swappable: that audio is theirs to change.)"""
        if any(d.reference.picked for d in verification.refused):
            self._ready()
        out = []
        for decision in verification.refused:
            ref = decision.reference
            if not ref.picked:
                continue
            song = self._catalog.song(ref.song_id)
            vector = self.engine.song_vector([ref.song_id], [1.0]) if song is not None else None
            title = song.title if song is not None else ref.song_id
            if vector is None:
                ranking = Ranking(f"instead of: {title}", (), self._song_embedding())
            else:
                ranking = self.engine.rank(
                    f"instead of: {title}",
                    self.engine.song_index(),
                    vector,
                    k=k,
                    use=verification.use,
                    level=ref.level,
                    like=ref,
                    exclude=[ref.song_id],
                    embedding=self._song_embedding(),
                    why=f"permitted and close to {title}",
                    notes=self._notes(),
                )
            out.append(Alternatives(ref, decision.reasons, ranking))
        return out

    def propose(self, request: GenerationRequest) -> list[Proposal]:
        """Permitted references for the parameters a parameter-level request leaves open (e.g.
        timbre when melody and rhythm are given), verified like chosen ones: checked by the
        consent service together with the request's own references, and by the studio's
        request validation."""
        params = [r for r in request.picked if r.level is Level.PARAMETER]
        if not params:
            return []
        given = {r.role for r in params}
        open_roles = [r for r in OPEN_ROLES if r not in given]
        if not open_roles:
            return []
        self._ready()
        vector = self.engine.song_vector([r.song_id for r in params], [r.weight for r in params])
        if vector is None:
            return []
        out: list[Proposal] = []
        taken = {r.song_id for r in request.references}
        for role in open_roles[:1]:  # one open parameter at a time: the user decides each
            template = Reference(params[0].song_id, Level.PARAMETER, role)
            ranking = self.engine.rank(
                f"{role.value} for your take",
                self.engine.song_index(),
                vector,
                k=5,
                use=request.use,
                level=Level.PARAMETER,
                like=template,
                exclude=sorted(taken),
                embedding=self._song_embedding(),
                why=f"no {role.value} reference given",
            )
            for candidate in ranking.candidates:
                ref = Reference(candidate.song.id, Level.PARAMETER, role)
                if not self._fits(request, ref):
                    continue
                out.append(
                    Proposal(
                        ref,
                        candidate.song,
                        f"no {role.value} reference: the permitted song nearest to your references",
                        ranking.embedding,
                    )
                )
                taken.add(candidate.song.id)
                break
        return out

    def _fits(self, request: GenerationRequest, ref: Reference) -> bool:
        from dataclasses import replace

        song = self._song(ref.song_id)
        allowed = self.engine.verified(
            [song], request.use, Level.PARAMETER, like=ref, beside=request.references
        )
        if song.id not in allowed:
            return False
        try:
            self._validate(replace(request, references=(*request.references, ref)))
        except InvalidInput:
            return False
        return True

    def facets(self) -> dict[str, list[tuple[str, int]]]:
        """Category facets (mood, situation, function) with each label's song count."""
        counts = self.engine.store.label_counts()
        return {
            f: [(label, counts.get(f, {}).get(label, 0)) for label in v] for f, v in FACETS.items()
        }

    def labels(self, song_id: str) -> dict[str, tuple[str, ...]]:
        """A song's category labels by facet."""
        return self.engine.store.labels(song_id)

    def like(self, song_id: str, liked: bool = True) -> None:
        """Remember (or forget) that the user likes a song; likes steer recommendations."""
        self._song(song_id)
        self.engine.store.set_like(song_id, liked, datetime.now(UTC).isoformat())

    def likes(self) -> list[str]:
        return self.engine.store.likes()

    def index_job(self) -> FunctionJob[int] | None:
        """Embed the songs not embedded yet (resumable: what is done stays done), as a job;
        None when every song is embedded."""
        indexer = self.engine.indexer()
        if not indexer.pending():
            return None

        def run(progress: ProgressCallback, cancel: CancelToken) -> int:
            try:
                return indexer.run(progress, cancel)
            finally:
                self.engine.changed()

        return FunctionJob("Index the catalogue for prompts", run, lane="compute")

    def catch_up_job(self) -> FunctionJob[int]:
        """A job that embeds whatever is not embedded yet (nothing when all is): for the
        window, which submits it after the demo build, an import and at start, on the lane its
        selection calls run on, without loading a model on the GUI thread to ask first."""

        return FunctionJob("Index the catalogue for prompts", self._catch_up, lane="select")

    def _song(self, song_id: str) -> Song:
        song = self._catalog.song(song_id)
        if song is None:
            raise InvalidInput(f"song {song_id}: not in the catalogue")
        return song
