"""Content digests that recognise catalogue audio in another file: cuts, containers, depths."""

import numpy as np
import soundfile as sf

from musicapp.audio.identity import (
    MIN_CHUNK,
    chunk_digests,
    covered_frames,
    file_sha256,
    pcm16_variants,
    pcm_sha256,
    read_pcm16,
)


def music(seconds=6.0, sr=44100, seed=0):
    """Stereo noise bursts and tones: varied enough that chunk cuts fall everywhere."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    x = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 0.5 * t))
    x = x + 0.05 * rng.standard_normal(n)
    return np.stack([x, 0.8 * x + 0.02 * rng.standard_normal(n)]).astype(np.float32)


def shared(a, b):
    da = {c.digest for c in a}
    return [c for c in b if c.digest in da]


def test_a_cut_of_the_audio_shares_its_chunks_from_any_start(tmp_path):
    audio = music()
    whole = chunk_digests(pcm16_variants(audio)[0])
    assert len(whole) > 20
    for start in (0, 1, 777, 44100 + 13):
        cut = pcm16_variants(audio[:, start : start + 3 * 44100])[0]
        found = shared(whole, chunk_digests(cut))
        # all but the partial chunks at the cut's two ends, on both channels
        assert covered_frames(found, len(cut)) > len(cut) - 4 * MIN_CHUNK * 4


def test_the_same_samples_in_another_container_or_depth_read_back_alike(tmp_path):
    audio = music()
    variants = [pcm_sha256(v) for v in pcm16_variants(audio)]
    # Whatever file libsndfile writes the float audio to reads back as one of the variants.
    for name, subtype in [
        ("a.wav", "PCM_16"),
        ("a24.wav", "PCM_24"),
        ("f.wav", "FLOAT"),
        ("a.flac", "PCM_16"),
        ("a24.flac", "PCM_24"),
        ("a.aiff", "PCM_16"),
    ]:
        sf.write(tmp_path / name, audio.T, 44100, subtype=subtype)
        assert pcm_sha256(read_pcm16(tmp_path / name)[0]) in variants, name
    # A lossless conversion of a file keeps its samples, not its bytes.
    data, sr = sf.read(tmp_path / "a.wav", dtype="int16")
    sf.write(tmp_path / "b.flac", data, sr, subtype="PCM_16")
    assert file_sha256(tmp_path / "b.flac") != file_sha256(tmp_path / "a.wav")
    assert pcm_sha256(read_pcm16(tmp_path / "b.flac")[0]) == pcm_sha256(
        read_pcm16(tmp_path / "a.wav")[0]
    )


def test_other_audio_and_changed_audio_share_nothing():
    audio = music()
    whole = chunk_digests(pcm16_variants(audio)[0])
    assert not shared(whole, chunk_digests(pcm16_variants(music(seed=1))[0]))
    quieter = pcm16_variants(audio * 0.9)[0]
    assert not shared(whole, chunk_digests(quieter))  # exact matches only: the audit's job


def test_silence_identifies_nothing():
    silent = np.zeros((2, 44100 * 3), dtype=np.float32)
    hiss = (np.random.default_rng(0).standard_normal((2, 44100 * 3)) * 1e-4).astype(np.float32)
    assert chunk_digests(pcm16_variants(silent)[0]) == []
    assert chunk_digests(pcm16_variants(hiss)[0]) == []
