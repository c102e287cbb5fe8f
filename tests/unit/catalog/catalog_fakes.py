"""Made-up rights holders and songs of pure tones, for catalogue tests."""

from pathlib import Path

import numpy as np
import soundfile as sf

from musicapp.config import CATALOGUE_RATE
from musicapp.core import RightsHolder, Song, Split, Stem

HOLDER_A = RightsHolder("h-a", "Ann Archer", "composer")
HOLDER_B = RightsHolder("h-b", "Bow Street Music", "publisher")
# Each stem a tone of its own, so a test can tell which stem it is hearing.
STEM_TONES = {"melody": 880.0, "harmony": 440.0, "bass": 110.0}


def tone_song(
    folder: Path, song_id: str, seconds: float = 2.0, rate: int = CATALOGUE_RATE, **fields: object
) -> tuple[Song, dict[str, Path]]:
    """A song of `seconds` of one mono tone per stem at `rate`, and its stem files (16-bit WAV)
    written under `folder`."""
    folder = folder / song_id
    folder.mkdir(parents=True)
    t = np.arange(round(seconds * rate)) / rate
    files = {}
    for name, hz in STEM_TONES.items():
        files[name] = folder / f"{name}.wav"
        sf.write(files[name], (0.8 * np.sin(2 * np.pi * hz * t)).astype(np.float32), rate)
    values: dict[str, object] = {
        "title": f"Song {song_id}",
        "artist": "Ann Archer",
        "album": "Tones",
        "genre": "Test",
        "splits": (Split(HOLDER_A, 0.6), Split(HOLDER_B, 0.4)),
        "stems": tuple(Stem(n, "Sine", "synth", n) for n in STEM_TONES),
        "sample_rate": rate,
        **fields,
    }
    return Song(id=song_id, **values), files  # type: ignore[arg-type]
