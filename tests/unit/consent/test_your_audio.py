"""No way around consent: catalogue audio brought back as "your audio" keeps its song identity.

Each way catalogue audio can reach the studio as the user's own file (a stem as the Stems view
hands it over, a saved preview, a part separated from a song, a re-loaded export, the same
samples in another file) is refused for a song without consent, and attributed to that song
when its consent allows the use.
"""

from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.core import GenerationRequest, Level, Reference, Use
from musicapp.studio import Refused

NO_CONSENT = "joplin-maple-leaf-rag"  # every holder opted out
ALLOWED = PERMITTED_SONG_IDS[1]  # O'Neill's 1183: every level, every use
TARGET = PERMITTED_SONG_IDS[0]  # the tone to match


def tone_match(user_audio, use=Use.COMMERCIAL, wet="0"):
    return GenerationRequest(
        (Reference(TARGET, Level.AUDIO),),
        use=use,
        engine="tonematch",
        user_audio=str(user_audio),
        options={"wet": wet},
    )


def stem_file(studio, song_id):
    """The file the Stems view hands to the Audio panel for "Use as my stem"."""
    result = studio.stems_job(song_id).run(lambda p: None, studio_cancel())
    name = next(n for n in result.stems if "bass" not in n)
    return result.stems[name]


def studio_cancel():
    from musicapp.jobs import CancelToken

    return CancelToken()


def preview_file(studio, song_id, path):
    audio, rate = studio.preview(song_id)
    sf.write(path, audio.T, rate, subtype="PCM_16")
    return path


def same_audio_file(studio, song_id, path):
    """The song's mix, written out as a 16-bit WAV (what a screen recorder would keep)."""
    song = studio.song(song_id)
    sf.write(path, studio.song_audio(song_id).T, song.sample_rate, subtype="PCM_16")
    return path


def separated_part(studio, song_id, folder):
    """A part separated (by the labelled DSP fallback here: no Demucs weights) from a file
    holding the song's audio, as Stems… on that file would make it."""
    mix = same_audio_file(studio, song_id, folder / f"{song_id}-mix.wav")
    result = studio.stems_job(mix).run(lambda p: None, studio_cancel())
    return result.stems["harmonic"]


ENTRY = {
    "stem": lambda studio, sid, tmp: stem_file(studio, sid),
    "preview": lambda studio, sid, tmp: preview_file(studio, sid, tmp / "preview.wav"),
    "same audio": lambda studio, sid, tmp: same_audio_file(studio, sid, tmp / "mine.wav"),
    "separated part": lambda studio, sid, tmp: separated_part(studio, sid, tmp),
}


@pytest.mark.parametrize("entry", list(ENTRY))
def test_catalogue_audio_without_consent_is_refused_as_your_audio(demo_studio, tmp_path, entry):
    path = ENTRY[entry](demo_studio, NO_CONSENT, tmp_path)
    with pytest.raises(Refused) as refused:
        demo_studio.generate(tone_match(path))
    summary = refused.value.verification.summary()
    assert f"{NO_CONSENT} (found in your audio)" in summary
    assert not list(demo_studio.ledger.events("generation"))
    # The live check in the window says the same before anything runs.
    assert not demo_studio.check(tone_match(path)).allowed


@pytest.mark.parametrize("entry", list(ENTRY))
def test_catalogue_audio_with_consent_is_attributed_to_its_song(demo_studio, tmp_path, entry):
    path = ENTRY[entry](demo_studio, ALLOWED, tmp_path)
    take = demo_studio.generate(tone_match(path, wet="0"))
    # At wet 0 % the take is the user's audio unchanged: all of it is the song found in it.
    shares = take.provenance.song_shares()
    assert shares.get(TARGET, 0.0) == pytest.approx(0.0, abs=1e-6)
    assert shares[ALLOWED] == pytest.approx(1.0, abs=0.05 if entry != "stem" else 1e-6)
    found = [r for r in take.request.references if not r.picked]
    assert [r.song_id for r in found] == [ALLOWED] and found[0].level is Level.AUDIO
    holders = {h.id for h, s in demo_studio.royalties(take) if s > 1e-9}
    assert holders == {s.holder.id for s in demo_studio.song(ALLOWED).splits}
    assert any("your audio holds" in n for n in take.provenance.notes)


def test_a_front_end_cannot_hand_over_its_own_idea_of_what_was_found(demo_studio, tmp_path):
    path = stem_file(demo_studio, NO_CONSENT)
    # A request claiming the stem is some permitted song's is found again from the audio.
    forged = replace(
        tone_match(path),
        references=(
            Reference(TARGET, Level.AUDIO),
            Reference(ALLOWED, Level.AUDIO, via="user_audio"),
        ),
    )
    with pytest.raises(Refused, match="found in your audio"):
        demo_studio.generate(forged)


def test_a_reloaded_export_carries_its_references_into_the_next_take(demo_studio, tmp_path):
    # A take of a song that allows non-commercial use only, exported, then used as "your audio"
    # for a commercial release: the song is still in it, and still says no.
    nc = "palestrina-kyrie-ad-fugam"
    take = demo_studio.generate(
        GenerationRequest((Reference(nc),), use=Use.NON_COMMERCIAL, duration_s=6, seed=1)
    )
    out = demo_studio.export(take, tmp_path / "kyrie.flac").path
    with pytest.raises(Refused, match=f"{nc} \\(found in your audio\\)"):
        demo_studio.generate(tone_match(out, use=Use.COMMERCIAL))
    again = demo_studio.generate(tone_match(out, use=Use.NON_COMMERCIAL))
    assert again.provenance.song_shares()[nc] == pytest.approx(1.0, abs=1e-6)
    assert any("an export" in n for n in again.provenance.notes)


def test_your_own_audio_is_yours(demo_studio, tmp_path):
    t = np.arange(3 * 44100) / 44100
    mine = (0.3 * np.sin(2 * np.pi * 196 * t) * np.exp(-t)).astype(np.float32)
    sf.write(tmp_path / "di.wav", np.stack([mine, mine]).T, 44100)
    take = demo_studio.generate(tone_match(tmp_path / "di.wav", wet="0"))
    assert take.provenance.user_share == pytest.approx(1.0)
    assert take.provenance.song_shares() == {TARGET: pytest.approx(0.0, abs=1e-6)}
    assert all(r.picked for r in take.request.references)
