"""The studio's rooms (issue 13): one sync state shared by the sync and the consent check, the
choices `musicapp sync` saves, ledger records, the library and the models folder."""

from datetime import UTC, datetime, timedelta

import pytest

from musicapp.config import Settings
from musicapp.consent.service import ConsentService
from musicapp.context import AppContext
from musicapp.core import GenerationRequest, Level, Reference, Use
from musicapp.model_trust import trust_path
from musicapp.rooms.models import SHIPPED, ModelsRoom
from musicapp.studio_types import InsecureServer, LedgerError
from musicapp.sync.state import STATE_FILE, effective_ttl_s

SONG = "fife-british-grenadiers"


@pytest.fixture
def ctx(tmp_path, demo_data_dir, monkeypatch):
    monkeypatch.delenv("MUSICAPP_SERVER_URL", raising=False)
    monkeypatch.delenv("MUSICAPP_CATALOG", raising=False)
    settings = Settings(data_dir=demo_data_dir, models_dir=tmp_path / "models", device="cpu")
    settings.server_url = ""
    with AppContext.open(settings) as opened:
        yield opened


def _commercial() -> GenerationRequest:
    return GenerationRequest(references=(Reference(SONG, Level.SONG),), use=Use.COMMERCIAL)


def test_the_context_owns_one_sync_state_that_the_sync_and_the_consent_check_share(ctx):
    assert ctx.sync_engine.state is ctx.sync_state is ctx.studio.sync.state
    assert ctx.studio.consent._sync_state() is ctx.sync_state
    # What the sync records is what the consent check sees, with no second connection.
    ctx.studio.sync.choose("https://rights.test")
    assert not ctx.studio.check(_commercial()).allowed  # a server, never synced: fails closed
    ctx.sync_state.last_pull_at = datetime.now(UTC) - timedelta(minutes=5)
    assert ctx.studio.check(_commercial()).allowed
    assert ctx.studio.sync.consent_cache().cache_age_s == pytest.approx(300, abs=30)


def test_the_consent_service_opens_no_file(synced_app):
    settings, catalog, _ = synced_app
    check = ConsentService(catalog, settings).check_detailed(_commercial())
    assert not check.verification.allowed and check.freshness.last_pull_at is None
    assert not (settings.data_dir / STATE_FILE).exists()


def test_choose_saves_the_server_ttl_and_plain_http_only_when_allowed(ctx):
    room = ctx.studio.sync
    with pytest.raises(InsecureServer):
        room.choose("http://rights.lan/", consent_ttl_s=6 * 3600)
    assert room.state.get("server_url") is None  # refused: the URL is not saved
    assert effective_ttl_s(ctx.settings, room.state) == 6 * 3600  # the TTL was, first
    room.choose("http://rights.lan/", allow_insecure_http=True)
    assert room.state.get("server_url") == room.state.get("allow_insecure_http")
    assert room.server_url == "http://rights.lan" and room.status().insecure
    room.state.set("server_key_url", "https://pinned.test")  # bound to another server
    room.choose("https://other.test")
    assert room.state.get("server_url") == "http://rights.lan"  # not moved off the pinned one
    assert room.pinned_server == "https://pinned.test" == room.state.synced_server


def test_the_records_room_reads_the_ledger_and_refuses_an_idle_repair(ctx):
    records = ctx.studio.records
    assert records.latest(5) == [] and records.verify().ok and records.damage is None
    for n in range(3):
        ctx.ledger.append("note", {"n": n})
    assert [e.payload["n"] for e in records.latest(2)] == [1, 2]
    with pytest.raises(LedgerError, match="nothing to repair"):
        records.damage_to_record(repair=True)
    assert ctx.studio.library.count() > 0 and not ctx.studio.library.is_empty()
    assert set(ctx.studio.library.songs([SONG, "no-such-song"])) == {SONG}


def test_the_models_room_needs_only_a_folder(tmp_path):
    room = ModelsRoom(tmp_path / "models")
    checks = room.checks()
    # Every model lives in that folder, except those shipped in the repository (the composer).
    assert checks and all(
        check.state.value == "missing" for entry, check in checks if entry.name not in SHIPPED
    )
    assert all(check.state.value == "verified" for e, check in checks if e.name in SHIPPED)
    assert room.trust_list == trust_path(tmp_path / "models")
