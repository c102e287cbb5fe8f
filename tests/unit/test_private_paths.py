"""No local file path leaves the machine: the ledger names the user's audio by its content, and
nothing the sync client sends to the rights server holds the folder it came from."""

import hashlib
import json

import httpx
import numpy as np
import soundfile as sf

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.core import GenerationRequest, Level, Reference, TimeRange
from musicapp.ledger.kinds import AUDIT, GENERATION, VERIFICATION, content_ref
from musicapp.sync.engine import SyncEngine
from musicapp.takes import take_from_event

USER_NAME = "alice-quinlan-private"


def _user_file(tmp_path):
    """A 6 s stereo part saved under a home folder that names its user."""
    folder = tmp_path / "home" / USER_NAME / "Music"
    folder.mkdir(parents=True)
    t = np.arange(6 * 44100) / 44100
    mono = 0.3 * np.sin(2 * np.pi * 110.0 * t) * np.exp(-3 * (t % 0.5))
    path = folder / "my-guitar.wav"
    sf.write(path, np.stack([mono, mono]).T.astype(np.float32), 44100)
    return path


def _request(path):
    a, b = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]
    return GenerationRequest(
        (
            Reference(a, Level.AUDIO, weight=0.7),
            Reference(b, Level.TEMPORAL, time_range=TimeRange(0.0, 6.0), weight=0.3),
        ),
        engine="tonematch",
        user_audio=str(path),
    )


def test_generation_events_and_what_sync_sends_hold_no_local_path(
    demo_studio, tmp_path, server, monkeypatch
):
    # Host names often carry the user's name: the device registers without it.
    monkeypatch.setattr("platform.node", lambda: f"{USER_NAME}-laptop")
    path = _user_file(tmp_path)
    take = demo_studio.generate(_request(path))

    events = list(demo_studio.ledger.events())
    # Your audio's audit (issue 15), the decision, the take, the take's audit.
    assert [e.kind for e in events] == [AUDIT, VERIFICATION, GENERATION, AUDIT]
    for event in events:
        text = json.dumps(event.payload)
        assert USER_NAME not in text and str(tmp_path) not in text, event.kind
    # The user's audio is named by the sha256 of its bytes, in every event that names it.
    ref = content_ref(hashlib.sha256(path.read_bytes()).hexdigest())
    assert [e.payload["request"]["user_audio"] for e in events[1:3]] == [ref, ref]
    assert events[0].payload["user_audio"] == ref
    generation = events[2].payload
    assert "audio_sha256" not in generation  # one meaning for that name: the export fingerprint
    assert generation["pcm_sha256"] and generation["user_audio_sha256"]

    # This machine still knows where the file is: beside the take, not in the ledger.
    assert demo_studio.take(take.id).request.user_audio == str(path)

    sent: list[bytes] = []

    def recording(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.raw_path + request.content)
        return server.handle(request)

    demo_studio.settings.server_url = "https://rights.test"
    engine = SyncEngine(
        demo_studio.settings,
        demo_studio.catalog,
        demo_studio.ledger,
        httpx.MockTransport(recording),
        sleep=lambda s: None,
    )
    assert engine.sync_once().pushed == 4
    assert sent and len(server.events(engine.state.get("device_id"))) == 4
    for body in sent:
        assert USER_NAME.encode() not in body and str(tmp_path).encode() not in body


def test_a_take_logged_before_keeps_the_path_it_named(tmp_path):
    """Old generation events held the absolute path; they read as they always did."""
    from musicapp.takes import TakeStore

    payload = {
        "request": {
            "references": [{"song_id": "s1", "level": "audio"}],
            "use": "private",
            "user_audio": "/home/bob/a.wav",
        },
        "provenance": {
            "engine": "concat",
            "shares": [{"reference": 0, "song_id": "s1", "share": 1.0}],
        },
        "sample_rate": 44100,
        "duration_s": 2.0,
        "audio_sha256": "0" * 64,
    }
    take = take_from_event("e1", "2026-01-01T00:00:00+00:00", payload, TakeStore(tmp_path))
    assert take.request.user_audio == "/home/bob/a.wav"
    # A new event read where its take's local note is gone names the audio by its content.
    payload["request"]["user_audio"] = content_ref("ab" * 32)
    take = take_from_event("e2", "2026-01-01T00:00:00+00:00", payload, TakeStore(tmp_path))
    assert take.request.user_audio == content_ref("ab" * 32)


def test_an_import_logs_the_manifest_and_file_by_name_only(demo_studio, tmp_path):
    music = tmp_path / "home" / USER_NAME / "Music"
    music.mkdir(parents=True)
    t = np.arange(66150) / 44100
    sf.write(music / "mix.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 44100)
    manifest = music / "manifest.csv"
    manifest.write_text(
        "file,title,artist,stems,rights_holders,permissions,uses\n"
        "mix.wav,First Light,Ann Archer,,Ann Archer:1.0,song_level,private\n"
    )
    report = demo_studio.library.import_library(music, manifest)
    assert report.imported and not report.failed
    (event,) = list(demo_studio.ledger.events("catalog_rights"))
    assert (event.payload["manifest"], event.payload["file"]) == ("manifest.csv", "mix.wav")
    assert USER_NAME not in json.dumps(event.payload)
