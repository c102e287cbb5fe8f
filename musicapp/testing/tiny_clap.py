"""A tiny randomly initialised CLAP saved in the real models-folder layout, for wiring tests.

Same classes as LAION's music checkpoint (laion's CLAP with an HTSAT audio branch and a RoBERTa
text branch, non-fusion, 512-d joint space), far smaller sizes: an HTSAT of width 8 with one
block per stage, a one-layer RoBERTa (width 768, which CLAP's text projection requires) and a
byte-level BPE vocabulary of 300 tokens trained here. The checkpoint is written as laion's
training script writes it: a dict with the epoch (a NumPy integer, as the real one holds NumPy
numbers), a name and `state_dict` with every parameter prefixed by `module.`. Its embeddings
mean nothing: it tests loading, preprocessing and shapes, never retrieval quality.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from musicapp.selection.clap import CHECKPOINT, MERGES, MODEL_NAME, TEXT_CONFIG, VOCAB
from musicapp.selection.clap_imports import HtsatShape, build_clap
from musicapp.weights import sha256_file

TINY_HTSAT = HtsatShape(
    embed_dim=8, depths=(1, 1, 1, 1), num_heads=(1, 1, 2, 2), window_size=8, class_num=4,
    mel_bins=64,
)  # fmt: skip
_CORPUS = [
    "This is a happy song.", "This is a sad song.", "a melancholic fiddle tune for a funeral",
    "four-part sacred hymn", "jig for fiddle", "energetic drums and bass", "calm piano for sleep",
    "a wedding waltz with strings", "Irish folk reel", "Baroque chorale for choir",
]  # fmt: skip
_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # RoBERTa's ids 0-4


def _text_files(folder: Path) -> None:
    """vocab.json and merges.txt of a byte-level BPE trained on a few prompts, and a config."""
    from tokenizers import ByteLevelBPETokenizer

    folder.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(_CORPUS, vocab_size=300, min_frequency=1, special_tokens=_SPECIALS)
    bpe.save_model(str(folder))
    vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
    config = {
        "model_type": "roberta", "architectures": ["RobertaForMaskedLM"],
        "vocab_size": len(vocab), "hidden_size": 768, "num_hidden_layers": 1,
        "num_attention_heads": 12, "intermediate_size": 64, "max_position_embeddings": 80,
        "type_vocab_size": 1, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
        "layer_norm_eps": 1e-5, "hidden_act": "gelu",
    }  # fmt: skip
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")


def save_tiny_clap(models_dir: Path, seed: int = 0, prefix: str = "module.") -> list[Path]:
    """Write the four CLAP files into `models_dir` (the paths the manifest lists) and return
    them; `prefix` is what every parameter name starts with ("" for an unwrapped model)."""
    import torch
    from transformers import RobertaConfig

    models_dir = Path(models_dir)
    _text_files(models_dir / TEXT_CONFIG.rsplit("/", 1)[0])
    config = RobertaConfig(**json.loads((models_dir / TEXT_CONFIG).read_text(encoding="utf-8")))
    torch.manual_seed(seed)
    model = build_clap(config, TINY_HTSAT)
    state = {f"{prefix}{k}": v.detach().clone() for k, v in model.state_dict().items()}
    # Saved by transformers < 4.31 in the real file; the loader drops it.
    position_ids = torch.arange(config.max_position_embeddings).unsqueeze(0)
    state[f"{prefix}text_branch.embeddings.position_ids"] = position_ids
    checkpoint = models_dir / CHECKPOINT
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"epoch": np.int64(15), "name": "tiny-random-clap", "state_dict": state}, checkpoint)
    return [models_dir / p for p in (CHECKPOINT, TEXT_CONFIG, VOCAB, MERGES)]


def tiny_manifest(models_dir: Path, files: list[Path], manifest: Path) -> Path:
    """A manifest whose `clap` entry lists these files with their sha256, so they verify."""
    rows = ",\n".join(
        f'  {{ path = "{p.relative_to(models_dir).as_posix()}", sha256 = "{sha256_file(p)}" }}'
        for p in files
    )
    manifest.write_text(
        f'[[model]]\nname = "{MODEL_NAME}"\nsource = "a tiny random CLAP made by the test"\n'
        f"files = [\n{rows},\n]\n",
        encoding="utf-8",
    )
    return manifest
