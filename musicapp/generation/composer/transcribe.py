"""A recording's notes, for a reference that has no score: Spotify's basic-pitch, run as ONNX.

basic-pitch (Apache-2.0) ships its small model (about 230 kB) in the wheel as `nmp.onnx`, so it
runs offline with onnxruntime and no TensorFlow. We give it the audio as an array (its own
loader only reads files), in its two-second windows, and turn its note and onset activations
into notes with its own post-processing. The result is polyphonic; conditioning.melody_line on
the one track gives the top voice, which is what the parameter level takes as a melody.
Both packages are in the `ml` extra (basic-pitch installed without its dependencies:
packaging/requirements-nodeps.txt); without them transcribe() says how to get them.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from musicapp.core import InvalidInput

if TYPE_CHECKING:
    from symusic.core import ScoreTick

    from musicapp.catalog.mix import Audio

TPQ = 480
# basic-pitch's own defaults (its `predict`): activation thresholds and the shortest note, 128 ms.
ONSET_THRESHOLD = 0.5
FRAME_THRESHOLD = 0.3
MIN_NOTE_MS = 127.7
_OVERLAP_FRAMES = 30  # as basic-pitch's run_inference: windows overlap by 30 frames


@dataclass(frozen=True)
class Transcribed:
    """Notes heard in a recording: (start_s, end_s, MIDI key, amplitude 0..1), by start."""

    notes: tuple[tuple[float, float, int, float], ...]

    def score(self, tempo_qpm: float = 120.0, program: int = 0) -> ScoreTick:
        """The notes as a one-track score at this tempo (times in seconds kept exactly)."""
        from symusic import Note, Score, Tempo, Track

        if tempo_qpm <= 0:
            raise InvalidInput(f"transcription: tempo {tempo_qpm:g} must be above 0")
        ticks_per_s = TPQ * tempo_qpm / 60.0
        score: Any = Score(TPQ)
        score.tempos.append(Tempo(0, qpm=tempo_qpm))
        track: Any = Track(name="transcription", program=program, is_drum=False)
        for start, end, key, amp in self.notes:
            on = round(start * ticks_per_s)
            off = max(on + 1, round(end * ticks_per_s))
            track.notes.append(Note(on, off - on, key, max(1, min(127, round(amp * 127)))))
        score.tracks.append(track)
        return cast("ScoreTick", score)


def available() -> bool:
    """Whether basic-pitch and onnxruntime are installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("basic_pitch", "onnxruntime"))


def transcribe(audio: Audio, rate: int) -> Transcribed:
    """The notes of mono (n,) or stereo (2, n) float audio at `rate`."""
    bp = _basic_pitch()
    constants = bp["constants"]
    samples = np.asarray(audio, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=0)
    if samples.ndim != 1 or samples.size == 0:
        raise InvalidInput("transcription: give mono (n,) or stereo (2, n) audio with samples")
    if rate <= 0:
        raise InvalidInput(f"transcription: sample rate {rate} must be above 0")
    mono = _resample(samples, rate, constants.AUDIO_SAMPLE_RATE)
    output = _activations(mono, bp)
    min_frames = int(round(MIN_NOTE_MS / 1000 * constants.AUDIO_SAMPLE_RATE / constants.FFT_HOP))
    _, events = bp["notes"].model_output_to_notes(
        output,
        onset_thresh=ONSET_THRESHOLD,
        frame_thresh=FRAME_THRESHOLD,
        min_note_len=min_frames,
        include_pitch_bends=False,
        melodia_trick=True,
    )
    notes = sorted((float(s), float(e), int(k), float(a)) for s, e, k, a, *_ in events)
    return Transcribed(tuple(notes))


def _activations(mono: np.ndarray, bp: dict[str, Any]) -> dict[str, np.ndarray]:
    """The model's note, onset and contour activations over the whole signal (its windows,
    overlapping as basic-pitch's own run_inference does)."""
    inference, constants = bp["inference"], bp["constants"]
    overlap = _OVERLAP_FRAMES * constants.FFT_HOP
    hop = constants.AUDIO_N_SAMPLES - overlap
    padded = np.concatenate([np.zeros(overlap // 2, dtype=np.float32), mono])
    found: dict[str, list[np.ndarray]] = {"note": [], "onset": [], "contour": []}
    for window, _ in inference.window_audio_file(padded, hop):
        for name, value in bp["model"].predict(window[None, ...]).items():
            found[name].append(value)
    return {
        name: inference.unwrap_output(np.concatenate(v), mono.shape[0], _OVERLAP_FRAMES)
        for name, v in found.items()
    }


def _resample(x: np.ndarray, rate: int, to: int) -> np.ndarray:
    if rate == to:
        return x
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, to)
    return resample_poly(x, to // g, rate // g).astype(np.float32)


@functools.cache
def _basic_pitch() -> dict[str, Any]:
    """basic-pitch's modules and its ONNX model, loaded once."""
    if not available():
        raise RuntimeError(
            "transcribing a recording needs basic-pitch and onnxruntime: pip install "
            "'musicapp[ml]' and, without its dependencies, basic-pitch "
            "(packaging/requirements-nodeps.txt; scripts/setup.sh does both)"
        )
    # basic-pitch logs a warning for each backend it does not find (TensorFlow, CoreML, TFLite);
    # ONNX is the one we mean to use, so those are noise.
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        import basic_pitch
        from basic_pitch import constants, inference
        from basic_pitch import note_creation as notes
    finally:
        logging.disable(previous)
    path = basic_pitch.build_icassp_2022_model_path(basic_pitch.FilenameSuffix.onnx)
    if not path.is_file():
        raise RuntimeError(f"basic-pitch's ONNX model is missing at {path}; reinstall basic-pitch")
    return {
        "constants": constants,
        "inference": inference,
        "notes": notes,
        "model": inference.Model(path),
    }
