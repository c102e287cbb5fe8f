"""Take history (issue 19): the takes made so far, newest first, named on this machine, deleted
with a ledger event that says why the file is gone, and played at matched loudness for A/B."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from musicapp.audio.loudness import integrated_lufs
from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.core import GenerationRequest, InvalidInput, Reference
from musicapp.generation import registry
from musicapp.ledger import LedgerDamaged
from musicapp.testing.exports import FixedRateEngine
from musicapp.testing.ledger_tamper import tamper


@pytest.fixture
def studio(demo_studio, monkeypatch):
    monkeypatch.setitem(registry._FACTORIES, FixedRateEngine.name, lambda: FixedRateEngine(44100))
    return demo_studio


def make(studio, *song_ids: str, seed: int = 0):
    refs = tuple(Reference(s) for s in song_ids)
    request = GenerationRequest(refs, duration_s=2.0, seed=seed, engine=FixedRateEngine.name)
    return studio.generate(request)


def test_history_lists_takes_newest_first_with_their_references(studio) -> None:
    a, b = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]
    first = make(studio, a)
    second = make(studio, a, b, seed=1)
    entries = studio.history.entries()
    assert [e.id for e in entries] == [second.id, first.id]
    titles = tuple(studio.song(s).title for s in (a, b))
    assert entries[0].titles == titles
    assert entries[0].label == f"After {titles[0]} & {titles[1]}"
    assert entries[0].engine == FixedRateEngine.name and entries[0].kept
    assert entries[0].duration_s == pytest.approx(2.0) and entries[0].sample_rate == 44100


def test_a_name_is_kept_on_this_machine_and_never_logged(studio) -> None:
    take = make(studio, PERMITTED_SONG_IDS[0])
    events = studio.ledger.count()
    assert studio.history.rename(take.id, "  verse   idea  ") == "verse idea"
    assert studio.history.entries()[0].label == "verse idea"
    assert studio.ledger.count() == events
    with pytest.raises(InvalidInput, match="take name: 121 characters, at most 120"):
        studio.history.rename(take.id, "x" * 121)
    assert studio.history.rename(take.id, "") == ""
    assert studio.history.entries()[0].name == ""


def test_deleting_a_take_logs_it_first_and_the_take_cannot_be_opened_or_exported(
    studio, tmp_path
) -> None:
    kept = make(studio, PERMITTED_SONG_IDS[0])
    doomed = make(studio, PERMITTED_SONG_IDS[1], seed=1)
    generation = studio.ledger.get(doomed.id)
    event_id = studio.history.delete(doomed.id)
    event = studio.ledger.get(event_id)
    assert event.kind == "take_deleted"
    assert event.payload == {
        "generation_event_id": doomed.id,
        "file_sha256": generation.payload["file_sha256"],
    }
    assert not doomed.audio_path.exists()
    assert studio.ledger.get(doomed.id) == generation  # the use stays on record
    assert [e.id for e in studio.history.entries()] == [kept.id]
    assert studio.take("last").id == kept.id
    with pytest.raises(InvalidInput, match=f"take {doomed.id} was deleted on .*Take history"):
        studio.take(doomed.id)
    with pytest.raises(InvalidInput, match="was deleted"):
        studio.history.delete(doomed.id)
    with pytest.raises(InvalidInput, match="was deleted"):
        studio.history.rename(doomed.id, "x")
    assert studio.ledger.verify().ok


def test_a_take_is_not_deleted_while_the_ledger_is_damaged(studio) -> None:
    take = make(studio, PERMITTED_SONG_IDS[0])
    tamper(studio.ledger.path, "UPDATE events SET payload = '{\"n\":1}' WHERE seq = 1")
    assert not studio.ledger.verify().ok
    with pytest.raises(LedgerDamaged):
        studio.history.delete(take.id)
    assert take.audio_path.exists()


def test_ab_gains_play_both_takes_at_the_quieter_ones_loudness(studio) -> None:
    loud = make(studio, PERMITTED_SONG_IDS[0])
    quiet = make(studio, PERMITTED_SONG_IDS[1], seed=1)
    audio, sr = studio.takes.read(quiet.id)
    sf.write(quiet.audio_path, (audio * 0.25).T, sr, subtype="FLOAT")  # 12 dB quieter
    gains = studio.history.matched_gains([loud.id, quiet.id])
    assert gains[quiet.id] == 1.0 and gains[loud.id] < 1.0
    a, _ = studio.takes.read(loud.id)
    b, _ = studio.takes.read(quiet.id)
    assert integrated_lufs(a * gains[loud.id], sr) == pytest.approx(integrated_lufs(b, sr), abs=0.1)
    assert np.abs(a * gains[loud.id]).max() <= np.abs(a).max()


def test_cli_lists_renames_and_deletes_takes(demo_cli, tmp_path) -> None:
    import json

    run = demo_cli
    assert run("generate", PERMITTED_SONG_IDS[0], "--duration", "3")[0] == 0
    code, out, err = run("takes", "rename", "last", "bridge", "idea")
    assert code == 0 and "is now “bridge idea”" in out, err
    code, out, _ = run("takes", "--json")
    (entry,) = json.loads(out)["takes"]
    assert entry["label"] == "bridge idea" and entry["kept"]
    code, out, _ = run("takes", "delete", "last")
    assert code == 0 and "records it" in out
    code, _, err = run("export", entry["id"], str(tmp_path / "x.wav"))
    assert code == 2 and "was deleted on" in err
    assert run("takes")[1].startswith("No takes yet")
