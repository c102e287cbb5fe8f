"""The neural engine: MusicGen-melody (transformers) from a local folder, conditioned on text
built from the references' roles and on their weighted melody, longer outputs by continuation."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from musicapp.core import GenerationRequest, InvalidInput, Level, Role
from musicapp.core.provenance import Provenance, SourceShare, TimelineSlot, normalise
from musicapp.generation.base import (
    ENGINE_LABELS,
    Conditioning,
    GenerationResult,
    check_conditioning,
)
from musicapp.generation.musicgen_conditioning import describe, melody_signal
from musicapp.jobs import Cancelled, CancelToken, Progress, ProgressCallback
from musicapp.weights import (
    MANIFEST,
    ModelCheck,
    WeightStatus,
    check_model,
    file_stamp,
    load_manifest,
)

MODEL_NAME = "musicgen-melody"
METHOD = "reference weights (conditioning)"


@dataclass(frozen=True)
class LoadedModel:
    """A model on its device with its tokenizer and chroma feature extractor."""

    model: Any
    tokenizer: Any
    features: Any
    device: str
    model_id: str

    @property
    def sampling_rate(self) -> int:
        return int(self.model.config.audio_encoder.sampling_rate)

    @property
    def frame_rate(self) -> int:
        return int(self.model.config.audio_encoder.frame_rate)

    @property
    def num_codebooks(self) -> int:
        return int(self.model.decoder.num_codebooks)


_CACHE: dict[tuple[str, str], LoadedModel] = {}
_CACHE_LOCK = threading.Lock()


def _checked(models_dir: Path, manifest: Path) -> ModelCheck:
    """Every musicgen-melody file checked against the manifest or the local trust list;
    InvalidInput naming the first missing, altered or unverifiable one."""
    entry = next((m for m in load_manifest(manifest) if m.name == MODEL_NAME), None)
    if entry is None:
        raise InvalidInput(f"model manifest {manifest}: no entry for {MODEL_NAME}")
    check = check_model(entry, models_dir)
    if check.state is WeightStatus.MISSING:
        raise InvalidInput(
            f"{MODEL_NAME} weights: {check.detail}; put the files in {models_dir / MODEL_NAME} "
            "(the concat engine needs no weights)"
        )
    if not check.usable:
        raise InvalidInput(f"{MODEL_NAME} weights refused: {check.detail}")
    return check


def check_weights(models_dir: Path, manifest: Path = MANIFEST) -> str:
    """Raise InvalidInput unless every musicgen-melody file is verified or trusted locally;
    returns the model's id for provenance: `musicgen-melody@` and the first 16 hex digits of one
    sha256 over every file that defines the model (weights, configs, tokenizer), so takes made
    with other weights never share an id."""
    return f"{MODEL_NAME}@{_checked(models_dir, manifest).digest()[:16]}"


def _staged(check: ModelCheck) -> Path:
    """A folder holding links to exactly the checked files, for transformers to load from: a
    file the manifest does not list (a stray pytorch_model.bin, added_tokens.json, code) can
    never be read. Symbolic links, which leave the files' stamps alone (a hard link changes
    the file's ctime); hard links where symbolic ones are not allowed."""
    base = check.models_dir
    try:
        stage = Path(tempfile.mkdtemp(prefix=".loading-", dir=base))
    except OSError:  # a read-only models folder
        stage = Path(tempfile.mkdtemp(prefix="musicapp-loading-"))
    for c in check.files:
        name = PurePosixPath(c.file.path).relative_to(MODEL_NAME)
        target = stage / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(c.path.resolve(), target)
        except OSError:  # Windows without the symlink privilege
            os.link(c.path, target)
    return stage


def load_model(models_dir: Path, device: str, manifest: Path = MANIFEST) -> LoadedModel:
    """Load (once per folder and device) after checking every file against the manifest or the
    local trust list; only those files are read, weights from safetensors only (no pickle)."""
    folder = models_dir / MODEL_NAME
    key = (str(folder.resolve()), device)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        check = _checked(models_dir, manifest)
        model_id = f"{MODEL_NAME}@{check.digest()[:16]}"
        from transformers import (
            AutoTokenizer,
            MusicgenMelodyFeatureExtractor,
            MusicgenMelodyForConditionalGeneration,
        )

        stage = _staged(check)
        try:
            model = MusicgenMelodyForConditionalGeneration.from_pretrained(
                stage, local_files_only=True, use_safetensors=True
            )
            tokenizer = AutoTokenizer.from_pretrained(stage, local_files_only=True)
            features = MusicgenMelodyFeatureExtractor.from_pretrained(stage, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{MODEL_NAME} in {folder} could not be loaded: {exc}") from exc
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        changed = [c.path for c in check.files if file_stamp(c.path) != c.stamp]
        if changed:
            raise InvalidInput(f"{changed[0]} changed while it was loaded; nothing was loaded")
        if model.decoder.config.audio_channels != 1:
            raise InvalidInput(f"{folder}: stereo MusicGen checkpoints are not supported yet")
        model.to(device).eval()  # type: ignore[arg-type]  # transformers types .to by model
        loaded = LoadedModel(model, tokenizer, features, device, model_id)
        _CACHE[key] = loaded
        return loaded


def clear_cache() -> None:
    """Forget every loaded model (tests, or freeing GPU memory)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _progress_hook(
    total_steps: int, frame_rate: int, progress: ProgressCallback, cancel: CancelToken
):
    """A StoppingCriteria counting decoder steps (one per codebook frame): reports every
    generated second and stops generation when the user cancels."""
    import torch
    from transformers import StoppingCriteria

    class Hook(StoppingCriteria):
        def __init__(self) -> None:
            self.steps = 0
            self.window_steps = 0
            self._last_second = -1

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            self.steps += 1
            done = min(self.steps, total_steps)
            second = done // frame_rate
            if second != self._last_second:
                self._last_second = second
                progress(
                    Progress(
                        0.05 + 0.9 * done / total_steps,
                        "generating",
                        f"{done / frame_rate:.0f} of {total_steps / frame_rate:.0f} s",
                    )
                )
            stop = cancel.cancelled
            return torch.full(
                (input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device
            )

    return Hook()


def _crossfade(head: np.ndarray, tail: np.ndarray, n: int) -> np.ndarray:
    """Join mono signals, the last n samples of head fading into the first n of tail."""
    n = min(n, head.size, tail.size)
    if n == 0:
        return np.concatenate([head, tail])
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    mixed = head[-n:] * (1 - ramp) + tail[:n] * ramp
    return np.concatenate([head[:-n], mixed, tail[n:]])


class MusicGenMelodyEngine:
    """MusicGen-melody on the chosen device. By design its provenance is the user's weights: the
    model is conditioned on every reference at once, so no part of the output is one song's."""

    name = MODEL_NAME
    label = ENGINE_LABELS[MODEL_NAME]
    levels = frozenset({Level.SONG, Level.PARAMETER})
    roles = frozenset(
        {
            Role.MOOD,
            Role.GENRE,
            Role.MELODY,
            Role.HARMONY,
            Role.INSTRUMENT,
            Role.TIMBRE,
            Role.RHYTHM,
        }
    )
    needs_weights = True

    def __init__(
        self,
        models_dir: Path,
        device_preference: str = "auto",
        *,
        manifest: Path = MANIFEST,
        window_s: float = 30.0,
        context_s: float = 10.0,
        crossfade_s: float = 1.0,
    ) -> None:
        if not (0 < crossfade_s <= context_s < window_s):
            raise InvalidInput(
                f"{MODEL_NAME}: need 0 < crossfade ({crossfade_s}) <= context ({context_s}) "
                f"< window ({window_s})"
            )
        self.models_dir = Path(models_dir)
        self.device_preference = device_preference
        self.manifest = manifest
        self.window_s = window_s
        self.context_s = context_s
        self.crossfade_s = crossfade_s

    def device(self) -> str:
        from musicapp.generation.device import choose_device

        return choose_device(self.device_preference)

    def plan(self, duration_s: float) -> list[tuple[float, float]]:
        """(output start, new seconds) of each window: the first makes up to a window, each
        later one continues from the last context_s seconds and adds window - context."""
        first = min(duration_s, self.window_s)
        windows = [(0.0, first)]
        made = first
        while made < duration_s - 1e-9:
            new = min(self.window_s - self.context_s, duration_s - made)
            windows.append((made, new))
            made += new
        return windows

    def generate(
        self,
        request: GenerationRequest,
        conditioning: Conditioning,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> GenerationResult:
        check_conditioning(self, request, conditioning)
        cancel.check()
        device = self.device()
        progress(Progress(0.0, "loading", f"loading {MODEL_NAME} on {device}"))
        loaded = load_model(self.models_dir, device, self.manifest)
        cancel.check()
        mono = self._generate_mono(request, conditioning, loaded, progress, cancel)
        audio = mono[None, :]
        # MusicGen makes mono at its own rate (32 kHz); the take is at the conditioning's rate
        # (the references'), so it is resampled here, at the engine's boundary, and says so.
        rate = conditioning.sample_rate
        if loaded.sampling_rate != rate:
            from musicapp.audio.io import resample

            audio = resample(audio, loaded.sampling_rate, rate)
        n_out = int(round(request.duration_s * rate))
        audio = np.pad(audio[:, :n_out], ((0, 0), (0, max(0, n_out - audio.shape[1]))))
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 1.0:
            audio = audio / peak
        stereo = np.repeat(audio, 2, axis=0).astype(np.float32)
        progress(Progress(1.0, "done", f"{request.duration_s:g} s generated on {device}"))
        prov = self._provenance(request, loaded, request.duration_s)
        note = (
            f"{MODEL_NAME} generates mono at {loaded.sampling_rate / 1000:g} kHz: the take is "
            f"that audio resampled to {rate / 1000:g} kHz, the same on both channels"
        )
        return GenerationResult(stereo, rate, replace(prov, notes=(*prov.notes, note)))

    def _generate_mono(
        self,
        request: GenerationRequest,
        cond: Conditioning,
        loaded: LoadedModel,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> np.ndarray:
        import torch

        sr, fps = loaded.sampling_rate, loaded.frame_rate
        # The delay pattern loses num_codebooks - 1 frames at the end of each call.
        extra = loaded.num_codebooks - 1
        windows = self.plan(request.duration_s)
        steps = [math.ceil(new * fps) + extra for _, new in windows]
        hook = _progress_hook(sum(steps), fps, progress, cancel)
        text = loaded.tokenizer(
            [describe(request, cond.materials)], return_tensors="pt", padding=True
        )
        text = {k: v.to(loaded.device) for k, v in text.items()}
        melody = melody_signal(cond, int(math.ceil(request.duration_s * sr)) + sr, sr)
        torch.manual_seed(request.seed)
        if loaded.device == "cuda":
            torch.cuda.manual_seed_all(request.seed)
        out = np.zeros(0, dtype=np.float32)
        for (start_s, new_s), n_steps in zip(windows, steps, strict=True):
            context = min(self.context_s, start_s)
            a = int(round((start_s - context) * sr))
            b = int(round((start_s + new_s) * sr))
            chroma = loaded.features(melody[a:b], sampling_rate=sr, return_tensors="pt")
            kwargs: dict[str, Any] = {
                **text,
                "input_features": chroma["input_features"].to(loaded.device),
                "max_new_tokens": n_steps,
                "stopping_criteria": [hook],
            }
            prompt_samples = 0
            if context > 0:
                codes, prompt_samples = self._encode_prompt(
                    loaded, out[-int(round(context * sr)) :]
                )
                kwargs["decoder_input_ids"] = codes
            try:
                with torch.no_grad():
                    values = loaded.model.generate(**kwargs)
            except RuntimeError:
                # stopped before every codebook had a frame: the delay pattern cannot be undone
                if cancel.cancelled:
                    raise Cancelled() from None
                raise
            if cancel.cancelled:
                raise Cancelled()
            wave = values[0, 0].float().cpu().numpy()
            n_new = int(round(new_s * sr))
            if prompt_samples == 0:
                out = wave[:n_new]
            else:
                fade = int(round(self.crossfade_s * sr))
                # wave re-decodes the prompt; fade the old tail into its re-decoding.
                tail = wave[prompt_samples - fade : prompt_samples + n_new]
                out = _crossfade(out, tail, fade)
        return out.astype(np.float32)

    @staticmethod
    def _encode_prompt(loaded: LoadedModel, audio: np.ndarray) -> tuple[Any, int]:
        """The audio prompt as decoder input ids (codebooks, frames) and its length in samples."""
        import torch

        hop = loaded.sampling_rate // loaded.frame_rate
        frames = audio.size // hop
        audio = audio[audio.size - frames * hop :]
        x = torch.from_numpy(np.ascontiguousarray(audio))[None, None, :].to(loaded.device)
        with torch.no_grad():
            codes = loaded.model.audio_encoder.encode(x).audio_codes  # (1, batch, q, frames)
        codes = codes[0, :, : loaded.num_codebooks].reshape(-1, codes.shape[-1])
        return codes, codes.shape[-1] * hop

    def _provenance(
        self, request: GenerationRequest, loaded: LoadedModel, duration_s: float
    ) -> Provenance:
        shares = normalise(request.weights)
        per_song: dict[str, float] = {}
        for ref, share in zip(request.references, shares, strict=True):
            per_song[ref.song_id] = per_song.get(ref.song_id, 0.0) + share
        sources = tuple(per_song.items())
        seconds = math.ceil(duration_s - 1e-9)
        timeline = tuple(
            TimelineSlot(float(i), min(float(i + 1), duration_s), sources) for i in range(seconds)
        )
        return Provenance(
            shares=tuple(
                SourceShare(i, ref.song_id, share)
                for i, (ref, share) in enumerate(zip(request.references, shares, strict=True))
            ),
            timeline=timeline,
            engine=MODEL_NAME,
            model=loaded.model_id,
            device=loaded.device,
            method=METHOD,
        )
