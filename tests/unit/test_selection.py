"""Mediated selection on the small demo catalogue, with the real embedded default (MiniLM).

CLAP's weights are not here, so these also show the fallback answering; CLAP's own wiring is
tests/unit/test_clap_wiring.py (a tiny random model: wiring, not quality).
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from musicapp.catalog.demo import (
    NON_COMMERCIAL_SONG_ID,
    PERMITTED_SONG_IDS,
    SPLIT_COMMERCIAL_SONG_ID,
)
from musicapp.catalog.store import CatalogStore
from musicapp.config import Settings
from musicapp.core import GenerationRequest, InvalidInput, Level, Reference, Role, Use
from musicapp.jobs import Cancelled, CancelToken
from musicapp.ledger import Ledger
from musicapp.selection.ranking import Scored, artist_key, diversify, head_songs
from musicapp.studio import Studio

pytestmark = pytest.mark.xdist_group("selection")  # one MiniLM load per worker


@pytest.fixture(scope="module")
def indexed_dir(tmp_path_factory: pytest.TempPathFactory, demo_dirs: tuple[Path, Path]) -> Path:
    """A data folder with the small demo catalogue, embedded once for the module."""
    root = tmp_path_factory.mktemp("selection")
    data = root / "data"
    data.mkdir()
    shutil.copy(demo_dirs[0], data / "catalog.sqlite")
    shutil.copytree(demo_dirs[1], data / "audio")
    with _studio(data, root / "models") as studio:
        job = studio.selection.index_job()
        assert job is not None
        assert job.run(lambda _p: None, CancelToken()) == 10
        assert studio.selection.index_job() is None  # everything embedded
    return data


class _studio:
    def __init__(self, data: Path, models: Path, **settings: object) -> None:
        self.settings = Settings(data_dir=data, models_dir=models, device="cpu")
        self.settings.server_url = ""
        for k, v in settings.items():
            setattr(self.settings, k, v)

    def __enter__(self) -> Studio:
        self.settings.ensure_dirs()
        self.catalog = CatalogStore(self.settings.catalog_path, self.settings.audio_dir)
        self.ledger = Ledger(self.settings.ledger_path)
        self.studio = Studio(self.settings, self.catalog, self.ledger)
        return self.studio

    def __exit__(self, *exc: object) -> None:
        self.studio.close()
        self.ledger.close()
        self.catalog.close()


@pytest.fixture
def studio(tmp_path: Path, indexed_dir: Path):
    data = tmp_path / "data"
    shutil.copytree(indexed_dir, data)
    with _studio(data, indexed_dir.parent / "models") as s:
        yield s


def test_prompt_is_answered_by_the_embedded_default_and_says_so(studio: Studio) -> None:
    status = studio.selection.status()
    assert "MiniLM" in status.text_embedding and not status.clap
    assert status.indexed == status.songs == 10
    ranking = studio.selection.prompt("a lively jig or reel for dancing", k=3)
    assert "MiniLM" in ranking.embedding
    assert any("CLAP" in n for n in ranking.notes)  # why CLAP did not answer
    genres = [c.song.genre for c in ranking.candidates]
    assert genres[0] in {"Irish Folk", "Americana", "English Folk"}, genres


def test_category_chips_are_prompts_and_unknown_ones_are_named(studio: Studio) -> None:
    ranking = studio.selection.prompt("", categories=["situation:church service"], k=3)
    assert ranking.candidates[0].song.genre in {"Baroque", "Renaissance"}
    facets = studio.selection.facets()
    assert set(facets) == {"mood", "situation", "function"}
    assert sum(n for _, n in facets["mood"]) >= 5  # labels were given at indexing
    # A mood the catalogue's tags name comes from the tags ("bright" is happy), not a guess.
    assert studio.selection.labels(PERMITTED_SONG_IDS[0])["mood"] == ("happy",)
    with pytest.raises(InvalidInput, match="mood:furious"):
        studio.selection.prompt("", categories=["mood:furious"])


@pytest.mark.parametrize("use", list(Use))
@pytest.mark.parametrize("level", [Level.SONG, Level.PARAMETER, Level.AUDIO])
def test_offered_songs_are_always_usable_for_the_level_and_use(
    studio: Studio, use: Use, level: Level
) -> None:
    ranking = studio.selection.prompt("folk tune", use=use, level=level, k=10)
    for c in ranking.candidates:
        role = Role.MELODY if level is Level.PARAMETER else None
        check = studio.check(GenerationRequest((Reference(c.song.id, level, role),), use=use))
        assert check.allowed, (c.song.id, check.summary())
    if use is Use.COMMERCIAL:
        ids = ranking.song_ids
        assert NON_COMMERCIAL_SONG_ID not in ids and SPLIT_COMMERCIAL_SONG_ID not in ids


def test_alternatives_never_contain_a_song_refused_for_that_level_and_use(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The masks are only a prefilter: make them claim every song is usable; the consent
    # service must still keep refused songs out of the alternatives.
    engine = studio.selection.engine
    monkeypatch.setattr(engine, "allowed", lambda _level, _use: np.ones(1000, dtype=bool))
    for level, role in ((Level.SONG, None), (Level.PARAMETER, Role.MELODY)):
        ref = Reference(NON_COMMERCIAL_SONG_ID, level, role)
        verification = studio.check(GenerationRequest((ref,), use=Use.COMMERCIAL))
        assert not verification.allowed
        (alts,) = studio.selection.alternatives(verification)
        assert alts.refused == ref and alts.ranking.candidates
        for c in alts.ranking.candidates:
            swapped = alts.swapped(c.song.id)
            assert swapped.level is level and swapped.role is role
            again = studio.check(GenerationRequest((swapped,), use=Use.COMMERCIAL))
            assert again.allowed, again.summary()
        assert SPLIT_COMMERCIAL_SONG_ID not in alts.ranking.song_ids


def test_a_stale_consent_cache_offers_nothing_for_commercial_use(
    tmp_path: Path, indexed_dir: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(indexed_dir, data)
    # A server is set but consent was never synced: commercial use fails closed, so no song
    # may be offered for it; private use still gets answers.
    with _studio(data, indexed_dir.parent / "models", server_url="https://rights.test") as s:
        assert s.selection.prompt("folk tune", use=Use.COMMERCIAL).candidates == ()
        assert s.selection.prompt("folk tune", use=Use.PRIVATE).candidates


def test_proposed_references_are_verified_like_chosen_ones(studio: Studio) -> None:
    melody = Reference(PERMITTED_SONG_IDS[0], Level.PARAMETER, Role.MELODY)
    rhythm = Reference(PERMITTED_SONG_IDS[1], Level.PARAMETER, Role.RHYTHM)
    request = GenerationRequest((melody, rhythm), use=Use.COMMERCIAL)
    (proposal,) = studio.selection.propose(request)
    assert proposal.reference.role is Role.TIMBRE
    assert proposal.song.id not in PERMITTED_SONG_IDS[:2]
    accepted = replace(request, references=(*request.references, proposal.reference))
    assert studio.check(accepted).allowed
    studio.validate(accepted)  # the engine can make it
    # When every other song is refused for the use, nothing is proposed.
    studio.selection.engine.verified = lambda *a, **k: set()  # type: ignore[method-assign]
    assert studio.selection.propose(request) == []


def test_similar_and_recommend_exclude_what_the_user_has(studio: Studio) -> None:
    sid = PERMITTED_SONG_IDS[0]
    similar = studio.selection.similar(sid, k=4)
    assert sid not in similar.song_ids and len(similar.candidates) == 4
    more = studio.selection.similar(sid, k=4, exclude=similar.song_ids)
    assert not set(more.song_ids) & set(similar.song_ids)  # "more" gives others
    studio.selection.like(PERMITTED_SONG_IDS[2])
    assert studio.selection.likes() == [PERMITTED_SONG_IDS[2]]
    recs = studio.selection.recommend([sid], k=5)
    assert sid not in recs.song_ids and recs.candidates
    with pytest.raises(InvalidInput, match="no-such-song"):
        studio.selection.similar("no-such-song")


def test_indexing_resumes_where_it_stopped_without_measuring_twice(
    tmp_path: Path, demo_dirs: tuple[Path, Path], indexed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import musicapp.selection.indexing as indexing

    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_dirs[0], data / "catalog.sqlite")
    shutil.copytree(demo_dirs[1], data / "audio")
    monkeypatch.setattr(indexing, "BATCH", 4)
    with _studio(data, indexed_dir.parent / "models") as s:
        cancel = CancelToken()

        def stop_after_first_batch(p: object) -> None:
            cancel.cancel()

        job = s.selection.index_job()
        assert job is not None
        with pytest.raises(Cancelled):
            job.run(stop_after_first_batch, cancel)
        assert len(s.selection.engine.indexer().pending()) == 6  # the first batch stayed done
        measured: list[str] = []
        real = indexing.describe_audio
        monkeypatch.setattr(
            indexing, "describe_audio", lambda *a, **k: measured.append("x") or real(*a, **k)
        )
        job = s.selection.index_job()
        assert job is not None and job.run(lambda _p: None, CancelToken()) == 6
        assert len(measured) == 6 and s.selection.index_job() is None


def test_the_word_fallback_answers_when_no_text_model_can_run(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    import musicapp.selection.minilm as minilm

    monkeypatch.setattr(minilm, "minilm_state", lambda: (False, "torch is not installed"))
    studio.selection.engine._embedders = None  # choose again
    status = studio.selection.status()
    assert "word overlap" in status.text_embedding and status.pending == 10
    ranking = studio.selection.prompt("Chorale Baroque strings", k=2)
    assert "word overlap" in ranking.embedding
    assert ranking.candidates[0].song.subgenre == "Chorale"


def test_lists_are_diverse_and_keep_a_share_of_the_long_tail() -> None:
    pool = [Scored(f"a{i}", "Artist A", 1 - i / 100) for i in range(10)]
    pool += [Scored(f"b{i}", f"Artist {i}", 0.8 - i / 100) for i in range(10)]
    head = head_songs({f"a{i}": 10 for i in range(10)} | {"b0": 5, "b1": 5}, catalogue_size=40)
    picked = diversify(pool, 8, head)
    artists = [s.artist for s, _ in picked]
    assert len(picked) == 8 and artists.count("Artist A") <= 2
    assert sum(tail for _, tail in picked) >= 3  # 30 % of 8, rounded up
    assert [s.score for s, _ in picked] == sorted((s.score for s, _ in picked), reverse=True)
    # "Traditional (Irish)" is no artist: its tunes are not capped as one artist's songs.
    assert artist_key("Traditional (Irish)", "a") != artist_key("Traditional (Irish)", "b")
    assert artist_key("Scott Joplin", "a") == artist_key("scott joplin ", "b")
    # Without usage there is no head or tail to speak of, nor with too little of it.
    assert not any(tail for _, tail in diversify(pool, 8, frozenset()))
    assert head_songs({"a0": 3, "a1": 1}, catalogue_size=40) == frozenset()
    assert np.isfinite([s.score for s, _ in picked]).all()


def test_tiny_random_clap_answers_when_its_weights_are_present_wiring_only(
    tmp_path: Path, indexed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLAP takes over from the embedded default when its checked weights are in the models
    folder. A tiny random CLAP tests the wiring (audio and prompts go through CLAP, every
    song is embedded by it, the UI is told), not the quality of its answers."""
    from musicapp.selection import clap
    from musicapp.testing.tiny_clap import save_tiny_clap, tiny_manifest

    models = tmp_path / "models"
    manifest = tiny_manifest(models, save_tiny_clap(models), tmp_path / "manifest.toml")
    monkeypatch.setattr(clap, "MANIFEST", manifest)
    data = tmp_path / "data"
    shutil.copytree(indexed_dir, data)
    with _studio(data, models) as s:
        status = s.selection.status()
        assert status.clap and status.text_embedding == "CLAP (LAION music checkpoint)"
        assert status.indexed == 0  # the default's vectors do not count for CLAP
        job = s.selection.index_job()
        assert job is not None and job.run(lambda _p: None, CancelToken()) == 10
        ranking = s.selection.prompt("a lively jig", k=3, use=Use.COMMERCIAL)
        assert ranking.embedding.startswith("CLAP") and len(ranking.candidates) == 3
        assert NON_COMMERCIAL_SONG_ID not in ranking.song_ids
        assert s.selection.similar(PERMITTED_SONG_IDS[0], k=2).embedding.startswith("CLAP")
        assert sum(n for _, n in s.selection.facets()["mood"]) > 0  # zero-shot labels by CLAP


def test_consent_given_while_the_app_runs_is_offered_at_once(studio: Studio) -> None:
    from datetime import UTC, datetime, timedelta

    def offered() -> list[str]:
        return studio.selection.prompt("sacred choir mass", use=Use.COMMERCIAL, k=10).song_ids

    assert NON_COMMERCIAL_SONG_ID not in offered()  # the filter masks are read and cached now
    now = datetime.now(UTC) - timedelta(seconds=1)
    for record in studio.catalog.consent.consent_records([NON_COMMERCIAL_SONG_ID]):
        studio.catalog.consent.add_consent(
            replace(record, version=record.version + 1, uses=frozenset(Use), effective_from=now)
        )
    assert NON_COMMERCIAL_SONG_ID in offered()  # not hidden by the cached masks


def test_a_big_catalogues_index_is_saved_and_reused_until_the_catalogue_changes(
    tmp_path: Path, indexed_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An IVF index (a large catalogue's: forced here at 10 songs) is trained once and saved
    beside the store; the next start loads it instead of reading every vector again."""
    data = tmp_path / "data"
    shutil.copytree(indexed_dir, data)
    options = {"ivf_from": 5, "nlist": 2, "nprobe": 2}
    with _studio(data, indexed_dir.parent / "models") as s:
        s.selection.engine.index_options = options
        first = s.selection.prompt("fiddle tune", k=3).song_ids
        assert s.selection.engine.text_index().is_ivf
    saved = data / "catalog-selection-text.faiss"
    assert saved.is_file()
    with _studio(data, indexed_dir.parent / "models") as s:
        engine = s.selection.engine
        engine.index_options = options

        def no_reading(*_a: object) -> None:
            raise AssertionError("the saved index was not used")

        monkeypatch.setattr(engine.store, "song_vectors", no_reading)
        assert s.selection.prompt("fiddle tune", k=3).song_ids == first
        monkeypatch.undo()
        # A changed song (its description) makes the saved index stale: built again.
        engine.store.put_song("bach-bwv269", "x" * 64, "a changed description")
        engine.changed()
        monkeypatch.setattr(engine.store, "song_vectors", no_reading)
        with pytest.raises(AssertionError, match="not used"):
            s.selection.prompt("fiddle tune", k=3)


def test_a_prompts_words_find_songs_that_say_them(studio: Studio) -> None:
    """The description's words count beside the sentence embedding: the one song whose
    instruments include a piccolo comes first for "piccolo", and the word index follows a
    changed description."""
    ranking = studio.selection.prompt("piccolo", k=3)
    assert ranking.candidates[0].song.id == "fife-british-grenadiers"
    store = studio.selection.engine.store
    row = store.song_row("bach-bwv269")
    assert row is not None
    store.put_song("bach-bwv269", row[1], row[2] + " Also heard on a glockenspiel.")
    assert [v for v, _ in store.lexical(["glockenspiel"], 5, 1.0)] == [row[0]]
    store.put_song("bach-bwv269", row[1], row[2])
    assert store.lexical(["glockenspiel"], 5, 1.0) == []


def test_prompts_look_for_unembedded_songs_only_when_songs_were_added(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding what is pending reads every song id: fine once, not before every prompt of a
    million-song catalogue."""
    from musicapp.selection.indexing import CatalogueIndexer

    studio.selection.prompt("fiddle", k=2)

    def scanned(_self: object) -> list[str]:
        raise AssertionError("scanned the catalogue for songs to embed")

    monkeypatch.setattr(CatalogueIndexer, "pending", scanned)
    studio.selection.prompt("fiddle", k=2)
    studio.selection.similar(PERMITTED_SONG_IDS[0], k=2)
    monkeypatch.setattr(CatalogStore, "songs_stamp", lambda _self: 10**9)  # a song was added
    with pytest.raises(AssertionError, match="scanned"):
        studio.selection.prompt("fiddle", k=2)


def test_a_damaged_song_file_does_not_stop_indexing_or_prompts(
    tmp_path: Path, demo_dirs: tuple[Path, Path], indexed_dir: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_dirs[0], data / "catalog.sqlite")
    shutil.copytree(demo_dirs[1], data / "audio")
    damaged = sorted((data / "audio" / PERMITTED_SONG_IDS[1]).glob("*.flac"))[0]
    damaged.write_bytes(damaged.read_bytes()[:2000])  # cut off mid-file
    with _studio(data, indexed_dir.parent / "models") as s:
        ranking = s.selection.prompt("a reel on the whistle", k=3)  # indexes first
        assert ranking.candidates and s.selection.status().pending == 0
        row = s.selection.engine.store.song_row(PERMITTED_SONG_IDS[1])
        assert row is not None and "Irish Folk" in row[2]  # described by its metadata


def test_a_damaged_selection_store_is_set_aside_and_rebuilt(
    tmp_path: Path, indexed_dir: Path
) -> None:
    data = tmp_path / "data"
    shutil.copytree(indexed_dir, data)
    store = data / "catalog-selection.sqlite"
    for extra in ("-wal", "-shm"):
        store.with_name(store.name + extra).unlink(missing_ok=True)
    store.write_bytes(b"not a database" * 100)
    with _studio(data, indexed_dir.parent / "models") as s:  # the app still opens
        assert s.selection.engine.store.set_aside == data / "catalog-selection.sqlite.damaged"
        assert s.selection.prompt("fiddle tune", k=2).candidates  # re-embedded first
    assert (data / "catalog-selection.sqlite.damaged").read_bytes().startswith(b"not a database")
