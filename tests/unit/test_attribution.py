"""The corroborative audit's detectors: landmarks, the index, the decomposition, the Auditor."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from musicapp.attribution import landmarks as lm
from musicapp.attribution.auditor import (
    BASELINE,
    COMBINED,
    DECOMPOSITION,
    FINGERPRINTS,
    Auditor,
    audit_index_path,
)
from musicapp.attribution.calibration import window_probabilities
from musicapp.attribution.compare import compare
from musicapp.attribution.index_store import AuditStore
from musicapp.attribution.segments import decompose
from musicapp.attribution.types import AuditResult, Finding
from musicapp.audio.stretch import time_stretch
from musicapp.catalog.store import CatalogStore
from musicapp.core import InvalidInput
from musicapp.jobs import Cancelled, CancelToken

SR = 44_100


@pytest.fixture(scope="module")
def auditor(demo_auditor: Auditor) -> Auditor:
    return demo_auditor


def _cover(seconds: float, seed: int = 0) -> np.ndarray:
    """Other material: a melody of pure tones over a little noise (no catalogue song)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    freqs = np.repeat(220 * 2 ** (rng.integers(0, 12, 40) / 12), n // 40 + 1)[:n]
    x = 0.1 * np.sin(2 * np.pi * freqs * t) + rng.normal(0, 0.02, n)
    return np.stack([x, x]).astype(np.float32)


def _hide(cover: np.ndarray, excerpt: np.ndarray, at_s: float, gain_db: float) -> np.ndarray:
    out = cover.copy()
    level = np.sqrt(np.mean(cover**2)) / np.sqrt(np.mean(excerpt**2))
    i = int(at_s * SR)
    out[:, i : i + excerpt.shape[1]] += excerpt * level * 10 ** (gain_db / 20)
    return out


def test_an_excerpt_the_app_stretched_and_transposed_is_found_with_its_change_and_place(
    demo_store: CatalogStore,
):
    songs = demo_store.song_ids()[:4]
    audio = {s: demo_store.load_audio(s) for s in songs}
    index = lm.FingerprintIndex.build(
        [(i, lm.item_hashes(audio[s], SR)) for i, s in enumerate(songs)]
    )
    excerpt = audio[songs[2]][:, 4 * SR : 14 * SR]
    changed = time_stretch(excerpt, int(excerpt.shape[1] * 0.8), 3)  # 25 % faster, up 3 st
    clusters = sorted(index.query(lm.peaks(changed, SR)), key=lambda c: -c.votes)
    best = clusters[0]
    assert songs[best.item] == songs[2]
    assert best.semitones == 3
    assert best.tempo_ratio == pytest.approx(1.25, abs=0.06)
    # where the excerpt sits in the song: 4 s in, whatever the change
    offset = np.median(best.item_s - best.query_s / best.scale)
    assert offset == pytest.approx(4.0, abs=0.4)


def test_a_hash_in_many_songs_names_none_and_is_left_out():
    one = lm.Hashes(np.array([7, 8], np.int64), np.array([0.0, 1.0], np.float32))
    shared = [(i, one) for i in range(lm.COMMON_SONGS + 1)]
    unique = (9, lm.Hashes(np.array([5], np.int64), np.array([2.0], np.float32)))
    index = lm.FingerprintIndex.build([*shared, unique])
    assert index.keys.tolist() == [5]  # 7 and 8 are in every song: common material
    kept = lm.FingerprintIndex.build(shared[: lm.COMMON_SONGS] + [unique])
    assert sorted(set(kept.keys.tolist())) == [5, 7, 8]


def test_decomposition_recovers_the_weights_of_a_mixture():
    rng = np.random.default_rng(3)
    basis = rng.normal(size=(5, 32)).astype(np.float32)
    target = (0.7 * basis[1] + 0.3 * basis[4]).astype(np.float32)
    w, explained = decompose(target, basis)
    assert w == pytest.approx([0, 0.7, 0, 0, 0.3], abs=1e-6)
    assert explained == pytest.approx(1.0)


def test_window_probabilities_are_a_distribution_with_room_for_none():
    p, none = window_probabilities(np.array([0.99, 0.5, 0.2]))
    assert p.sum() + none == pytest.approx(1.0)
    assert p[0] > p[1] > p[2] and none > p[1]


def test_a_take_of_known_references_is_audited_with_them_on_top(demo_studio):
    from musicapp.catalog.demo import PERMITTED_SONG_IDS
    from musicapp.core import GenerationRequest, Level, Reference

    refs = PERMITTED_SONG_IDS[:2]
    take = demo_studio.generate(
        GenerationRequest(tuple(Reference(s, Level.SONG) for s in refs), duration_s=20, seed=4)
    )
    audio = demo_studio.take_audio(take)
    auditor = Auditor(audit_index_path(demo_studio.settings.catalog_path), demo_studio.catalog)
    try:
        result = auditor.audit(audio, take.sample_rate)
    finally:
        auditor.close()
    assert {s for s, _ in result.top(2)} == set(refs)
    # what is claimed "found outright" is a reference: no stray song is said to be reused
    found = {f.song_id for f in result.findings}
    assert found and found <= set(refs)
    comparison = compare(result, take.provenance.song_shares())
    assert not comparison.missed
    # every second has candidates, each with a probability
    assert all(seg.candidates for seg in result.segments)
    assert all(0 <= c.probability <= 1 for seg in result.segments for c in seg.candidates)


def test_each_method_answers_and_the_baseline_always_names_a_song(auditor, demo_store):
    song = demo_store.song_ids()[1]
    audio = demo_store.load_audio(song)[:, : 12 * SR]
    for method in (BASELINE, FINGERPRINTS, DECOMPOSITION, COMBINED):
        result = auditor.audit(audio, SR, method=method)
        assert len(result.segments) == 12
        assert sum(result.influence.values()) <= 1.0 + 1e-6
    assert auditor.audit(audio, SR, method=FINGERPRINTS).top(1)[0][0] == song
    assert sum(auditor.audit(audio, SR, method=BASELINE).influence.values()) == pytest.approx(1)
    with pytest.raises(InvalidInput, match="audit method"):
        auditor.audit(audio, SR, method="guess")


def test_hidden_material_in_user_audio_is_found_with_its_time_range(auditor, demo_store):
    song = "oneills-1183"
    excerpt = demo_store.load_audio(song)[:, 3 * SR : 15 * SR]
    excerpt = time_stretch(excerpt, int(excerpt.shape[1] * 1.1), -2)
    clip = _hide(_cover(26), excerpt, at_s=7.0, gain_db=-3)
    found = auditor.find_material(clip, SR)
    assert [f.song_id for f in found] == [song]
    f = found[0]
    assert f.start_s == pytest.approx(7.0, abs=1.0)
    assert f.end_s == pytest.approx(7.0 + 12 * 1.1, abs=1.5)
    assert f.pitch_shift == -2
    # where in the song: 12 s of it (the tune repeats, so its first or second time through)
    assert f.song_end_s - f.song_start_s == pytest.approx(12.0, abs=1.5)


def test_clean_user_audio_holds_no_catalogue_material(auditor):
    assert auditor.find_material(_cover(20, seed=5), SR) == ()


def test_the_index_follows_the_catalogue_and_a_cancelled_build_keeps_its_songs(
    demo_dirs: tuple[Path, Path], tmp_path: Path
):
    catalog_path, audio_dir = demo_dirs
    shutil.copy(catalog_path, tmp_path / "catalog.sqlite")
    store = CatalogStore(tmp_path / "catalog.sqlite", audio_dir)
    auditor = Auditor(tmp_path / "audit.sqlite", store)
    seen = []

    def progress(p):
        seen.append(p)
        if len(seen) == 3:
            token.cancel()

    token = CancelToken()
    with pytest.raises(Cancelled):
        auditor.catch_up(progress, token)
    before = auditor.store.count()
    assert 1 <= before < store.count()
    assert auditor.catch_up() == store.count() - before  # resumed, not restarted
    assert auditor.store.count() == store.count()
    auditor.close()
    store.close()


def test_a_damaged_index_is_moved_aside_and_rebuilt(tmp_path: Path):
    path = tmp_path / "catalog-audit.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    store = AuditStore(path)
    assert store.count() == 0
    assert (tmp_path / "catalog-audit.sqlite.damaged").exists()
    store.close()
    sqlite3.connect(path).close()


def test_results_survive_their_dict_form_and_the_comparison_names_disagreements():
    found = Finding("b", 1.0, 5.0, 10.0, 14.0, 0.9, 2, 1.1)
    result = AuditResult(10.0, SR, (), {"a": 0.5, "b": 0.3}, (found,), embedder="x")
    again = AuditResult.from_dict(result.to_dict())
    assert again.influence == result.influence and again.findings == result.findings
    comparison = compare(result, {"a": 0.6, "c": 0.4})
    assert comparison.missed == ("c",)  # declared, not found
    assert comparison.undeclared == ("b",)  # its recording found, not declared
    assert not comparison.agrees
    assert comparison.share_l1 == pytest.approx(0.1 + 0.4 + 0.3 + 0.2)


def test_a_composed_take_disagrees_only_on_a_reused_recording():
    """The composer writes new notes: a reference the audit does not hear as audio is
    expected, not missed; a catalogue recording found outright still disagrees."""
    heard = AuditResult(10.0, SR, (), {"a": 0.2}, (), embedder="x")
    composed = compare(heard, {"a": 0.6, "c": 0.4}, new_notes=True)
    assert composed.missed == () and composed.agrees
    assert not compare(heard, {"a": 0.6, "c": 0.4}).agrees  # the same, from a concat take
    reused = Finding("b", 1.0, 5.0, 10.0, 14.0, 0.9, 2, 1.1)
    with_b = AuditResult(10.0, SR, (), {"a": 0.2, "b": 0.3}, (reused,), embedder="x")
    composed = compare(with_b, {"a": 0.6, "c": 0.4}, new_notes=True)
    assert composed.undeclared == ("b",) and not composed.agrees


def test_the_demo_build_leaves_the_audit_index_ready_for_the_first_take(tmp_path: Path):
    from musicapp.config import Settings
    from musicapp.ledger import Ledger
    from musicapp.studio import Studio

    settings = Settings(data_dir=tmp_path / "data", models_dir=tmp_path / "models", device="cpu")
    settings.server_url = ""
    settings.ensure_dirs()
    catalog = CatalogStore(settings.catalog_path, settings.audio_dir)
    ledger = Ledger(settings.ledger_path)
    studio = Studio(settings, catalog, ledger)
    try:
        assert studio.library.build_demo_job(limit=2).run(lambda p: None, CancelToken()) == 2
        status = studio.audit.status()
        assert (status.songs, status.indexed) == (2, 2)
    finally:
        studio.close()
        ledger.close()
        catalog.close()


def test_bad_audio_is_refused_by_name_and_silence_resembles_nothing(auditor):
    from musicapp.audio.io import AudioError

    with pytest.raises(AudioError, match="not finite"):
        auditor.audit(np.full((2, SR), np.nan, np.float32), SR)
    with pytest.raises(AudioError, match="sample_rate"):
        auditor.find_material(np.zeros((2, SR), np.float32), 0)
    silent = auditor.audit(np.zeros((2, 3 * SR), np.float32), SR)
    assert silent.influence == {} and silent.unattributed == 1.0
    assert all(not seg.candidates for seg in silent.segments)
