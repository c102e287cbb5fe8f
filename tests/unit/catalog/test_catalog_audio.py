"""Recordings kept at studio fidelity: their own rate, depth and stereo image, stems and own mix."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from catalog_fakes import HOLDER_A

from musicapp.core import InvalidInput, Song, Split, Stem, TimeRange

IMPORTED = ("/music/take.wav", "0" * 64)  # add_song's `source`: recorded stems, not rendered parts


def stereo(seconds: float, rate: int, seed: int, correlation: float = 0.3) -> np.ndarray:
    """(samples, 2) float32 noise whose channels correlate by about `correlation`, a little
    louder on the left, with a tone above 16 kHz: what a 32 kHz catalogue would lose."""
    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    common, left, right = (rng.standard_normal(n) for _ in range(3))
    mix = np.sqrt(correlation)
    side = np.sqrt(1 - correlation)
    t = np.arange(n) / rate
    air = 0.05 * np.sin(2 * np.pi * 18000 * t)
    out = np.stack([mix * common + side * left, mix * common + side * right], 1) * 0.15
    out[:, 0] *= 1.4
    return (out + air[:, None]).astype(np.float32)


def write(path: Path, audio: np.ndarray, rate: int, subtype: str = "PCM_16") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, rate, subtype=subtype)
    return path


def recorded_song(song_id: str, rate: int, stems: tuple[str, ...]) -> Song:
    return Song(
        id=song_id,
        title=f"Take {song_id}",
        artist="Ann Archer",
        album="Sessions",
        genre="Folk",
        splits=(Split(HOLDER_A, 1.0),),
        stems=tuple(Stem(n, n, "guitar", "harmony") for n in stems),
        sample_rate=rate,
    )


def as_read(path: Path) -> np.ndarray:
    """The file as float32 (channels, n), the way the catalogue returns audio."""
    return sf.read(path, dtype="float32", always_2d=True)[0].T


@pytest.mark.parametrize("rate, subtype", [(44100, "PCM_16"), (48000, "PCM_24")])
def test_stereo_stems_come_back_at_their_rate_sample_for_sample(store, tmp_path, rate, subtype):
    files = {
        name: write(tmp_path / f"{name}.wav", stereo(1.0, rate, seed), rate, subtype)
        for seed, name in enumerate(("guitar", "keys"))
    }
    song = recorded_song("take", rate, tuple(files))
    store.add_song(song, files, source=IMPORTED)

    assert store.song("take").sample_rate == rate
    stems = {}
    for name, path in files.items():
        stems[name] = store.load_audio("take", stem=name)
        assert stems[name].shape == (2, rate) and stems[name].dtype == np.float32
        np.testing.assert_array_equal(stems[name], as_read(path))  # integer PCM: bit for bit
        assert sf.info(store.stem_path("take", name)).subtype == subtype
    full = store.load_audio("take")
    np.testing.assert_allclose(full, stems["guitar"] + stems["keys"], atol=1e-6)
    half = store.load_audio("take", "keys", TimeRange(0.25, 0.75))
    np.testing.assert_array_equal(half, stems["keys"][:, rate // 4 : rate * 3 // 4])


def band_energy(audio: np.ndarray, rate: int, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / rate)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum())


def test_a_44k_stem_keeps_what_it_has_above_16_khz(store, tmp_path):
    path = write(tmp_path / "air.wav", stereo(1.0, 44100, 3), 44100)
    store.add_song(recorded_song("air", 44100, ("air",)), {"air": path}, source=IMPORTED)
    got = store.load_audio("air", stem="air")[0]
    original = as_read(path)[0]
    above = band_energy(got, 44100, 16000, 22050)
    assert above > 0.05 * band_energy(got, 44100, 0, 22050)  # the 18 kHz tone is in it
    assert above == pytest.approx(band_energy(original, 44100, 16000, 22050), rel=1e-3)


def test_a_stereo_stem_keeps_its_image_and_a_mono_one_sits_in_the_centre(store, tmp_path):
    rate = 44100
    image = stereo(1.0, rate, 4, correlation=0.3)
    voice = (0.3 * np.sin(2 * np.pi * 220 * np.arange(rate) / rate)).astype(np.float32)
    files = {
        "guitar": write(tmp_path / "guitar.wav", image, rate),
        "voice": write(tmp_path / "voice.wav", voice, rate),
    }
    store.add_song(recorded_song("duo", rate, ("guitar", "voice")), files, source=IMPORTED)

    guitar = store.load_audio("duo", stem="guitar")
    kept, original = np.corrcoef(guitar)[0, 1], np.corrcoef(as_read(files["guitar"]))[0, 1]
    assert 0.2 < kept < 0.45 and kept == pytest.approx(original, abs=1e-4)
    balance = 20 * np.log10(np.sqrt(np.mean(guitar[0] ** 2) / np.mean(guitar[1] ** 2)))
    assert balance == pytest.approx(20 * np.log10(1.4), abs=0.2)
    left, right = store.load_audio("duo", stem="voice")
    np.testing.assert_array_equal(left, right)  # centred: not panned, not 3 dB down
    np.testing.assert_array_equal(left, as_read(files["voice"])[0])


def test_a_song_with_its_own_mix_returns_that_mix(store, tmp_path):
    rate = 48000
    mix = write(tmp_path / "mix.wav", stereo(1.0, rate, 5), rate, "PCM_24")
    stem = write(tmp_path / "bass.wav", stereo(1.0, rate, 6)[:, 0], rate, "PCM_24")
    store.add_song(
        recorded_song("own", rate, ("bass",)), {"bass": stem}, source=IMPORTED, mix_file=mix
    )
    np.testing.assert_array_equal(store.load_audio("own"), as_read(mix))
    assert store.has_own_mix("own")
    files = store.audio_files("own")
    assert set(files) == {"", "bass"} and files[""].name == "mix.flac"
    assert sf.info(files[""]).subtype == "PCM_24"

    # A recording without stems: its mix alone, Song.stems empty.
    only = write(tmp_path / "only.wav", stereo(1.0, rate, 7), rate)
    source = ("/music/only.wav", "1" * 64)
    store.add_song(recorded_song("only", rate, ()), {}, source=source, mix_file=only)
    assert store.song("only").stems == () and store.has_own_mix("only")
    np.testing.assert_array_equal(store.load_audio("only"), as_read(only))


def test_a_float_source_is_kept_at_24_bit(store, tmp_path):
    audio = stereo(1.0, 44100, 8)
    path = write(tmp_path / "float.wav", audio, 44100, "FLOAT")
    store.add_song(recorded_song("fl", 44100, ("gtr",)), {"gtr": path}, source=IMPORTED)
    assert sf.info(store.stem_path("fl", "gtr")).subtype == "PCM_24"
    np.testing.assert_allclose(store.load_audio("fl", stem="gtr"), audio.T, atol=2.0**-22)


def test_files_a_few_samples_apart_are_cut_to_the_shortest_and_more_is_refused(store, tmp_path):
    rate = 44100
    a = write(tmp_path / "a.wav", stereo(1.0, rate, 9), rate)
    b = write(tmp_path / "b.wav", stereo(1.0, rate, 10)[:-100], rate)  # 2.3 ms shorter
    store.add_song(recorded_song("ab", rate, ("a", "b")), {"a": a, "b": b}, source=IMPORTED)
    assert store.load_audio("ab").shape == (2, rate - 100)
    assert store.song("ab").duration_s == pytest.approx((rate - 100) / rate)

    c = write(tmp_path / "c.wav", stereo(0.9, rate, 11), rate)  # 100 ms shorter
    with pytest.raises(InvalidInput, match=r"a\.wav lasts 1\.000 s and .*c\.wav 0\.900 s"):
        store.add_song(recorded_song("ac", rate, ("a", "c")), {"a": a, "c": c}, source=IMPORTED)
    assert store.song("ac") is None and not (store.audio_dir / "ac").exists()


@pytest.mark.parametrize(
    "rate, stems, mix, message",
    [
        (4000, ("a",), False, "sample rate 4000 Hz is outside 8000-192000"),
        (44100, (), False, "no stems and no mix file"),
        (44100, ("a",), True, "mix.wav: is at 48000 Hz, the song is at 44100 Hz"),
    ],
)
def test_a_song_whose_audio_cannot_be_kept_is_refused(store, tmp_path, rate, stems, mix, message):
    files = {n: write(tmp_path / f"{n}.wav", stereo(1.0, 44100, 1), 44100) for n in stems}
    mix_file = write(tmp_path / "mix.wav", stereo(1.0, 48000, 2), 48000) if mix else None
    with pytest.raises(InvalidInput, match=message):
        store.add_song(recorded_song("bad", rate, stems), files, mix_file=mix_file)
    assert store.is_empty()
