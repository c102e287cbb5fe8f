"""The user's own music (issue 19: "an imported song is default-deny even for private use, and
nothing in the GUI lets you declare your own rights"): songs nobody holds are listed, and the
user declares themselves their holder, logged before it takes effect, usable at once."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.catalog.own_rights import WHERE, holder_id
from musicapp.core import GenerationRequest, InvalidInput, Level, Reference, Use


@pytest.fixture
def mine(demo_studio, tmp_path):
    """Two of the user's own recordings imported from a folder (no manifest): nobody holds them."""
    folder = tmp_path / "my music"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, name in enumerate(("Night Drive.wav", "Harbour Lights.flac")):
        t = np.arange(44100 * 6) / 44100
        tone = 0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t) + 0.01 * rng.standard_normal(t.size)
        sf.write(folder / name, np.stack([tone, tone], 1), 44100)
    report = demo_studio.library.import_library(folder)
    assert len(report.imported) == 2
    return demo_studio, [f.song_id for f in report.imported]


def allowed(studio, song_id: str, use: Use, level: Level = Level.SONG) -> bool:
    return studio.check(GenerationRequest((Reference(song_id, level),), use=use)).allowed


def test_own_songs_are_refused_until_declared_then_allowed_for_the_uses_chosen(mine) -> None:
    studio, ids = mine
    assert {s.id for s in studio.library.unclaimed()} == set(ids)
    assert not allowed(studio, ids[0], Use.PRIVATE)  # default-deny, even private use
    events = studio.library.declare_own_rights(ids, "Ann Archer", "performer", [Use.NON_COMMERCIAL])
    assert studio.library.unclaimed() == []
    for song_id in ids:
        song = studio.song(song_id)
        (split,) = song.splits
        assert (split.holder.id, split.holder.name, split.share) == (
            "self:ann-archer",
            "Ann Archer",
            1.0,
        )
        assert allowed(studio, song_id, Use.PRIVATE)
        assert allowed(studio, song_id, Use.NON_COMMERCIAL, Level.AUDIO)
        assert not allowed(studio, song_id, Use.COMMERCIAL)
    logged = [studio.ledger.get(e) for e in events]
    assert [e.kind for e in logged] == ["catalog_rights", "catalog_rights"]
    assert logged[0].payload["row"] == WHERE
    assert logged[0].payload["consent_added"][0]["uses"] == ["non_commercial", "private"]


def test_a_song_someone_holds_cannot_be_declared_and_nothing_is_logged(mine) -> None:
    studio, ids = mine
    events = studio.ledger.count()
    demo = PERMITTED_SONG_IDS[0]
    holders = ", ".join(s.holder.name for s in studio.song(demo).splits)
    with pytest.raises(InvalidInput, match=f"already has rights holders \\({holders}\\)"):
        studio.library.declare_own_rights([ids[0], demo], "Ann Archer")
    assert studio.ledger.count() == events
    assert not allowed(studio, ids[0], Use.PRIVATE)  # not half done
    studio.library.declare_own_rights([ids[0]], "Ann Archer")
    with pytest.raises(InvalidInput, match="already has rights holders \\(Ann Archer\\)"):
        studio.library.declare_own_rights([ids[0]], "Bob")


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("  ", "composer", "your name as rights holder: it is empty"),
        ("Ann", "overlord", "rights holder kind 'overlord'"),
    ],
)
def test_a_bad_declaration_names_the_field(mine, name, kind, message) -> None:
    studio, ids = mine
    with pytest.raises(InvalidInput, match=message):
        studio.library.declare_own_rights(ids, name, kind)
    assert len(studio.library.unclaimed()) == 2


def test_holder_ids_are_stable_and_plain() -> None:
    assert holder_id("Zoë Ñúñez & Co.") == "self:zoe-nunez-co"
    assert holder_id("李") == "self:me"


def test_an_interrupted_demo_build_is_resumed_with_only_the_missing_songs(
    tmp_path, monkeypatch
) -> None:
    from musicapp.catalog.store import CatalogStore
    from musicapp.config import Settings
    from musicapp.jobs import Cancelled, CancelToken, Progress
    from musicapp.ledger import Ledger
    from musicapp.studio import Studio

    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", device="cpu")
    settings.server_url = ""
    settings.audit_takes = False
    settings.ensure_dirs()
    catalog = CatalogStore(settings.catalog_path, settings.audio_dir)
    ledger = Ledger(settings.ledger_path)
    studio = Studio(settings, catalog, ledger)
    try:
        assert studio.library.demo_unfinished() is None
        token = CancelToken()

        def stop_after_two(p: Progress) -> None:
            if studio.library.count() >= 2:
                token.cancel()

        with pytest.raises(Cancelled):
            studio.library.build_demo_job(limit=4).run(stop_after_two, token)
        have, wanted = studio.library.demo_unfinished()
        assert wanted == 4 and 2 <= have < 4
        job = studio.library.resume_demo_job()
        assert job is not None
        assert job.run(lambda p: None, CancelToken()) == 4 - have
        assert studio.library.count() == 4
        assert studio.library.demo_unfinished() is None
        assert studio.library.resume_demo_job() is None
    finally:
        studio.close()
        ledger.close()
        catalog.close()


def test_cli_lists_unclaimed_songs_and_claims_them(mine, capsys) -> None:
    from musicapp.cli import main

    studio, ids = mine
    data = str(studio.settings.data_dir)

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--data-dir", data, "--no-progress"])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, _ = run("rights")
    assert code == 0 and all(i in out for i in ids)
    code, _, err = run("rights", "claim", "--all", "--name", "Ann", "--allow", "forever")
    assert code == 2 and "'forever' is not a use" in err
    code, out, err = run("rights", "claim", ids[0], "--name", "Ann Archer")
    assert code == 0 and "1 song(s) are now yours (Ann Archer)" in out, err
    code, out, _ = run("rights", "unclaimed")
    assert ids[0] not in out and ids[1] in out
