"""CLAP through laion-clap, offline: a tiny random CLAP of the real classes, saved in the real
models-folder layout, loaded through `load_clap` with the network cut. These test wiring
(loading, checks, preprocessing, shapes), never retrieval quality: the model is random."""

import importlib.util
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from musicapp.core import InvalidInput
from musicapp.weights import find_entry, load_manifest

# Found, never imported: importing laion_clap itself runs its downloading hook.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("laion_clap") is None
    or importlib.util.find_spec("torchlibrosa") is None,
    reason="the ml extra (laion-clap, torchlibrosa) is not installed",
)

CHECKPOINT_NAME = "music_audioset_epoch_15_esc_90.14.pt"


@pytest.fixture(scope="module")
def no_network():
    """Every way out to the network fails: a load that tried would raise."""

    def refuse(*args, **kwargs):
        raise OSError("network access in a test that must stay offline")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(socket, "getaddrinfo", refuse)
        yield


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, no_network):
    """A models folder holding a tiny random CLAP and a manifest that verifies its files."""
    import torch

    from musicapp.selection import clap
    from musicapp.testing.tiny_clap import save_tiny_clap, tiny_manifest

    root = tmp_path_factory.mktemp("clap")
    files = save_tiny_clap(root / "models")
    manifest = tiny_manifest(root / "models", files, root / "manifest.toml")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    clap.clear_cache()
    yield root / "models", manifest
    clap.clear_cache()
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def embedder(tiny):
    from musicapp.selection.clap import load_clap

    models_dir, manifest = tiny
    return load_clap(models_dir, "cpu", manifest=manifest)


def _tones(sr: int, seconds: float = 3.0) -> np.ndarray:
    """The same stereo signal (two tones and a sweep) sampled at `sr`."""
    t = np.arange(int(seconds * sr)) / sr
    sweep = np.sin(2 * np.pi * (200 * t + 150 * t**2))
    left = 0.4 * np.sin(2 * np.pi * 440 * t) + 0.2 * sweep
    right = 0.4 * np.sin(2 * np.pi * 660 * t) + 0.2 * sweep
    return np.stack([left, right]).astype(np.float32)


def test_tiny_random_clap_wiring_loads_offline_and_embeds_text_and_audio(tiny, embedder):
    from musicapp.selection.clap import load_clap

    assert embedder.name == "CLAP (LAION music checkpoint)"
    assert embedder.dim == 512 and embedder.device == "cpu"
    assert embedder.key.startswith("clap:") and len(embedder.key) == len("clap:") + 16
    texts = ["a melancholic fiddle tune for a funeral", "four-part sacred hymn", "jig"]
    vectors = embedder.embed_texts(texts)
    assert vectors.shape == (3, 512) and vectors.dtype == np.float32
    assert np.all(np.isfinite(vectors))
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(embedder.embed_texts(texts), vectors)  # deterministic
    assert embedder.embed_texts([]).shape == (0, 512)
    many = embedder.embed_texts([texts[1]] * 70)  # more than one batch of 64
    assert many.shape == (70, 512)
    np.testing.assert_allclose(many[69], vectors[1], atol=1e-5)
    with pytest.raises(InvalidInput, match="one string"):
        embedder.embed_texts("jig")

    song = embedder.embed_audio(_tones(48_000), 48_000)
    assert song.shape == (512,) and song.dtype == np.float32 and np.all(np.isfinite(song))
    assert abs(float(np.linalg.norm(song)) - 1.0) < 1e-5
    np.testing.assert_array_equal(embedder.embed_audio(_tones(48_000), 48_000), song)

    # Loaded once per folder, device and files; laion's own package (which downloads) and
    # torchvision were never imported.
    assert load_clap(tiny[0], "cpu", manifest=tiny[1]) is embedder
    assert "laion_clap" not in sys.modules and "laion_clap.hook" not in sys.modules
    if importlib.util.find_spec("torchvision") is None:
        assert "torchvision" not in sys.modules


def test_tiny_random_clap_wiring_same_audio_at_44k1_and_48k_embeds_alike(embedder):
    at_48k = embedder.embed_audio(_tones(48_000), 48_000)
    at_44k1 = embedder.embed_audio(_tones(44_100), 44_100)
    noise = np.random.default_rng(0).standard_normal((2, 3 * 48_000)).astype(np.float32) * 0.3
    other = embedder.embed_audio(noise, 48_000)
    assert float(at_48k @ at_44k1) > 0.995
    assert float(at_48k @ at_44k1) > float(at_48k @ other)
    mono = embedder.embed_audio(_tones(48_000).mean(axis=0), 48_000)
    assert float(mono @ at_48k) > 0.9999  # channels are averaged before anything else


def test_tiny_random_clap_wiring_windows_repeat_short_audio_and_spread_over_long(embedder):
    from musicapp.selection.clap import CLIP_SAMPLES, clap_windows

    short = _tones(48_000, 3.0)
    (window,) = clap_windows(short, 48_000)
    assert window.shape == (CLIP_SAMPLES,)
    first = window[: 3 * 48_000].numpy()
    np.testing.assert_allclose(window[3 * 48_000 : 6 * 48_000].numpy(), first)  # repeated
    assert not window[9 * 48_000 :].any()  # then padded
    np.testing.assert_allclose(first, short.mean(axis=0), atol=1 / 32767)  # through int16

    long = np.random.default_rng(1).uniform(-0.5, 0.5, (2, 95 * 44_100)).astype(np.float32)
    windows = clap_windows(long, 44_100, max_windows=4)
    assert len(windows) == 4 and all(w.shape == (CLIP_SAMPLES,) for w in windows)
    assert len(clap_windows(long[:, : 25 * 44_100], 44_100)) == 3
    song = embedder.embed_audio(long, 44_100)
    assert song.shape == (512,) and abs(float(np.linalg.norm(song)) - 1.0) < 1e-5


def test_tiny_random_clap_wiring_zero_shot_scores_every_label(embedder):
    songs = np.stack(
        [embedder.embed_audio(_tones(48_000), 48_000), embedder.embed_audio(_tones(44_100), 44_100)]
    )
    labels = ["happy", "sad", "funeral"]
    scores = embedder.zero_shot(songs, labels)
    assert scores.shape == (2, 3) and scores.dtype == np.float32
    prompts = embedder.embed_texts([f"This is a {label} song." for label in labels])
    np.testing.assert_allclose(scores, songs @ prompts.T, atol=1e-6)
    assert embedder.zero_shot(songs[0], labels, "music for a {}").shape == (1, 3)
    with pytest.raises(InvalidInput, match="audio_vectors"):
        embedder.zero_shot(np.zeros((2, 7), np.float32), labels)


@pytest.mark.parametrize(
    "audio, sr, match",
    [
        (np.zeros((2, 0), np.float32), 48_000, "audio"),
        (np.full((1, 100), np.nan, np.float32), 48_000, "NaN"),
        (np.zeros((1, 100), np.int16), 48_000, "float"),
        (np.zeros((1, 100), np.float32), 0, "sample rate"),
    ],
)
def test_bad_audio_is_refused_with_the_field(embedder, audio, sr, match):
    with pytest.raises(InvalidInput, match=match):
        embedder.embed_audio(audio, sr)


def test_tiny_random_clap_wiring_checkpoint_without_module_prefix_loads_the_same(
    tiny, embedder, tmp_path
):
    """The real checkpoint was saved from a DistributedDataParallel wrapper (`module.` on every
    name); an unwrapped save must load to the same model."""
    from musicapp.selection.clap import load_clap
    from musicapp.testing.tiny_clap import save_tiny_clap, tiny_manifest

    files = save_tiny_clap(tmp_path / "models", prefix="")
    manifest = tiny_manifest(tmp_path / "models", files, tmp_path / "manifest.toml")
    plain = load_clap(tmp_path / "models", "cpu", manifest=manifest)
    texts = ["jig for fiddle"]
    np.testing.assert_allclose(plain.embed_texts(texts), embedder.embed_texts(texts), atol=1e-6)
    assert plain.key != embedder.key  # other bytes, another id


def test_a_changed_checkpoint_byte_is_refused_naming_the_file(tiny, tmp_path):
    from musicapp.selection.clap import clap_state, clear_cache, load_clap

    models_dir, manifest = tiny
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    checkpoint = copy / "clap" / CHECKPOINT_NAME
    data = bytearray(checkpoint.read_bytes())
    data[len(data) // 2] ^= 0x01
    checkpoint.write_bytes(bytes(data))
    clear_cache()
    usable, detail = clap_state(copy, manifest)
    assert not usable and CHECKPOINT_NAME in detail and "does not match its sha256" in detail
    with pytest.raises(InvalidInput, match=rf"{CHECKPOINT_NAME} does not match its sha256"):
        load_clap(copy, "cpu", manifest=manifest)


def test_missing_files_are_named(tiny, tmp_path):
    from musicapp.selection.clap import clap_state, load_clap

    models_dir, manifest = tiny
    usable, detail = clap_state(tmp_path / "empty", manifest)
    assert not usable and "missing" in detail and CHECKPOINT_NAME in detail
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    (copy / "clap" / "roberta-base" / "vocab.json").unlink()
    with pytest.raises(InvalidInput, match=r"missing .*roberta-base/vocab\.json"):
        load_clap(copy, "cpu", manifest=manifest)


def test_clap_state_names_the_missing_checkpoint_without_importing_torch(tmp_path):
    entry = find_entry("clap", load_manifest())
    assert sorted(f.path for f in entry.files) == [
        f"clap/{CHECKPOINT_NAME}",
        "clap/roberta-base/config.json",
        "clap/roberta-base/merges.txt",
        "clap/roberta-base/vocab.json",
    ]
    assert all(len(f.sha256) == 64 and f.sha256_source for f in entry.files)
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from musicapp.selection.clap import clap_state\n"
        f"print(clap_state(Path({str(tmp_path)!r})))\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert out[0].startswith("(False, 'missing ") and CHECKPOINT_NAME in out[0]
    assert out[1] == "False False"


def test_the_torchvision_stand_in_refuses_to_be_used(embedder):
    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed: the real one is used")
    from musicapp.selection.clap_imports import PRIVATE_NAME

    utils = sys.modules[f"{PRIVATE_NAME}.utils"]
    with pytest.raises(RuntimeError, match="torchvision is not installed"):
        utils.FrozenBatchNorm2d(4)


def _legacy_numpy1_copy(src: Path, dest: Path) -> None:
    """The checkpoint re-saved as torch < 1.6 did (one pickle stream, no zip) with its NumPy
    numbers named as NumPy 1 pickled them (numpy.core.multiarray.scalar), as LAION's were."""
    import io

    import torch

    package = torch.load(src, map_location="cpu", weights_only=False)
    buf = io.BytesIO()
    torch.save(package, buf, _use_new_zipfile_serialization=False)
    data = buf.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"cnumpy.core.multiarray\nscalar" in data
    dest.write_bytes(data)


def test_tiny_random_clap_wiring_numpy1_legacy_checkpoint_loads(tiny, embedder, tmp_path):
    from musicapp.selection.clap import load_clap
    from musicapp.testing.tiny_clap import tiny_manifest

    models_dir, _ = tiny
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    checkpoint = copy / "clap" / CHECKPOINT_NAME
    _legacy_numpy1_copy(models_dir / "clap" / CHECKPOINT_NAME, checkpoint)
    files = [checkpoint, *sorted((copy / "clap" / "roberta-base").iterdir())]
    manifest = tiny_manifest(copy, files, tmp_path / "manifest.toml")
    legacy = load_clap(copy, "cpu", manifest=manifest)
    texts = ["Irish folk reel"]
    np.testing.assert_allclose(legacy.embed_texts(texts), embedder.embed_texts(texts), atol=1e-6)


def test_a_checkpoint_asking_to_import_code_is_refused_even_when_its_sha256_matches(tiny, tmp_path):
    """Verified bytes are still a pickle: anything but tensors, containers and NumPy numbers
    is refused by the unpickler, so a listed (or trusted) file cannot run code."""
    from fractions import Fraction

    import torch

    from musicapp.selection.clap import load_clap
    from musicapp.testing.tiny_clap import tiny_manifest

    models_dir, _ = tiny
    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy)
    checkpoint = copy / "clap" / CHECKPOINT_NAME
    torch.save({"state_dict": {"module.x": torch.zeros(1)}, "lr": Fraction(1, 3)}, checkpoint)
    files = [checkpoint, *sorted((copy / "clap" / "roberta-base").iterdir())]
    manifest = tiny_manifest(copy, files, tmp_path / "manifest.toml")
    with pytest.raises(InvalidInput, match=rf"{CHECKPOINT_NAME} refused: .*fractions\.Fraction"):
        load_clap(copy, "cpu", manifest=manifest)
