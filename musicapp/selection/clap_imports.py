"""laion-clap's model code, imported without the parts that download or need torchvision.

`import laion_clap` runs its `hook.py`, which imports the training data pipeline (torchvision,
webdataset, pandas, wget...) and fetches roberta-base from the Hugging Face hub; `clap_module`'s
own `__init__` imports its image transforms (torchvision). Only `clap_module/model.py` and what it
imports (the HTSAT and PANN audio encoders, `utils.py`) are needed to embed audio and text. So
the installed `clap_module` folder is found without executing anything, registered under a
private package name whose `__init__` is never run, and only `model` is imported from it.

Two stand-ins, both private to that copy:
- `utils.py` imports torchvision's `FrozenBatchNorm2d` at module level, for freezing image
  backbones. Where torchvision is not installed a stand-in takes the name while `model` is
  imported (and leaves `sys.modules` straight after); calling it raises. CLAP never does.
- `CLAP.__init__` builds its text branch with `RobertaModel.from_pretrained('roberta-base')` (a
  download) and its HTSAT with sizes fixed by name. While `build_clap` runs, the copy's
  `RobertaModel` builds a randomly initialised RoBERTa from a local config and its
  `create_htsat_model` builds the HTSAT of the given sizes; the checkpoint then overwrites
  every weight (the real music checkpoint carries the text branch's weights too).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import sys
import threading
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musicapp.core import InvalidInput

PRIVATE_NAME = "musicapp_laion_clap_module"  # never `clap_module`: laion's hook.py owns that
_lock = threading.Lock()
_building: dict[str, Any] = {}


@dataclass(frozen=True)
class HtsatShape:
    """The sizes of an HTSAT audio encoder (a Swin transformer over a log-mel image)."""

    embed_dim: int
    depths: tuple[int, ...]
    num_heads: tuple[int, ...]
    window_size: int
    class_num: int
    mel_bins: int

    @property
    def features(self) -> int:
        """The width of HTSAT's pooled output, which CLAP projects into the joint space."""
        return self.embed_dim * 2 ** (len(self.depths) - 1)


# The music checkpoint's encoder: laion's HTSAT-base (create_htsat_model's "base" sizes).
HTSAT_BASE = HtsatShape(128, (2, 2, 12, 2), (4, 8, 16, 32), 8, 527, 64)


def clap_folder() -> Path:
    """The installed laion_clap's `clap_module` folder, found without importing laion_clap."""
    spec = importlib.util.find_spec("laion_clap")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInput(
            "laion-clap is not installed: install the ml extra (pip install -e '.[ml]' and "
            "packaging/requirements-nodeps.txt with --no-deps)"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "clap_module"
    if not (folder / "model.py").is_file():
        raise InvalidInput(f"laion-clap at {folder.parent} has no clap_module/model.py")
    return folder


def audio_config() -> dict[str, Any]:
    """The audio front end the music checkpoint was trained with (laion's HTSAT-base.json):
    48 kHz, 10 s clips, a 1024-point STFT with a 480-sample hop, 64 mel bands 50 Hz-14 kHz."""
    path = clap_folder() / "model_configs" / "HTSAT-base.json"
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))["audio_cfg"]
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInput(f"laion-clap model config {path}: {exc}") from exc
    return dict(cfg)


class _TorchvisionMissing:
    """Stands for a torchvision class laion's image code names; CLAP's audio and text paths
    never call it, so a call is a bug worth a clear message."""

    name = "a torchvision class"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(
            f"torchvision is not installed: laion-clap uses {self.name} only for image "
            "models, which musicapp never builds"
        )


def _torchvision_stand_in() -> dict[str, types.ModuleType]:
    frozen = type("FrozenBatchNorm2d", (_TorchvisionMissing,), {"name": "FrozenBatchNorm2d"})
    modules = {n: types.ModuleType(n) for n in ("torchvision", "torchvision.ops")}
    misc = types.ModuleType("torchvision.ops.misc")
    misc.FrozenBatchNorm2d = frozen  # type: ignore[attr-defined]
    modules["torchvision.ops.misc"] = misc
    modules["torchvision"].ops = modules["torchvision.ops"]  # type: ignore[attr-defined]
    modules["torchvision.ops"].misc = misc  # type: ignore[attr-defined]
    return modules


def clap_model_module() -> types.ModuleType:
    """laion-clap's `clap_module.model`, imported once under a private package name."""
    with _lock:
        loaded = sys.modules.get(f"{PRIVATE_NAME}.model")
        if loaded is not None:
            return loaded
        folder = clap_folder()
        # Imported first, so nothing they set up at import can see the stand-in below.
        try:
            import h5py  # noqa: F401
            import torchlibrosa.stft  # noqa: F401
            from transformers import BartModel, BertModel, RobertaModel  # noqa: F401
            from transformers.tokenization_utils_base import BatchEncoding  # noqa: F401
        except ImportError as exc:
            raise InvalidInput(
                f"CLAP needs {exc.name or exc}: install the ml extra (pip install -e '.[ml]')"
            ) from exc

        spec = importlib.machinery.ModuleSpec(PRIVATE_NAME, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        package = importlib.util.module_from_spec(spec)
        package.__path__ = [str(folder)]
        sys.modules[PRIVATE_NAME] = package
        stand_in = {}
        if importlib.util.find_spec("torchvision") is None:
            stand_in = _torchvision_stand_in()
        sys.modules.update(stand_in)
        try:
            module = importlib.import_module(f"{PRIVATE_NAME}.model")
        except ImportError as exc:
            for name in [n for n in sys.modules if n.startswith(PRIVATE_NAME)]:
                del sys.modules[name]
            raise InvalidInput(
                f"laion-clap's model code in {folder} cannot be imported: {exc}"
            ) from exc
        finally:
            for name, mod in stand_in.items():
                if sys.modules.get(name) is mod:
                    del sys.modules[name]
        _install_builders(module)
        return module


def _install_builders(module: types.ModuleType) -> None:
    """Point the copy's RoBERTa and HTSAT constructors at `_building` (see the module doc)."""
    from transformers import RobertaModel

    htsat = sys.modules[f"{PRIVATE_NAME}.htsat"]

    class LocalRoberta:
        @staticmethod
        def from_pretrained(name: str, *args: Any, **kwargs: Any) -> Any:
            config = _building.get("text_config")
            if config is None:
                raise RuntimeError(f"laion-clap asked for {name!r} outside build_clap")
            return RobertaModel(config)

    def create_htsat_model(audio_cfg: Any, enable_fusion: bool = False, fusion_type: str = "None"):
        shape: HtsatShape | None = _building.get("htsat")
        if shape is None:
            raise RuntimeError("laion-clap asked for an HTSAT outside build_clap")
        return htsat.HTSAT_Swin_Transformer(
            spec_size=256,
            patch_size=4,
            patch_stride=(4, 4),
            num_classes=shape.class_num,
            embed_dim=shape.embed_dim,
            depths=list(shape.depths),
            num_heads=list(shape.num_heads),
            window_size=shape.window_size,
            config=audio_cfg,
            enable_fusion=enable_fusion,
            fusion_type=fusion_type,
        )

    module.RobertaModel = LocalRoberta  # type: ignore[attr-defined]
    module.create_htsat_model = create_htsat_model  # type: ignore[attr-defined]


def build_clap(text_config: Any, shape: HtsatShape = HTSAT_BASE, joint_dim: int = 512) -> Any:
    """A randomly initialised non-fusion CLAP (HTSAT audio, RoBERTa text) of laion's own
    classes, on the CPU: the caller loads a checkpoint into it."""
    module = clap_model_module()
    cfg = audio_config()
    audio = module.CLAPAudioCfp(
        model_type="HTSAT",
        model_name="base",
        sample_rate=int(cfg["sample_rate"]),
        audio_length=int(cfg["audio_length"]),
        window_size=int(cfg["window_size"]),
        hop_size=int(cfg["hop_size"]),
        fmin=int(cfg["fmin"]),
        fmax=int(cfg["fmax"]),
        class_num=shape.class_num,
        mel_bins=shape.mel_bins,
        clip_samples=int(cfg["clip_samples"]),
    )
    # Only context_length and model_type are read for a RoBERTa text branch.
    text = module.CLAPTextCfg(
        context_length=77, vocab_size=int(text_config.vocab_size), width=512, heads=8,
        layers=12, model_type="roberta",
    )  # fmt: skip
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # HTSAT's torch.meshgrid indexing notice
        _building.update(text_config=text_config, htsat=shape)
        try:
            return module.CLAP(
                embed_dim=shape.features,
                audio_cfg=audio,
                text_cfg=text,
                enable_fusion=False,
                joint_embed_shape=joint_dim,
            )
        finally:
            _building.clear()


def htsat_shape(state: dict[str, Any], where: str) -> HtsatShape:
    """The HTSAT sizes a CLAP state dict was saved from, read off its tensors' shapes."""
    prefix = "audio_branch."
    try:
        embed_dim = int(state[f"{prefix}patch_embed.proj.weight"].shape[0])
        class_num = int(state[f"{prefix}tscam_conv.weight"].shape[0])
        mel_bins = int(state[f"{prefix}bn0.weight"].shape[0])
    except (KeyError, AttributeError, IndexError) as exc:
        raise InvalidInput(f"{where}: not a CLAP checkpoint with an HTSAT audio encoder") from exc
    depths: list[int] = []
    heads: list[int] = []
    window = 0
    while any(k.startswith(f"{prefix}layers.{len(depths)}.") for k in state):
        layer = len(depths)
        blocks = 0
        while f"{prefix}layers.{layer}.blocks.{blocks}.norm1.weight" in state:
            blocks += 1
        table = state.get(f"{prefix}layers.{layer}.blocks.0.attn.relative_position_bias_table")
        if not blocks or table is None:
            raise InvalidInput(f"{where}: HTSAT layer {layer} has no attention blocks")
        side = round(int(table.shape[0]) ** 0.5)
        window = (side + 1) // 2
        depths.append(blocks)
        heads.append(int(table.shape[1]))
    if len(depths) != 4:
        raise InvalidInput(f"{where}: HTSAT with {len(depths)} stages (CLAP's have 4)")
    return HtsatShape(embed_dim, tuple(depths), tuple(heads), window, class_num, mel_bins)
