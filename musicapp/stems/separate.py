"""Demucs separation as a job: per-segment progress, cancel within one segment, flat memory."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from musicapp.core import InvalidInput
from musicapp.generation.device import choose_device
from musicapp.jobs import CancelToken, ProgressCallback, scaled
from musicapp.stems.streaming import AudioSource, mono_stats, run_chunked


@dataclass(frozen=True)
class SeparationOptions:
    """How to separate. `segment` (seconds, None = the model's own) and `overlap` are demucs'
    settings; `chunk_s` is how much audio is held in memory at once; `shifts` > 0 trades time
    for quality (demucs' shift trick)."""

    model: str = "htdemucs"
    segment: float | None = None
    overlap: float = 0.25
    shifts: int = 0
    device: str = "auto"
    chunk_s: float = 60.0
    overlap_s: float = 0.5

    def cache_tag(self) -> str:
        """The settings that change the result (not the device or the chunking)."""
        return f"segment={self.segment};overlap={self.overlap};shifts={self.shifts}"


def _sub_models(model: Any) -> list[Any]:
    return list(model.models) if hasattr(model, "models") else [model]


def _check_segment(model: Any, options: SeparationOptions) -> None:
    if not 0.0 <= options.overlap < 1.0:
        raise InvalidInput(f"overlap {options.overlap} must be in [0, 1)")
    if options.segment is None:
        return
    limit = min(float(getattr(m, "segment", math.inf)) for m in _sub_models(model))
    if not 0 < options.segment <= limit:
        raise InvalidInput(
            f"segment {options.segment} s for Demucs model {options.model} must be in (0, {limit}]"
        )


def segments_per_window(model: Any, n: int, options: SeparationOptions) -> int:
    """How many times demucs will call the network for a window of n samples (for progress)."""
    count = 0
    for m in _sub_models(model):
        seg = options.segment or float(m.segment)
        seg_len = int(m.samplerate * seg)
        stride = int((1 - options.overlap) * seg_len)
        count += math.ceil(n / stride) * max(1, options.shifts)
    return count


def aligned_window(model: Any, options: SeparationOptions) -> int:
    """A chunk length (samples) that is a whole number of demucs' segment strides, near
    `chunk_s`: demucs pads the last segment of every call, so a chunk of 8.3 strides costs 9
    segments; one of exactly 8 strides costs 8, as in one uncut call."""
    first = _sub_models(model)[0]
    seg_len = int(first.samplerate * (options.segment or float(first.segment)))
    stride = int((1 - options.overlap) * seg_len)
    return int(max(1, round(options.chunk_s * first.samplerate / stride)) * stride)


class DemucsProcessor:
    """Runs demucs on one window: normalised by the whole track's statistics, as demucs' CLI
    does, with its per-segment callback driving progress and cancellation."""

    def __init__(
        self,
        model: Any,
        options: SeparationOptions,
        stats: tuple[float, float],
        cancel: CancelToken,
    ) -> None:
        self.model, self.options, self.cancel = model, options, cancel
        self.mean, self.std = stats[0], stats[1] or 1.0
        self.device = choose_device(options.device)

    def __call__(self, window: np.ndarray, report: Callable[[float], None]) -> np.ndarray:
        import torch
        from demucs.apply import apply_model

        if window.shape[0] == 1:
            window = np.repeat(window, 2, axis=0)
        x = (torch.from_numpy(np.ascontiguousarray(window[:2])) - self.mean) / self.std
        total = segments_per_window(self.model, x.shape[-1], self.options)
        finished = 0

        def callback(info: dict[str, Any]) -> None:
            nonlocal finished
            if info.get("state") == "start":
                self.cancel.check()  # raising here aborts before the next segment runs
            else:
                finished += 1
                report(finished / total)

        out = apply_model(
            self.model,
            x[None],
            shifts=self.options.shifts,
            split=True,
            overlap=self.options.overlap,
            device=self.device,
            segment=self.options.segment,
            callback=callback,
        )[0]
        out = out * self.std + self.mean
        return out.cpu().numpy().astype(np.float32, copy=False)


def separate_to_dir(
    model: Any,
    source: AudioSource,
    out_dir: Path,
    options: SeparationOptions,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> dict[str, Path]:
    """Separate `source` with a loaded Demucs model into one FLAC per stem in `out_dir`
    (at the model's sample rate, stereo). Progress reaches 1.0 when the files are complete."""
    _check_segment(model, options)
    stats = mono_stats(source, cancel)
    progress_sep = scaled(progress, 0.02, 1.0)
    processor = DemucsProcessor(model, options, stats, cancel)
    return run_chunked(
        source,
        processor,
        list(model.sources),
        out_dir,
        int(model.samplerate),
        int(model.audio_channels),
        progress_sep,
        cancel,
        options.chunk_s,
        options.overlap_s,
        stage="separate",
        window=aligned_window(model, options),
    )
