"""The ledger's vocabulary: builders make the payloads the app always logged, minus local paths."""

import pytest

from musicapp.core import GenerationRequest, Level, Reference, Use, Verification
from musicapp.core.codec import request_to_dict
from musicapp.ledger import Ledger
from musicapp.ledger.damage import LEGACY_REANCHOR_KIND, REANCHOR_KIND, REPAIR_KIND
from musicapp.ledger.kinds import (
    ANCHOR_RESET,
    LEDGER_REANCHOR,
    LEDGER_REPAIR,
    catalog_rights_payload,
    content_ref,
    export_failed_payload,
    file_name_only,
    request_payload,
    strip_folder,
    verification_payload,
)


def _request(user_audio=None):
    return GenerationRequest((Reference("s1", Level.SONG),), use=Use.PRIVATE, user_audio=user_audio)


def test_a_request_is_logged_as_before_but_names_the_user_audio_by_content():
    plain = _request()
    assert request_payload(plain, None) == request_to_dict(plain)
    with_audio = _request("/home/alice/Music/take one.wav")
    logged = request_payload(with_audio, "ab" * 32)
    assert logged["user_audio"] == content_ref("ab" * 32) == "sha256:" + "ab" * 32
    assert {k: v for k, v in logged.items() if k != "user_audio"} == {
        k: v for k, v in request_to_dict(with_audio).items() if k != "user_audio"
    }
    with pytest.raises(ValueError, match="sha256"):
        request_payload(with_audio, None)  # never the path, even by mistake


def test_a_verification_payload_has_the_fields_it_always_had():
    verification = Verification(Use.PRIVATE, ())
    payload = verification_payload(_request(), verification, {"ttl_s": 60}, None)
    assert list(payload) == ["request", "use", "allowed", "decisions", "consent_cache"]
    assert payload["consent_cache"] == {"ttl_s": 60} and payload["use"] == "private"


def test_file_names_keep_no_folder():
    assert file_name_only("/home/alice/Music/a.csv") == "a.csv"
    assert file_name_only("C:\\Users\\alice\\a.csv") == "a.csv"
    assert file_name_only("a.csv") == "a.csv" and file_name_only(None) == ""
    raw = {"song_id": "s1", "manifest": "/home/alice/m.csv", "file": "/home/alice/x/a.wav"}
    assert catalog_rights_payload(raw) == {"song_id": "s1", "manifest": "m.csv", "file": "a.wav"}
    assert export_failed_payload("e", "out.wav", "writing", "boom")["file_name"] == "out.wav"
    assert strip_folder(
        "head anchor /home/alice/data/ledger.sqlite.head is missing", "/home/alice/data"
    ) == ("head anchor ledger.sqlite.head is missing")


def test_the_kind_names_are_the_ones_old_ledgers_hold():
    assert (
        (REPAIR_KIND, REANCHOR_KIND, LEGACY_REANCHOR_KIND)
        == (
            LEDGER_REPAIR,
            LEDGER_REANCHOR,
            ANCHOR_RESET,
        )
        == ("ledger_repair", "ledger_reanchor", "anchor_reset")
    )


def test_a_reanchor_event_names_the_anchor_file_without_its_folder(tmp_path):
    folder = tmp_path / "home" / "alice-private" / "data"
    folder.mkdir(parents=True)
    ledger = Ledger(folder / "ledger.sqlite")
    ledger.append("verification", {"i": 1})
    ledger.close()
    (folder / "ledger.sqlite.head").unlink()
    ledger = Ledger(folder / "ledger.sqlite")
    try:
        event = ledger.reanchor("lost the anchor")
    finally:
        ledger.close()
    assert "ledger.sqlite.head" in event.payload["problem"]
    assert "alice-private" not in str(event.payload)
