"""Made-up music libraries for import tests: good files of every format and broken ones."""

import os
import struct
from pathlib import Path

import mutagen
import numpy as np
import soundfile as sf

GOOD = 20
# The broken files and a word of the reason each must be reported with.
BROKEN = {
    "zero.wav": "empty file",
    "text.wav": "not an audio file (text)",
    "cut.flac": "truncated",
    "noise.ogg": "not a valid .ogg",
    "empty.flac": "not a valid .flac",
    "folder.wav": "a folder",
    "notes.txt": "unsupported format .txt",
    "claims-2gb.wav": "truncated WAV",
    "blip.wav": "too short",
    "cover.xyz": "unsupported format .xyz",
}


def tone(seconds: float, rate: int, hz: float, channels: int, seed: int) -> np.ndarray:
    """(samples, channels) float32: a tone, with a little noise so every file differs."""
    t = np.arange(round(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    out = [0.4 * np.sin(2 * np.pi * hz * (1 + 0.5 * c) * t) for c in range(channels)]
    return (np.stack(out, 1) + 0.01 * rng.standard_normal((len(t), channels))).astype(np.float32)


def tag(path: Path, **tags: str) -> None:
    f = mutagen.File(str(path), easy=True)
    if f.tags is None:
        f.add_tags()
    for k, v in tags.items():
        f[k] = v
    f.save()


def make_library(root: Path) -> tuple[Path, list[Path]]:
    """A folder (with a subfolder) of GOOD good files and the BROKEN ones; the good paths."""
    lib = root / "library"
    (lib / "sub" / "deeper").mkdir(parents=True)
    good: list[Path] = []
    plan = (
        [("wav", "WAV", 44100, 2)] * 4
        + [("wav", "WAV", 32000, 1)] * 2
        + [("flac", "FLAC", 48000, 2)] * 5
        + [("ogg", "OGG", 22050, 2)] * 4
        + [("mp3", "MP3", 44100, 1)] * 3
        + [("wav", "WAV", 32000, 2)]  # stereo at the catalogue's rate: compared sample by sample
    )
    for i, (ext, fmt, rate, ch) in enumerate(plan):
        folder = lib if i % 3 else lib / "sub" / ("deeper" if i % 2 else "")
        path = folder / f"track{i:02}.{ext}"
        sf.write(path, tone(1.5, rate, 200 + 37 * i, ch, i), rate, format=fmt)
        if ext in ("flac", "ogg", "mp3") and i % 2 == 0:
            tag(
                path,
                title=f"Tagged Song {i}",
                artist="Tag Artist",
                album="Tagged",
                genre="Folk",
                date="1999-04-01",
            )
        good.append(path)
    # Mislabelled: FLAC content under a .wav name. libsndfile goes by the content, so it imports.
    mislabelled = lib / "really-flac.wav"
    sf.write(mislabelled, tone(1.5, 48000, 990, 2, 99), 48000, format="FLAC")
    good.append(mislabelled)
    assert len(good) == GOOD

    (lib / "zero.wav").write_bytes(b"")
    (lib / "text.wav").write_text("This is not audio.\n" * 20)
    whole = lib / "whole.flac"
    sf.write(whole, tone(3.0, 44100, 300, 2, 7), 44100)
    data = whole.read_bytes()
    (lib / "sub" / "cut.flac").write_bytes(data[: len(data) // 2])
    whole.unlink()
    (lib / "noise.ogg").write_bytes(os.urandom(4096))
    sf.write(lib / "empty.flac", np.zeros((0, 1), np.float32), 44100, format="FLAC")
    if (lib / "empty.flac").stat().st_size == 0:  # this libsndfile writes nothing for no frames
        (lib / "empty.flac").write_bytes(b"fLaC" + b"\x00" * 60)
    (lib / "folder.wav").mkdir()
    (lib / "notes.txt").write_text("liner notes")
    sf.write(lib / "short.wav", tone(1.0, 32000, 500, 1, 5), 32000)
    wav = (lib / "short.wav").read_bytes()
    (lib / "short.wav").unlink()
    at = wav.find(b"data")
    huge = wav[: at + 4] + struct.pack("<I", 0x7FFFFFF0) + wav[at + 8 : at + 8 + 400]
    (lib / "claims-2gb.wav").write_bytes(huge)
    sf.write(lib / "blip.wav", tone(0.2, 32000, 500, 1, 6), 32000)
    (lib / "cover.xyz").write_bytes(b"\x89PNG....")
    (lib / ".DS_Store").write_bytes(b"\x00\x01")  # hidden: ignored, not reported
    return lib, good
