"""The audio origins index: catalogue audio brought back as "your audio" is recognised."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musicapp.consent.origins import AudioOrigins
from musicapp.core import Song, Stem

SR = 44100


class FolderCatalogue:
    """Just what the index asks of a catalogue: songs with stem files and a mix."""

    def __init__(self, folder: Path, songs: dict[str, dict[str, np.ndarray]]) -> None:
        self.folder = self.audio_dir = folder
        self._songs = {}
        for song_id, stems in songs.items():
            (folder / song_id).mkdir(parents=True)
            for name, audio in stems.items():
                sf.write(folder / song_id / f"{name}.flac", audio.T, SR, subtype="PCM_16")
            self._songs[song_id] = Song(
                song_id,
                song_id,
                "x",
                "y",
                "z",
                stems=tuple(Stem(n, n, n, "harmony") for n in stems),
            )

    def count(self):
        return len(self._songs)

    def song_ids(self):
        return sorted(self._songs)

    def song(self, song_id):
        return self._songs.get(song_id)

    def audio_files(self, song_id):
        return {
            s.name: self.folder / song_id / f"{s.name}.flac" for s in self._songs[song_id].stems
        }

    def has_own_mix(self, song_id):
        return False

    def load_audio(self, song_id):
        out = np.zeros((2, 0), dtype=np.float32)
        for p in self.audio_files(song_id).values():
            audio = sf.read(p, dtype="float32", always_2d=True)[0].T
            audio = np.repeat(audio, 2, axis=0) if audio.shape[0] == 1 else audio
            out = audio if out.shape[1] == 0 else out + audio
        return out * 0.7


def part(seed, seconds=8.0, channels=2):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f = rng.uniform(100, 400)
    x = 0.2 * np.sin(2 * np.pi * f * t) * (1.2 + np.sin(2 * np.pi * rng.uniform(0.2, 2) * t))
    x = x + 0.03 * rng.standard_normal(len(t))
    return np.stack([x * (1 - 0.2 * c) for c in range(channels)]).astype(np.float32)


@pytest.fixture
def origins(tmp_path):
    cat = FolderCatalogue(
        tmp_path / "audio",
        {"song-a": {"piano": part(1), "bass": part(2, channels=1)}, "song-b": {"lead": part(3)}},
    )
    index = AudioOrigins(tmp_path / "origins.sqlite", cat)
    yield index, cat
    index.close()


def test_a_stem_file_handed_on_as_it_is(origins):
    index, cat = origins
    found = index.identify(cat.audio_files("song-a")["piano"])
    assert [(m.song_id, m.stem, m.fraction) for m in found.matches] == [("song-a", "piano", 1.0)]
    assert found.matches[0].how == "the same file"


def test_the_same_samples_in_another_file_or_format(origins, tmp_path):
    index, cat = origins
    data, _ = sf.read(cat.audio_files("song-b")["lead"], dtype="int16")
    sf.write(tmp_path / "my-lead.wav", data, SR, subtype="PCM_16")
    found = index.identify(tmp_path / "my-lead.wav")
    assert found.by_song() == {"song-b": 1.0}
    assert "same samples" in found.matches[0].how


def test_a_cut_of_the_mix_saved_as_a_preview(origins, tmp_path):
    index, cat = origins
    mix = cat.load_audio("song-a")
    sf.write(tmp_path / "preview.wav", mix[:, 2 * SR + 123 : 6 * SR].T, SR, subtype="FLOAT")
    found = index.identify(tmp_path / "preview.wav")
    assert list(found.by_song()) == ["song-a"]
    assert found.by_song()["song-a"] > 0.9


def test_catalogue_audio_inside_your_own_is_found_in_proportion(origins, tmp_path):
    index, cat = origins
    mine = part(9, seconds=6.0)
    theirs, _ = sf.read(cat.audio_files("song-b")["lead"], dtype="float32", always_2d=True)
    both = np.concatenate([mine, theirs.T[:, : 2 * SR]], axis=1)
    sf.write(tmp_path / "collage.wav", both.T, SR, subtype="PCM_16")
    share = index.identify(tmp_path / "collage.wav").by_song()
    assert list(share) == ["song-b"]
    assert share["song-b"] == pytest.approx(0.25, abs=0.05)  # 2 s of 8 s


def test_your_own_audio_and_changed_audio_are_yours(origins, tmp_path):
    index, cat = origins
    sf.write(tmp_path / "mine.wav", part(42).T, SR)
    assert index.identify(tmp_path / "mine.wav").matches == ()
    theirs, _ = sf.read(cat.audio_files("song-b")["lead"], dtype="float32")
    sf.write(tmp_path / "louder.wav", theirs * 1.1, SR)
    assert index.identify(tmp_path / "louder.wav").matches == ()  # the audit's job, not this


def test_derived_audio_registered_from_a_song_is_found(origins, tmp_path):
    index, _ = origins
    separated = tmp_path / "other.flac"
    sf.write(separated, part(77).T, SR)
    index.register([("other", separated)], "song-b", "part separated by Demucs")
    copy = tmp_path / "copy.wav"
    sf.write(copy, sf.read(separated, dtype="int16")[0], SR, subtype="PCM_16")
    found = index.identify(copy)
    assert [(m.song_id, m.stem, m.origin) for m in found.matches] == [
        ("song-b", "other", "part separated by Demucs")
    ]


def test_a_damaged_index_is_rebuilt(tmp_path):
    cat = FolderCatalogue(tmp_path / "audio", {"song-a": {"piano": part(1)}})
    path = tmp_path / "origins.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    index = AudioOrigins(path, cat)
    assert index.identify(cat.audio_files("song-a")["piano"]).by_song() == {"song-a": 1.0}
    index.close()
