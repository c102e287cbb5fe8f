"""The audit inside the workflow: every take is audited and logged beside its by-design
attribution, and catalogue recordings hidden in the user's own audio are refused, added as
references or overridden, as the user chooses.

The tests marked "fake auditor" check the studio's wiring with a stand-in whose findings are
set by the test; the tests marked "real auditor" run the app's own detector over the small
demo catalogue (its index built once for this module).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from musicapp.attribution.auditor import COMBINED, audit_index_path
from musicapp.attribution.types import AuditResult, AuditStatus, Candidate, Finding, Segment
from musicapp.catalog.demo import (
    NON_COMMERCIAL_SONG_ID,
    PERMITTED_SONG_IDS,
    SPLIT_COMMERCIAL_SONG_ID,
)
from musicapp.core import VIA_AUDIT, GenerationRequest, InvalidInput, Level, Reference, Use
from musicapp.studio_types import Refused, UndeclaredMaterial

TARGET = PERMITTED_SONG_IDS[0]  # the tone a tone-match request matches
HIDDEN_OK = PERMITTED_SONG_IDS[1]  # its holders allow every use
SR = 44100


class FakeAuditor:
    """Stands in for attribution.auditor.Auditor: what it finds is set by the test."""

    findings: tuple[Finding, ...] = ()
    influence: dict[str, float] = {}
    fail: Exception | None = None
    made = 0

    def __init__(self, index_path, catalog, **options) -> None:
        self.catalog = catalog
        type(self).made += 1

    def status(self) -> AuditStatus:
        n = self.catalog.count()
        return AuditStatus(n, n, "fake embeddings", "fake fingerprints")

    def catch_up(self, progress=None, cancel=None) -> int:
        return 0

    def audit(self, audio, sample_rate, progress=None, cancel=None, method=COMBINED, **_):
        if self.fail is not None:
            raise self.fail
        seconds = audio.shape[1] / sample_rate
        cands = tuple(
            Candidate(s, 0.0, 1.0, 0.9 - 0.1 * i, "embedding") for i, s in enumerate(self.influence)
        )
        segments = (Segment(0.0, seconds, cands, dict(self.influence)),)
        return AuditResult(seconds, sample_rate, segments, dict(self.influence), self.findings)

    def find_material(self, audio, sample_rate, cancel=None):
        if self.fail is not None:
            raise self.fail
        return self.findings

    def close(self) -> None:
        pass


@pytest.fixture
def fake(monkeypatch):
    class Fake(FakeAuditor):
        findings = ()
        influence = {}
        fail = None
        made = 0

    monkeypatch.setattr("musicapp.rooms.audit.Auditor", Fake)
    return Fake


def _clip(path, seconds: float = 6.0):
    """A user's own part: a rendered tone sequence, no catalogue audio in it."""
    t = np.arange(int(seconds * SR)) / SR
    freqs = np.array([196.0, 247.0, 294.0, 392.0])[(t * 2).astype(int) % 4]
    mono = 0.25 * np.sin(2 * np.pi * np.cumsum(freqs) / SR) * np.exp(-2 * (t % 0.5))
    sf.write(path, np.stack([mono, mono]).T.astype(np.float32), SR)
    return path


def tone_match(path, use=Use.COMMERCIAL, on_undeclared="refuse") -> GenerationRequest:
    return GenerationRequest(
        (Reference(TARGET, Level.AUDIO),),
        use=use,
        engine="tonematch",
        user_audio=str(path),
        options={"wet": "0"},
        on_undeclared=on_undeclared,
    )


def _found(song_id: str, start=1.0, end=4.0) -> Finding:
    return Finding(song_id, start, end, 20.0, 20.0 + end - start, 0.97, pitch_shift=2)


def _kinds(studio) -> list[str]:
    return [e.kind for e in studio.ledger.events()]


# -- after every generation ---------------------------------------------------------------------


def test_every_take_is_audited_and_logged_beside_its_attribution_fake_auditor(demo_studio, fake):
    fake.influence = {TARGET: 0.6, HIDDEN_OK: 0.1}
    request = GenerationRequest((Reference(TARGET),), duration_s=4, seed=1)
    take = demo_studio.generate(request)
    assert _kinds(demo_studio) == ["verification", "generation", "audit"]
    (event,) = demo_studio.ledger.events("audit")
    assert event.payload["subject"] == "take" and event.payload["take_event_id"] == take.id
    assert event.payload["by_design"] == pytest.approx({TARGET: 1.0})
    assert event.payload["comparison"]["missed"] == []
    assert take.audit is not None and take.audit.top(1) == [(TARGET, 0.6)]
    # The take read back from the ledger carries its audit, and the comparison beside it.
    again = demo_studio.take(take.id)
    assert again.audit == take.audit
    comparison = demo_studio.audit.comparison(again)
    assert comparison is not None and comparison.rows[0].song_id == TARGET
    assert comparison.rows[0].by_design == pytest.approx(1.0)
    # A second take and a second audit: one Auditor for the studio.
    demo_studio.generate(request)
    assert fake.made == 1 and len(list(demo_studio.ledger.events("audit"))) == 2


def test_a_failing_audit_never_loses_the_take_fake_auditor(demo_studio, fake, caplog):
    fake.fail = RuntimeError("index unreadable")
    take = demo_studio.generate(GenerationRequest((Reference(TARGET),), duration_s=4, seed=1))
    assert take.audit is None and "did not finish" in take.audit_note
    assert take.audio_path.exists()
    assert _kinds(demo_studio) == ["verification", "generation"]
    assert "index unreadable" in caplog.text
    assert demo_studio.take("last").id == take.id


def test_the_audit_after_a_take_can_be_turned_off(demo_studio, fake):
    demo_studio.settings.audit_takes = False
    take = demo_studio.generate(GenerationRequest((Reference(TARGET),), duration_s=4, seed=1))
    assert take.audit is None and _kinds(demo_studio) == ["verification", "generation"]
    assert fake.made == 0


def test_the_audit_is_the_last_tenth_of_the_progress_fake_auditor(demo_studio, fake):
    seen = []
    demo_studio.generate(
        GenerationRequest((Reference(TARGET),), duration_s=4, seed=1), progress=seen.append
    )
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(0.9 <= p.fraction < 1.0 and p.stage == "index" for p in seen)


def test_an_audit_job_logs_a_take_without_one_once(demo_studio, fake):
    demo_studio.settings.audit_takes = False
    take = demo_studio.generate(GenerationRequest((Reference(TARGET),), duration_s=4, seed=1))
    fake.influence = {TARGET: 0.9}
    done = demo_studio.audit.audit_take_job("last").run(lambda p: None, _cancel())
    assert done.influence == {TARGET: 0.9} and demo_studio.audit.of_take(take.id) == done
    demo_studio.audit.audit_take_job(take.id).run(lambda p: None, _cancel())
    assert len(list(demo_studio.ledger.events("audit"))) == 1


def _cancel():
    from musicapp.jobs import CancelToken

    return CancelToken()


# -- undeclared material in the user's audio ----------------------------------------------------


def test_refuse_logs_the_audit_and_makes_no_take_fake_auditor(demo_studio, fake, tmp_path):
    fake.findings = (_found(NON_COMMERCIAL_SONG_ID, 64.0, 72.5),)
    with pytest.raises(UndeclaredMaterial) as refused:
        demo_studio.generate(tone_match(_clip(tmp_path / "mine.wav", 80)))
    err = refused.value
    title = demo_studio.song(NON_COMMERCIAL_SONG_ID).title
    assert err.findings == fake.findings and title in err.titles[NON_COMMERCIAL_SONG_ID]
    assert f"{title}" in str(err) and "1:04–1:12" in str(err)
    assert all(word in str(err) for word in ("refuse", "add", "override"))
    assert _kinds(demo_studio) == ["audit"]  # nothing else is written
    (event,) = demo_studio.ledger.events("audit")
    assert event.id == err.event_id and event.payload["decision"] == "refused"
    assert event.payload["undeclared"] == [NON_COMMERCIAL_SONG_ID]
    assert event.payload["user_audio"].startswith("sha256:")
    assert str(tmp_path) not in json.dumps(event.payload)


def test_findings_are_named_at_their_time_in_the_users_file_fake_auditor(
    demo_studio, fake, tmp_path
):
    from dataclasses import replace

    from musicapp.core import TimeRange

    fake.findings = (_found(NON_COMMERCIAL_SONG_ID, 1.0, 3.0),)
    request = replace(tone_match(_clip(tmp_path / "mine.wav", 8)), user_range=TimeRange(4, 8))
    with pytest.raises(UndeclaredMaterial, match="0:05–0:07"):
        demo_studio.generate(request)


def test_add_verifies_the_found_song_like_a_declared_one_fake_auditor(demo_studio, fake, tmp_path):
    fake.findings = (_found(SPLIT_COMMERCIAL_SONG_ID),)
    with pytest.raises(Refused) as refused:
        demo_studio.generate(tone_match(_clip(tmp_path / "mine.wav"), on_undeclared="add"))
    assert SPLIT_COMMERCIAL_SONG_ID in refused.value.verification.summary()
    assert _kinds(demo_studio) == ["audit", "verification"]
    assert not list(demo_studio.ledger.events("generation"))


def test_add_pays_the_found_song_its_share_of_your_audio_fake_auditor(demo_studio, fake, tmp_path):
    fake.findings = (_found(HIDDEN_OK, 1.0, 4.0),)
    take = demo_studio.generate(tone_match(_clip(tmp_path / "mine.wav"), on_undeclared="add"))
    (added,) = [r for r in take.request.references if r.via == VIA_AUDIT]
    assert added.song_id == HIDDEN_OK and added.level is Level.AUDIO
    assert added.weight == pytest.approx(3.0 / 6.0)
    assert take.provenance.song_shares()[HIDDEN_OK] == pytest.approx(0.5, abs=1e-6)
    holders = {h.id for h, s in demo_studio.royalties(take) if s > 1e-9}
    assert holders == {s.holder.id for s in demo_studio.song(HIDDEN_OK).splits}
    assert any("the audit found" in n and "0:01–0:04" in n for n in take.provenance.notes)
    audit = next(demo_studio.ledger.events("audit"))
    assert audit.payload["decision"] == "added"


def test_override_is_logged_before_the_engine_runs_fake_auditor(demo_studio, fake, tmp_path):
    fake.findings = (_found(NON_COMMERCIAL_SONG_ID),)
    take = demo_studio.generate(tone_match(_clip(tmp_path / "mine.wav"), on_undeclared="override"))
    kinds = _kinds(demo_studio)
    assert kinds.index("audit_override") < kinds.index("generation")
    (override,) = demo_studio.ledger.events("audit_override")
    assert override.payload["song_ids"] == [NON_COMMERCIAL_SONG_ID]
    assert override.payload["use"] == "commercial"
    assert override.payload["request"]["user_audio"].startswith("sha256:")
    assert NON_COMMERCIAL_SONG_ID not in take.provenance.song_shares()
    assert any("overrode" in n for n in take.provenance.notes)
    generation = next(demo_studio.ledger.events("generation"))
    assert generation.payload["request"]["on_undeclared"] == "override"
    assert demo_studio.take(take.id).request.on_undeclared == "override"


def test_a_file_found_whole_by_identity_holds_nothing_undeclared_fake_auditor(
    demo_studio, fake, tmp_path
):
    song = demo_studio.song(HIDDEN_OK)
    path = tmp_path / "same.wav"
    sf.write(path, demo_studio.song_audio(HIDDEN_OK).T, song.sample_rate, subtype="PCM_16")
    # The file is the song's own audio: a likeness of another recording the fingerprints find
    # in it is explained by that identity, not material of the user's.
    fake.findings = (_found(HIDDEN_OK, 0.0, song.duration_s), _found(NON_COMMERCIAL_SONG_ID))
    take = demo_studio.generate(tone_match(path))
    assert [r.via for r in take.request.references if not r.picked] == ["user_audio"]
    audit = next(demo_studio.ledger.events("audit"))
    assert audit.payload["decision"] == "clean" and audit.payload["undeclared"] == []


def test_an_unreadable_audit_of_your_audio_fails_closed_unless_overridden_fake_auditor(
    demo_studio, fake, tmp_path
):
    fake.fail = RuntimeError("no index")
    clip = _clip(tmp_path / "mine.wav")
    with pytest.raises(InvalidInput, match="could not be checked"):
        demo_studio.generate(tone_match(clip))
    assert _kinds(demo_studio) == []
    take = demo_studio.generate(tone_match(clip, on_undeclared="override"))
    assert "audit_override" in _kinds(demo_studio) and take.audit is None


def test_the_live_check_does_not_audit(demo_studio, fake, tmp_path):
    fake.findings = (_found(NON_COMMERCIAL_SONG_ID),)
    assert demo_studio.check(tone_match(_clip(tmp_path / "mine.wav"))).allowed
    assert fake.made == 0 and _kinds(demo_studio) == []


def test_on_undeclared_is_checked_and_carried():
    from musicapp.core.codec import request_from_dict, request_to_dict

    with pytest.raises(InvalidInput, match="on_undeclared") as bad:
        GenerationRequest((Reference(TARGET),), on_undeclared="ignore")
    assert bad.value.field == "on_undeclared"
    request = GenerationRequest((Reference(TARGET),), on_undeclared="add")
    assert request_from_dict(request_to_dict(request)).on_undeclared == "add"
    plain = request_to_dict(GenerationRequest((Reference(TARGET),)))
    assert "on_undeclared" not in plain  # requests logged before read the same
    assert request_from_dict(plain).on_undeclared == "refuse"


# -- the real auditor ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audited_studio(tmp_path_factory, demo_dirs):
    """One studio over a copy of the small demo catalogue, with its audit index caught up."""
    import shutil

    from musicapp.catalog.store import CatalogStore
    from musicapp.config import Settings
    from musicapp.jobs import CancelToken
    from musicapp.ledger import Ledger
    from musicapp.studio import Studio

    root = tmp_path_factory.mktemp("audited")
    data = root / "data"
    data.mkdir()
    shutil.copy(demo_dirs[0], data / "catalog.sqlite")
    shutil.copy(audit_index_path(demo_dirs[0]), data / "catalog-audit.sqlite")
    shutil.copytree(demo_dirs[1], data / "audio")
    settings = Settings(data_dir=data, models_dir=root / "models", device="cpu")
    settings.server_url = ""
    settings.ensure_dirs()
    catalog = CatalogStore(settings.catalog_path, settings.audio_dir)
    ledger = Ledger(settings.ledger_path)
    studio = Studio(settings, catalog, ledger)
    studio.audit.index_job().run(lambda p: None, CancelToken())
    yield studio
    studio.close()
    ledger.close()
    catalog.close()


def _hidden_clip(studio, song_id, path, seconds=14.0, at=2.0, excerpt=10.0):
    """A user clip holding `excerpt` seconds of a catalogue song at -6 dB under a rendered tone
    sequence (not catalogue audio), starting `at` seconds in."""
    _clip(path, seconds)
    mine, sr = sf.read(path, dtype="float32", always_2d=True)
    song = studio.song(song_id)
    audio = studio.song_audio(song_id)
    from musicapp.audio.io import resample

    start = int(song.duration_s * 0.3 * song.sample_rate)
    cut = audio[:, start : start + int(excerpt * song.sample_rate)]
    cut = resample(cut, song.sample_rate, sr) if song.sample_rate != sr else cut
    a = int(at * sr)
    n = min(cut.shape[1], mine.shape[0] - a)
    mixed = mine.T.copy()
    mixed[:, a : a + n] += cut[:, :n] * 10 ** (-6 / 20)
    mixed /= max(1.0, float(np.abs(mixed).max()) / 0.95)
    sf.write(path, mixed.T, sr, subtype="PCM_16")
    return path


def test_a_take_is_audited_with_its_references_on_top_real_auditor(audited_studio):
    a, b = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[2]
    request = GenerationRequest(
        (Reference(a, weight=0.6), Reference(b, weight=0.4)), duration_s=12, seed=3
    )
    take = audited_studio.generate(request)
    assert take.audit is not None, take.audit_note
    top = [s for s, _ in take.audit.top(3)]
    assert {a, b} <= set(top), take.audit.influence
    assert audited_studio.audit.of_take(take.id) == take.audit


@pytest.mark.parametrize("hidden", [NON_COMMERCIAL_SONG_ID, SPLIT_COMMERCIAL_SONG_ID])
def test_a_hidden_excerpt_is_refused_for_commercial_use_when_its_holder_refuses_real_auditor(
    audited_studio, tmp_path, hidden
):
    clip = _hidden_clip(audited_studio, hidden, tmp_path / "mine.wav")
    with pytest.raises(UndeclaredMaterial) as found:
        audited_studio.generate(tone_match(clip))
    (finding,) = [f for f in found.value.findings if f.song_id == hidden]
    assert finding.start_s == pytest.approx(2.0, abs=2.0)
    with pytest.raises(Refused) as refused:
        audited_studio.generate(tone_match(clip, on_undeclared="add"))
    assert hidden in refused.value.verification.summary()


def test_a_hidden_excerpt_is_added_as_a_reference_when_its_holders_permit_real_auditor(
    audited_studio, tmp_path
):
    clip = _hidden_clip(audited_studio, HIDDEN_OK, tmp_path / "mine.wav")
    take = audited_studio.generate(tone_match(clip, on_undeclared="add"))
    added = [r for r in take.request.references if r.via == VIA_AUDIT]
    assert [r.song_id for r in added] == [HIDDEN_OK]
    assert take.provenance.song_shares()[HIDDEN_OK] > 0
    holders = {h.id for h, s in audited_studio.royalties(take) if s > 0}
    assert {s.holder.id for s in audited_studio.song(HIDDEN_OK).splits} <= holders


def test_an_audit_of_your_file_finds_no_more_than_would_refuse_it_real_auditor(
    audited_studio, tmp_path, recordings
):
    """A file is the user's audio: its audit finds a recording outright only where the take
    would refuse (or add) it, never a song that ``find_material`` does not find. Before, a
    real DI guitar's audit (44.1 kHz mono) showed two songs found (p 0.55 and 0.62) that a
    take made from the same file went ahead without."""
    room = audited_studio.audit
    clip = _hidden_clip(audited_studio, HIDDEN_OK, tmp_path / "mine.wav")
    for path in (recordings / "di-guitar.flac", clip):
        result = room.audit_file_job(path).run(lambda p: None, _cancel())
        assert result.found_songs() == {f.song_id for f in room.find_material(path)}, path
    assert HIDDEN_OK in result.found_songs()


def test_an_audit_of_your_file_that_finds_nothing_says_it_does_not_clear_it_real_auditor(
    audited_studio, tmp_path, recordings
):
    """A rights administrator reading "nothing found" must not take it for "clean": an
    excerpt mixed under other music is usually missed (docs/audit.md), and the audit says so.
    Where it finds a recording, it does not."""
    from musicapp.attribution.types import NOTHING_FOUND

    room = audited_studio.audit
    nothing = room.audit_file_job(recordings / "di-guitar.flac").run(lambda p: None, _cancel())
    assert not nothing.findings
    assert nothing.notes == (NOTHING_FOUND,)
    clip = _hidden_clip(audited_studio, HIDDEN_OK, tmp_path / "mine.wav")
    found = room.audit_file_job(clip).run(lambda p: None, _cancel())
    assert found.findings and NOTHING_FOUND not in found.notes
