"""Claims of the user's own songs on the rights server (issue 19: the rights wizard makes the user
the holder of their own music "locally; with a server, as a claim the server's admin confirms").
Declaring is local and at once; with a server set, each song is also claimed there at the next
sync, and once the admin confirms, the song's consent comes from the server like any other."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from musicapp.core import GenerationRequest, Level, Reference, Use
from musicapp.sync.claims import CONFIRMED, PENDING, REFUSED, REJECTED, UNSENT


@pytest.fixture
def studio(synced_app, server, tmp_path):
    """A studio whose rights server is the in-memory FakeServer, with two of the user's own
    recordings imported (nobody holds them yet)."""
    from musicapp.studio import Studio
    from musicapp.sync.engine import SyncEngine

    settings, catalog, ledger = synced_app
    engine = SyncEngine(settings, catalog, ledger, server.transport(), sleep=lambda s: None)
    studio = Studio(settings, catalog, ledger, sync=engine)
    folder = tmp_path / "my music"
    folder.mkdir()
    for i, name in enumerate(("Night Drive.wav", "Harbour Lights.flac")):
        t = np.arange(44100 * 6) / 44100
        tone = 0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t)
        sf.write(folder / name, np.stack([tone, tone], 1), 44100)
    report = studio.library.import_library(folder)
    studio.ids = sorted(f.song_id for f in report.imported)
    yield studio
    studio.close()
    engine.state.close()


def _source(studio, song_id: str) -> str:
    return studio.consent_sources([song_id])[song_id].words()


def test_a_declared_song_is_claimed_at_the_next_sync_and_confirmed_by_the_admin(
    studio, server
) -> None:
    ids = studio.ids
    studio.library.declare_own_rights(ids, "Ann Archer", "performer", [Use.NON_COMMERCIAL])
    # At once, before any sync: usable as this computer's records say, and waiting to be sent.
    private = GenerationRequest((Reference(ids[0], Level.SONG),), use=Use.PRIVATE)
    assert studio.check(private).allowed
    assert [c.status for c in studio.library.claims()] == [UNSENT, UNSENT]
    assert studio.library.claims_server() == "https://rights.test"
    assert "this computer's records" in _source(studio, ids[0])

    studio.sync.sync_once()
    claims = {c.song_id: c for c in studio.library.claims()}
    assert {c.status for c in claims.values()} == {PENDING}
    sent = {c["song_id"]: c for c in server.claims.values()}
    assert sent.keys() == set(ids)
    assert sent[ids[0]]["holder_id"] == "self:ann-archer"
    assert sent[ids[0]]["uses"] == ["non_commercial", "private"]
    assert sent[ids[0]]["song"]["rights_holders"] == [
        {"id": "self:ann-archer", "name": "Ann Archer", "kind": "performer", "split": 1.0}
    ]
    assert "waiting for the rights server's administrator" in claims[ids[0]].words()

    studio.sync.sync_once()  # sent once: a second sync only asks how they stand
    assert len(server.claims) == 2

    server.decide_claim(claims[ids[0]].claim_id, confirm=True)
    server.decide_claim(claims[ids[1]].claim_id, confirm=False, reason="Not your recording")
    studio.sync.sync_once()
    now = {c.song_id: c for c in studio.library.claims()}
    assert now[ids[0]].status == CONFIRMED
    assert (now[ids[1]].status, now[ids[1]].reason) == (REJECTED, "Not your recording")
    assert now[ids[1]].words().endswith("rejected by the rights server's administrator: "
                                        "Not your recording")  # fmt: skip
    # The confirmed song's consent now comes from the server, with the uses claimed.
    assert _source(studio, ids[0]) == "Consent from the rights server rights.test"
    records = studio.catalog.consent.consent_records([ids[0]])
    assert [(r.holder_id, r.version) for r in records] == [("self:ann-archer", 1)]
    assert records[0].uses == frozenset({Use.PRIVATE, Use.NON_COMMERCIAL})


def test_a_song_the_server_will_not_take_is_kept_with_its_words_and_not_sent_again(
    studio, server
) -> None:
    studio.library.declare_own_rights(studio.ids[:1], "Ann Archer")
    # The song was claimed there first, from another device.
    server.claims["x"] = {
        "id": "x", "song_id": studio.ids[0], "status": "pending", "device_id": "d-99",
        "song": {}, "holder_id": "self:bob", "permissions": [], "uses": [], "reason": None,
    }  # fmt: skip
    studio.sync.sync_once()
    [claim] = studio.library.claims()
    assert (claim.status, claim.reason) == (REFUSED, "claimed by someone else")
    assert claim.words() == "not taken by the rights server: claimed by someone else"
    requests = server.requests
    studio.sync.sync_once()
    assert studio.library.claims()[0].status == REFUSED
    assert not any(c["device_id"] != "d-99" for c in server.claims.values())
    assert server.requests > requests  # the sync ran, and sent no claim


def test_without_a_server_declaring_claims_nothing(demo_studio, tmp_path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    t = np.arange(44100 * 6) / 44100
    sf.write(folder / "Song.wav", np.stack([np.sin(2 * np.pi * 330 * t)] * 2, 1), 44100)
    song_id = demo_studio.library.import_library(folder).imported[0].song_id
    demo_studio.library.declare_own_rights([song_id], "Ann Archer")
    assert demo_studio.library.claims_server() == ""
    assert demo_studio.library.claims() == []


def test_starting_over_with_another_server_sends_the_claims_again(studio, server) -> None:
    studio.library.declare_own_rights(studio.ids, "Ann Archer")
    studio.sync.sync_once()
    assert {c.status for c in studio.library.claims()} == {PENDING}
    studio.sync.start_over()
    assert {c.status for c in studio.library.claims()} == {UNSENT}
    assert all(c.claim_id == "" for c in studio.library.claims())


def test_the_cli_says_how_each_claim_stands(studio, server, capsys) -> None:
    from musicapp.cli import main

    studio.library.declare_own_rights(studio.ids, "Ann Archer")
    studio.sync.sync_once()
    first = next(c for c in studio.library.claims() if c.song_id == studio.ids[0])
    server.decide_claim(first.claim_id, confirm=False, reason="Not your recording")
    studio.sync.sync_once()
    data = str(studio.settings.data_dir)
    assert main(["rights", "claims", "--data-dir", data, "--no-progress"]) == 0
    out = capsys.readouterr().out.splitlines()
    titles = {c.song_id: c.title for c in studio.library.claims()}
    assert f"{studio.ids[0]}  {titles[studio.ids[0]]}: rejected by the rights server's " \
        "administrator: Not your recording" in out  # fmt: skip
    assert any(line.endswith("waiting for the rights server's administrator to confirm it")
               for line in out)  # fmt: skip
