"""The MusicGen-melody engine: registry without weights, text and melody conditioning, and a
wiring test through the real loader with a tiny random model saved in the real folder layout."""

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from musicapp.config import Settings
from musicapp.core import GenerationRequest, InvalidInput, Level, Reference, Role
from musicapp.generation.base import Conditioning
from musicapp.generation.musicgen_conditioning import describe, melody_signal, melody_sources
from musicapp.generation.registry import engines, get_engine, unavailable_engines
from musicapp.jobs import Cancelled, CancelToken
from musicapp.testing.synth import SR, synth_material
from musicapp.weights import MANIFEST, load_manifest, sha256_file


def conditioning(refs, *specs):
    return Conditioning(
        [synth_material(i, r, **spec) for i, (r, spec) in enumerate(zip(refs, specs, strict=True))],
        SR,
    )


def _real_layout(models_dir: Path) -> None:
    """Empty files at every path the real manifest lists for musicgen-melody."""
    entry = next(m for m in load_manifest(MANIFEST) if m.name == "musicgen-melody")
    for f in entry.files:
        (models_dir / f.path).parent.mkdir(parents=True, exist_ok=True)
        (models_dir / f.path).write_bytes(b"")


def test_without_weights_the_engine_is_listed_unavailable_with_the_missing_file(tmp_path):
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models")
    assert "musicgen-melody" not in engines(settings)
    reason = unavailable_engines(settings)["musicgen-melody"]
    assert reason.startswith("weights missing: ") and "musicgen-melody/config.json" in reason
    with pytest.raises(InvalidInput, match=r"config\.json.*concat engine needs no weights"):
        get_engine("musicgen-melody", settings)


def test_files_without_a_published_checksum_are_not_offered_until_trusted(tmp_path):
    _real_layout(tmp_path / "models")
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models")
    reason = unavailable_engines(settings)["musicgen-melody"]
    assert reason.startswith("no published checksum for ") and "--trust" in reason
    assert "musicgen-melody" not in engines(settings)


def _trust_all(models_dir: Path) -> None:
    from musicapp.weights import import_file

    entry = next(m for m in load_manifest(MANIFEST) if m.name == "musicgen-melody")
    outside = models_dir.parent / "downloads"
    for f in entry.files:
        src = outside / Path(f.path).name
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes((models_dir / f.path).read_bytes())
        import_file(src, models_dir, "musicgen-melody", trust=True)


def test_with_its_files_present_and_trusted_the_engine_is_offered_without_loading_torch(
    tmp_path,
):
    _real_layout(tmp_path / "models")
    _trust_all(tmp_path / "models")
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from musicapp.config import Settings\n"
        "from musicapp.generation.registry import engines, get_engine, unavailable_engines\n"
        f"s = Settings(data_dir=Path({str(tmp_path)!r}), models_dir=Path({str(tmp_path)!r}) / 'models')\n"
        "e = engines(s)\n"
        "print(list(e), unavailable_engines(s), get_engine('musicgen-melody', s).label)\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    listed, imported = out.stdout.strip().splitlines()
    # The composer is listed too where the ml extra is installed (its weights ship with it).
    listed = listed.replace("'composer', ", "")
    assert listed == "['concat', 'tonematch', 'musicgen-melody'] {} MusicGen-melody (neural)"
    assert imported == "False False"


def _refs():
    return (
        Reference("a", Level.PARAMETER, Role.MELODY, weight=0.7),
        Reference("b", Level.PARAMETER, Role.MOOD, weight=0.3),
    )


def test_text_names_each_reference_by_its_role_after_the_prompt():
    refs = (*_refs(), Reference("c", weight=0.5))
    cond = conditioning(
        refs, dict(seed=1, duration_s=2), dict(seed=2, duration_s=2), dict(seed=3, duration_s=2)
    )
    req = GenerationRequest(refs, prompt="a sunny reel", engine="musicgen-melody")
    text = describe(req, cond.materials)
    a, b, c = (m.song for m in cond.materials)
    assert text.startswith("a sunny reel. melody: as in the melody given (from ")
    assert f"mood: {', '.join(b.moods) or 'unknown'} (from {b.title or 'b'})" in text
    if c.genre:
        assert f"genre: {c.genre}" in text
    assert text.endswith("tempo: about 120 bpm")


def test_melody_comes_from_the_melody_references_else_from_all():
    refs = _refs()
    cond = conditioning(refs, dict(seed=1, duration_s=2), dict(seed=2, duration_s=2))
    assert [m.reference.song_id for m in melody_sources(cond.materials)] == ["a"]
    song_level = (Reference("a", weight=2.0), Reference("b"))
    cond2 = conditioning(song_level, dict(seed=1, duration_s=1), dict(seed=2, duration_s=2))
    assert len(melody_sources(cond2.materials)) == 2
    x = melody_signal(cond2, 3 * SR, SR)  # the 1 s reference loops to fill 3 s
    assert x.shape == (3 * SR,) and np.max(np.abs(x)) == pytest.approx(1.0)


# -- the wiring test: a tiny random MusicgenMelody saved like the real one -------------------


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """models/musicgen-melody with a tiny random model, tokenizer and feature extractor, and a
    manifest listing its files with their checksums."""
    pytest.importorskip("transformers")
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        EncodecConfig,
        MusicgenMelodyConfig,
        MusicgenMelodyDecoderConfig,
        MusicgenMelodyFeatureExtractor,
        MusicgenMelodyForConditionalGeneration,
        PreTrainedTokenizerFast,
        T5Config,
    )

    root = tmp_path_factory.mktemp("mg")
    folder = root / "models" / "musicgen-melody"
    folder.mkdir(parents=True)
    words = ["<pad>", "</s>", "<unk>", *"mood genre melody instrument from tempo bpm a b".split()]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    ).save_pretrained(folder)
    torch.manual_seed(0)
    text = T5Config(
        vocab_size=len(words), d_model=16, d_kv=8, d_ff=32, num_layers=1, num_heads=2,
        decoder_start_token_id=0,
    )  # fmt: skip
    # 32 kHz with a hop of 640 samples: 50 frames a second, like the real EnCodec.
    audio = EncodecConfig(
        sampling_rate=32000, hidden_size=16, num_filters=4, upsampling_ratios=[8, 5, 4, 4],
        codebook_size=64, num_lstm_layers=1, target_bandwidths=[2.4],
    )  # fmt: skip
    decoder = MusicgenMelodyDecoderConfig(
        vocab_size=64, hidden_size=16, num_hidden_layers=1, ffn_dim=32, num_attention_heads=2,
        num_codebooks=2, pad_token_id=64, bos_token_id=64, max_position_embeddings=256,
    )  # fmt: skip
    config = MusicgenMelodyConfig(
        text_encoder=text.to_dict(),
        audio_encoder=audio.to_dict(),
        decoder=decoder.to_dict(),
        chroma_length=20,
    )
    model = MusicgenMelodyForConditionalGeneration(config)
    gen = model.generation_config
    gen.decoder_start_token_id = gen.pad_token_id = 64
    gen.do_sample, gen.guidance_scale, gen.top_k = True, 3.0, 50
    model.save_pretrained(folder)
    MusicgenMelodyFeatureExtractor().save_pretrained(folder)
    files = sorted(p.name for p in folder.iterdir())
    lines = [
        '[[model]]\nname = "musicgen-melody"\nsource = "a tiny random model made by the test"',
        "files = [",
        *(
            f'  {{ path = "musicgen-melody/{n}", sha256 = "{sha256_file(folder / n)}" }},'
            for n in files
        ),
        "]",
    ]
    manifest = root / "manifest.toml"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / "models", manifest


@pytest.fixture
def tiny_engine(tiny_models):
    import torch

    from musicapp.generation.musicgen import MusicGenMelodyEngine, clear_cache

    models_dir, manifest = tiny_models
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 16-wide model spends more time syncing threads than computing
    clear_cache()
    yield MusicGenMelodyEngine(
        models_dir, "cpu", manifest=manifest, window_s=1.0, context_s=0.4, crossfade_s=0.1
    )
    clear_cache()
    torch.set_num_threads(threads)


def _request(duration_s=2.5):
    refs = _refs()
    cond = conditioning(refs, dict(seed=1, duration_s=3), dict(seed=2, duration_s=2))
    return GenerationRequest(refs, duration_s=duration_s, engine="musicgen-melody"), cond


def test_musicgen_wiring_with_tiny_random_model_generates_through_the_real_loader(
    tiny_engine, tiny_models
):
    from musicapp.generation import musicgen

    req, cond = _request(2.5)
    assert tiny_engine.plan(2.5) == [(0.0, 1.0), (1.0, 0.6), (1.6, 0.6), (2.2, pytest.approx(0.3))]
    loaded = musicgen.load_model(tiny_engine.models_dir, "cpu", tiny_engine.manifest)
    assert musicgen.load_model(tiny_engine.models_dir, "cpu", tiny_engine.manifest) is loaded
    calls = []
    real_generate = loaded.model.generate

    def spy(**kwargs):
        calls.append(kwargs)
        return real_generate(**kwargs)

    loaded.model.generate = spy
    reports = []
    result = tiny_engine.generate(req, cond, reports.append, CancelToken())

    # made at MusicGen's rate, handed back at the references' (the take's) rate, and said so
    assert loaded.sampling_rate != cond.sample_rate
    assert result.sample_rate == cond.sample_rate
    assert result.audio.shape == (2, int(2.5 * cond.sample_rate))
    assert result.audio.dtype == np.float32
    assert any("resampled to 44.1 kHz" in note for note in result.provenance.notes)
    assert np.max(np.abs(result.audio)) <= 1.0 and np.any(result.audio != 0)
    # windowed continuation: four calls, each later one prompted with the last 0.4 s (20 frames)
    assert len(calls) == 4 and "decoder_input_ids" not in calls[0]
    assert all(c["decoder_input_ids"].shape == (2, 20) for c in calls[1:])
    assert all(c["input_features"].shape[-1] == 12 for c in calls)
    fractions = [p.fraction for p in reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert sum(p.stage == "generating" for p in reports) >= 3  # about one report per second

    prov = result.provenance
    assert [(s.song_id, round(s.share, 6)) for s in prov.shares] == [("a", 0.7), ("b", 0.3)]
    # the id names every file that defines the model: `sha256sum` of them, piped to sha256sum
    folder = tiny_models[0] / "musicgen-melody"
    listing = "".join(
        f"{sha256_file(p)}  musicgen-melody/{p.name}\n" for p in sorted(folder.iterdir())
    )
    assert prov.model == "musicgen-melody@" + hashlib.sha256(listing.encode()).hexdigest()[:16]
    assert (prov.engine, prov.device, prov.method) == (
        "musicgen-melody", "cpu", "reference weights (conditioning)"
    )  # fmt: skip
    assert [(t.start_s, t.end_s) for t in prov.timeline] == [(0, 1), (1, 2), (2, 2.5)]
    assert all(dict(t.sources) == pytest.approx({"a": 0.7, "b": 0.3}) for t in prov.timeline)


def test_musicgen_wiring_with_tiny_random_model_cancel_stops_generation(tiny_engine):
    req, cond = _request(2.5)
    cancel = CancelToken()
    reports = []

    def progress(p):
        reports.append(p)
        if p.stage == "generating":
            cancel.cancel()

    with pytest.raises(Cancelled):
        tiny_engine.generate(req, cond, progress, cancel)
    assert max(p.fraction for p in reports) < 0.5


def test_missing_or_altered_weights_are_refused_before_loading(tiny_models, tmp_path):
    from musicapp.generation.musicgen import MusicGenMelodyEngine

    models_dir, manifest = tiny_models
    req, cond = _request(2.0)
    empty = MusicGenMelodyEngine(tmp_path, "cpu", manifest=manifest)
    with pytest.raises(InvalidInput, match=r"missing .*musicgen-melody.*put the files in"):
        empty.generate(req, cond, lambda p: None, CancelToken())
    bad = tmp_path / "bad.toml"
    bad.write_text("\n".join(_break_first_sha(manifest.read_text().splitlines())))
    engine = MusicGenMelodyEngine(models_dir, "cpu", manifest=bad)
    with pytest.raises(InvalidInput, match="refused: .* does not match its sha256"):
        engine.generate(req, cond, lambda p: None, CancelToken())


def _break_first_sha(lines):
    for i, line in enumerate(lines):
        if 'sha256 = "' in line:
            start = line.index('sha256 = "') + len('sha256 = "')
            lines[i] = line[:start] + "0" * 64 + line[start + 64 :]
            break
    return lines


def test_a_file_the_manifest_does_not_list_is_never_read(tiny_models):
    """transformers reads whatever sits in a model folder (here a stray added_tokens.json that
    adds a word to the vocabulary); the loader hands it only the checked files."""
    import json

    from transformers import AutoTokenizer

    from musicapp.generation import musicgen

    models_dir, manifest = tiny_models
    folder = models_dir / "musicgen-melody"
    stray = folder / "added_tokens.json"
    stray.write_text(json.dumps({"zzzstray": 13}))
    musicgen.clear_cache()
    try:
        direct = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        assert "zzzstray" in direct.get_vocab()  # the control: read from the folder, it counts
        loaded = musicgen.load_model(models_dir, "cpu", manifest)
        assert "zzzstray" not in loaded.tokenizer.get_vocab()
        assert not list(models_dir.glob(".loading-*"))  # the staged view is gone
    finally:
        stray.unlink()
        musicgen.clear_cache()
