"""The intake's checks accept what the studio really logs: takes with the user's own audio as a
share, exports, and the verifications they cite; statements owe only real songs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import soundfile as sf

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.core import GenerationRequest, Level, Reference, Use
from musicapp.core.codec import song_to_dict
from musicapp.testing.server_helpers import Env
from musicapp.testing.synth import tone

PRICES = {"private": 0.0, "non_commercial": 0.01, "commercial": 0.10}


@pytest.mark.slow
def test_the_studios_takes_and_exports_are_accepted_and_owe_only_real_songs(
    demo_studio, env: Env, tmp_path
) -> None:
    a, b = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]
    both = demo_studio.generate(
        GenerationRequest((Reference(a), Reference(b)), use=Use.COMMERCIAL, duration_s=5.0)
    )
    mine = tmp_path / "my-part.wav"
    sf.write(mine, tone(220.0, 6.0)[0] * 0.5, 44100)  # audio of the user's own, in no catalogue
    reshaped = demo_studio.generate(
        GenerationRequest(
            (Reference(a, Level.AUDIO),),
            use=Use.NON_COMMERCIAL,
            engine="tonematch",
            user_audio=str(mine),
        )
    )
    assert 0 < reshaped.provenance.user_share < 1
    demo_studio.export(reshaped, tmp_path / "out.wav")

    songs = demo_studio.catalog.songs([a, b])
    for song in songs.values():
        assert env.post("/v1/songs", env.admin, {"song": song_to_dict(song)}).status_code == 201
        for split in song.splits:
            body = {
                "song_id": song.id,
                "holder_id": split.holder.id,
                "permissions": ["song_inference", "audio_inference"],
                "uses": list(PRICES),
                "prices": PRICES,
            }
            assert env.post("/v1/consent", env.admin, body).status_code == 201
    device = env.device()
    events = device.upload_dicts(list(demo_studio.ledger.events()))
    # Each take's audit, and the audit of the user's audio before the second (issue 15): the
    # intake takes them as it takes any kind it does not price.
    assert [e["kind"] for e in events] == [
        "verification",
        "generation",
        "audit",
        "audit",
        "verification",
        "generation",
        "audit",
        "export",
    ]
    r = env.post("/v1/ledger/events", device.token, {"events": events})
    assert r.status_code == 200, r.text

    holder = songs[a].splits[0]
    now = datetime.now(UTC)
    period = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    lines = env.get("/v1/statements", env.admin, holder_id=holder.holder.id, **period).json()[
        "lines"
    ]
    assert [(x["event_id"], x["song_id"]) for x in lines] == [(both.id, a), (reshaped.id, a)]
    # The user's own share owes nobody: the holder is paid on the song's share of the take only.
    assert lines[1]["share"] == pytest.approx(1 - reshaped.provenance.user_share, abs=1e-8)
    assert lines[1]["amount"] == pytest.approx(lines[1]["share"] * holder.share * 0.01, abs=1e-9)
    # The studio had no server set: its commercial take was verified on local records only.
    assert lines[0]["flags"] == ["stale_cache"] and lines[1]["flags"] == []
    nobody = env.get("/v1/statements", env.admin, holder_id="@user", **period).json()
    assert nobody["lines"] == []
