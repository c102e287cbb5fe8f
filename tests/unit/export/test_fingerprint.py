"""The digests mean what the docs say: checked against bytes and conversions made independently."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from musicapp.export.fingerprint import (
    array_digests,
    audio_sha256,
    file_digests,
    to_pcm24,
    write_pcm,
)
from musicapp.testing.exports import stereo_music


def wav_data(path: Path) -> bytes:
    data = path.read_bytes()
    pos = 12
    while pos < len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk == b"data":
            return data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)
    raise AssertionError("no data chunk")


def sha(header: str, payload: bytes) -> str:
    return hashlib.sha256(header.encode("ascii") + payload).hexdigest()


@pytest.fixture
def pcm24(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A 24-bit stereo WAV at 44.1 kHz and its 24-bit values (frames, channels)."""
    audio = stereo_music(0.5, 44100)
    path = tmp_path / "a.wav"
    write_pcm(path, audio, 44100, 24, "wav")
    return path, to_pcm24(audio, 44100).astype(np.int64)


def test_native_24_bit_is_the_wav_data_chunk(pcm24) -> None:
    path, _ = pcm24
    digests = file_digests(path)
    assert digests.pcm_format == "s24le"
    assert digests.pcm_sha256 == sha("pcm_s24le:2ch:44100Hz\n", wav_data(path))
    assert "s16le" not in digests.exact  # its low bits are not all zero


def test_the_16_bit_digests_of_24_bit_audio(pcm24, tmp_path: Path) -> None:
    path, values = pcm24
    digests = file_digests(path)
    assert digests.audio_sha256 == audio_sha256(path)  # the first exports' definition, kept
    truncated = (values >> 8).astype("<i2").tobytes()
    assert digests.audio_sha256 == sha("pcm_s16le:2ch:44100Hz\n", truncated)
    rounded = np.minimum((values + 128) >> 8, 32767).astype("<i2").tobytes()
    assert digests.pcm16_rounded_sha256 == sha("pcm_s16le:2ch:44100Hz\n", rounded)
    # soundfile's own 24 → 16-bit conversion is the truncated one.
    as_read, _ = sf.read(path, dtype="int32")
    sf.write(tmp_path / "b.wav", as_read, 44100, subtype="PCM_16")
    assert file_digests(tmp_path / "b.wav").exact["s16le"] == digests.audio_sha256


def test_deeper_containers_of_the_same_values_hash_as_them(pcm24, tmp_path: Path) -> None:
    path, values = pcm24
    native = file_digests(path).pcm_sha256
    sf.write(tmp_path / "f.wav", values / float(1 << 23), 44100, subtype="FLOAT")
    sf.write(tmp_path / "i.wav", (values << 8).astype(np.int32), 44100, subtype="PCM_32")
    sf.write(tmp_path / "c.flac", (values << 8).astype(np.int32), 44100, subtype="PCM_24")
    for name, fmt in (("f.wav", "f32le"), ("i.wav", "s32le"), ("c.flac", "s24le")):
        digests = file_digests(tmp_path / name)
        assert digests.pcm_format == fmt and digests.exact["s24le"] == native


def test_16_bit_audio_padded_to_24_bits_hashes_as_16_bit(tmp_path: Path) -> None:
    audio = stereo_music(0.5, 48000)
    write_pcm(tmp_path / "a.flac", audio, 48000, 16, "flac")
    values, _ = sf.read(tmp_path / "a.flac", dtype="int32")  # left-justified: low bits zero
    sf.write(tmp_path / "b.wav", values, 48000, subtype="PCM_24")
    padded = file_digests(tmp_path / "b.wav")
    assert padded.exact["s16le"] == file_digests(tmp_path / "a.flac").pcm_sha256


def test_in_memory_audio_hashes_as_its_files(pcm24, tmp_path: Path) -> None:
    path, _ = pcm24
    decoded, _ = sf.read(path, dtype="float32", always_2d=True)
    assert array_digests(decoded.T, 44100).exact["s24le"] == file_digests(path).pcm_sha256
    audio = stereo_music(0.5, 44100)
    sf.write(tmp_path / "take.wav", audio.T, 44100, subtype="FLOAT")
    in_memory = array_digests(audio, 44100)
    assert in_memory.exact == {"f32le": file_digests(tmp_path / "take.wav").pcm_sha256}
    assert in_memory.quantised["s24le"] == file_digests(path).pcm_sha256
