"""Chunked processing of long audio: read a window, process it, crossfade, write, repeat.

Why: a 30-minute track at 44.1 kHz with four stereo stems is 2.5 GB of float32 when held whole
(that is what a bare `demucs.apply.apply_model` call does). Here only one window of input and
output is in memory at a time; the stems go to disk as they are made, so peak memory does not
grow with the length of the track.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf

from musicapp.core import InvalidInput
from musicapp.jobs import CancelToken, Progress, ProgressCallback

# (window audio (channels, n) at the processing rate, report(fraction of this window)) ->
# stems (stems, channels, n)
Processor = Callable[[np.ndarray, Callable[[float], None]], np.ndarray]

READ_BLOCK = 1 << 18  # frames per read when scanning a whole source


class AudioSource(Protocol):
    """Audio that can be read a window at a time: (channels, n) float32 at `samplerate`."""

    samplerate: int
    channels: int
    frames: int
    name: str

    def read(self, start: int, stop: int) -> np.ndarray: ...

    def content_hash(self) -> str: ...


def _hash_files(paths: Sequence[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
    return h.hexdigest()


def _info(path: Path) -> sf._SoundFileInfo:
    try:
        return sf.info(str(path))
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        raise InvalidInput(f"{path}: not a readable audio file ({exc})") from exc


class FileSource:
    """One audio file (any format libsndfile reads), read by window without loading it whole.

    Its header is checked as `audio.io.audio_info` checks the user's audio (a WAV whose data
    chunk claims more than the file holds is refused), and a window that decodes short is an
    AudioError naming the file, not stems quietly cut off."""

    def __init__(self, path: Path) -> None:
        from musicapp.audio.io import audio_info

        self.path = Path(path)
        info = audio_info(self.path)
        self.samplerate, self.channels, self.frames = info.sample_rate, info.channels, info.frames
        self.name = str(self.path)
        self.format = info.format

    def read(self, start: int, stop: int) -> np.ndarray:
        from musicapp.audio.io import AudioError

        try:
            data, _ = sf.read(
                str(self.path), start=start, stop=stop, dtype="float32", always_2d=True
            )
        except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
            raise AudioError(
                f"audio file {self.path}: truncated or damaged {self.format}, it cannot be "
                f"decoded past {start / self.samplerate:.3f} s ({exc}); copy or export it again"
            ) from exc
        # MP3 frame counts are estimates: a short last window is the real end, not damage.
        if data.shape[0] < min(stop, self.frames) - start and self.format != "MP3":
            got = (start + data.shape[0]) / self.samplerate
            raise AudioError(
                f"audio file {self.path}: truncated {self.format}, its header says "
                f"{self.frames / self.samplerate:.3f} s but it ends at {got:.3f} s; copy or "
                "export it again"
            )
        return np.ascontiguousarray(data.T)

    def content_hash(self) -> str:
        return _hash_files([self.path])


class ChannelFilesSource:
    """Several mono files played as the channels of one source (the catalogue's mix-left and
    mix-right stems of an imported song)."""

    def __init__(self, paths: Sequence[Path], name: str) -> None:
        self.paths = [Path(p) for p in paths]
        infos = [_info(p) for p in self.paths]
        self.samplerate = infos[0].samplerate
        self.frames = min(i.frames for i in infos)
        self.channels = len(self.paths)
        self.name = name
        if any(i.samplerate != self.samplerate for i in infos):
            raise InvalidInput(f"{name}: its channel files have different sample rates")

    def read(self, start: int, stop: int) -> np.ndarray:
        parts = [
            sf.read(str(p), start=start, stop=stop, dtype="float32", always_2d=True)[0][:, 0]
            for p in self.paths
        ]
        return np.stack(parts)

    def content_hash(self) -> str:
        return _hash_files(self.paths)


class ArraySource:
    """Audio already in memory (tests, benchmarks, the GUI's own recordings)."""

    def __init__(self, audio: np.ndarray, samplerate: int, name: str = "audio") -> None:
        self.audio = np.ascontiguousarray(audio, dtype=np.float32)
        if self.audio.ndim == 1:
            self.audio = self.audio[None, :]
        self.samplerate, self.name = samplerate, name
        self.channels, self.frames = self.audio.shape

    def read(self, start: int, stop: int) -> np.ndarray:
        return self.audio[:, start:stop]

    def content_hash(self) -> str:
        h = hashlib.sha256(f"{self.samplerate}:{self.audio.shape}".encode())
        h.update(self.audio.tobytes())
        return h.hexdigest()


def mono_stats(source: AudioSource, cancel: CancelToken) -> tuple[float, float]:
    """Mean and standard deviation of the mono mix, in one streaming pass (demucs normalises
    the whole track by these, so chunks must share them)."""
    total, total_sq, count = 0.0, 0.0, 0
    for start in range(0, source.frames, READ_BLOCK):
        cancel.check()
        mono = source.read(start, min(start + READ_BLOCK, source.frames)).mean(axis=0)
        total += float(mono.sum(dtype=np.float64))
        total_sq += float(np.square(mono, dtype=np.float64).sum())
        count += mono.shape[0]
    mean = total / count
    return mean, math.sqrt(max(total_sq / count - mean * mean, 0.0))


@dataclass(frozen=True)
class Window:
    """One chunk: the core it owns [core_start, core_end) and the window it reads, which
    reaches `overlap` further on each side for the crossfade (all at the processing rate)."""

    start: int
    core_start: int
    core_end: int
    end: int


def grid(rate: int, source_rate: int) -> int:
    """The smallest step, in samples at `rate`, that is also a whole number of source samples
    (1 without resampling; 441 for 32 kHz → 44.1 kHz), so chunks cut both signals exactly."""
    return rate // math.gcd(rate, source_rate)


def plan_windows(total: int, window: int, overlap: int, quantum: int = 1) -> list[Window]:
    """Windows of at most `window` samples whose cores tile [0, total) on the `quantum` grid;
    each reaches `overlap` into its neighbours for the crossfade. A last core shorter than the
    crossfade joins the one before."""
    overlap = overlap // quantum * quantum
    core = (window - 2 * overlap) // quantum * quantum
    if core <= 0 or overlap < 0:
        raise InvalidInput(
            f"a chunk of {window} samples must be longer than twice the overlap ({overlap})"
        )
    bounds = [*range(0, total, core), total]
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < 2 * overlap:
        del bounds[-2]
    return [
        Window(max(0, a - overlap), a, b, min(total, b + overlap))
        for a, b in zip(bounds, bounds[1:], strict=False)
    ]


def read_window(source: AudioSource, window: Window, rate: int, total: int) -> np.ndarray:
    """The window's audio at `rate`, resampled with a second of margin on each side so the
    resampler's edges fall outside the window (window starts lie on the `grid`)."""
    sr = source.samplerate
    if sr == rate:
        return source.read(window.start, window.end)
    margin = sr  # one second of source audio
    a = window.start * sr // rate
    b = source.frames if window.end >= total else window.end * sr // rate
    a_read, b_read = max(0, a - margin), min(source.frames, b + margin)
    import torch
    import torchaudio.functional as taf

    chunk = torch.from_numpy(np.ascontiguousarray(source.read(a_read, b_read)))
    out = taf.resample(chunk, sr, rate).numpy()
    offset = (a - a_read) * rate // sr
    want = window.end - window.start
    out = out[:, offset : offset + want]
    if out.shape[1] < want:
        out = np.pad(out, ((0, 0), (0, want - out.shape[1])))
    return np.ascontiguousarray(out, dtype=np.float32)


class StemWriters:
    """One open FLAC per stem, appended to as windows finish.

    Encoding runs on a background thread while the next window is computed (FLAC encoding of
    four stereo stems is ~1 s per 3 minutes, which a tiny model would otherwise wait for); at
    most one window waits to be written, so memory stays bounded.
    """

    def __init__(self, out_dir: Path, names: Sequence[str], rate: int, channels: int) -> None:
        self.paths = {n: out_dir / f"{n}.flac" for n in names}
        self._files = [
            sf.SoundFile(
                str(p), "w", rate, channels, subtype="PCM_24", format="FLAC", compression_level=0.0
            )
            for p in self.paths.values()
        ]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stem-writer")
        self._pending: Future[None] | None = None

    def _write_now(self, stems: np.ndarray) -> None:
        for f, stem in zip(self._files, stems, strict=True):
            f.write(np.clip(stem.T, -1.0, 1.0))

    def write(self, stems: np.ndarray) -> None:
        """Queue one window's stems (stems, channels, n); waits for the previous write first."""
        self._wait()
        self._pending = self._pool.submit(self._write_now, stems)

    def _wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()  # re-raises a write error here, in the job's thread

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self._pool.shutdown(wait=True)
            for f in self._files:
                f.close()


def run_chunked(
    source: AudioSource,
    process: Processor,
    names: Sequence[str],
    out_dir: Path,
    rate: int,
    out_channels: int,
    progress: ProgressCallback,
    cancel: CancelToken,
    chunk_s: float = 60.0,
    overlap_s: float = 0.5,
    stage: str = "separate",
    window: int | None = None,
) -> dict[str, Path]:
    """Process `source` window by window at `rate` and write one FLAC per stem into `out_dir`.

    Consecutive windows overlap by 2 × `overlap_s` and are crossfaded linearly there; only one
    window's input and output is held at a time. `window` (samples) overrides `chunk_s`: Demucs
    asks for a whole number of its segment strides, so chunking adds no partial segments.
    Progress runs from 0 to 1 (reached when the files are closed); cancellation is checked
    between windows and inside `process`.
    """
    if source.frames <= 0:
        raise InvalidInput(f"{source.name}: contains no audio, there is nothing to separate")
    total = math.ceil(source.frames * rate / source.samplerate)
    span = window or round(chunk_s * rate)
    windows = plan_windows(total, span, round(overlap_s * rate), grid(rate, source.samplerate))
    work = sum(w.end - w.start for w in windows)
    done = 0
    writers = StemWriters(out_dir, names, rate, out_channels)
    pending: np.ndarray | None = None
    try:
        for i, w in enumerate(windows):
            cancel.check()
            length = w.end - w.start

            def report(f: float, done: int = done, length: int = length, i: int = i) -> None:
                frac = min(0.999, (done + min(max(f, 0.0), 1.0) * length) / work)
                progress(Progress(frac, stage, f"chunk {i + 1}/{len(windows)}"))

            out = process(read_window(source, w, rate, total), report)
            if pending is not None:
                fade = np.linspace(0.0, 1.0, pending.shape[-1], dtype=np.float32)
                out[..., : pending.shape[-1]] = (
                    pending * (1 - fade) + out[..., : pending.shape[-1]] * fade
                )
            last = i == len(windows) - 1
            # Up to where the next window's crossfade begins (the whole window when last).
            keep = length if last else (w.core_end - (w.end - w.core_end)) - w.start
            writers.write(out[..., :keep])
            pending = None if last else out[..., keep:].copy()
            done += length
    finally:
        writers.close()
    progress(Progress(1.0, stage, "done"))
    return writers.paths
