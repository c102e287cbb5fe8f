"""Listening to separated stems: which ones are heard, their mix, and reading their files.

No Qt: the Stems view calls these on its I/O lane and when Solo or Mute change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from musicapp.jobs import CancelToken


def audible(names: list[str], solo: set[str], muted: set[str]) -> list[str]:
    """The stems one hears: the soloed ones if any are soloed, else all; never a muted one.

    Mute wins over solo, as on a mixing desk: a stem soloed and muted is silent (issue 19:
    it was heard)."""
    heard = [n for n in names if n in solo] if solo else names
    return [n for n in heard if n not in muted]


def mix(stems: Mapping[str, npt.NDArray[Any]], names: list[str]) -> npt.NDArray[np.float32]:
    """The sum of `names`' audio (stereo, padded to the longest), scaled down only if it clips."""
    if not names:
        return np.zeros((2, 0), dtype=np.float32)
    n = max(stems[k].shape[1] for k in names)
    out = np.zeros((2, n), dtype=np.float32)
    for k in names:
        out[:, : stems[k].shape[1]] += stems[k]
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    return out / peak if peak > 1.0 else out


def read_stems(result: Any, cancel: CancelToken) -> tuple[dict[str, npt.NDArray[Any]], int]:
    """Every stem file of a StemsResult as stereo float32 at one rate (the first file's)."""
    import soundfile as sf

    from musicapp.audio.io import resample, to_channels

    out: dict[str, npt.NDArray[Any]] = {}
    rate = 0
    for name, path in result.stems.items():
        cancel.check()
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
        audio = to_channels(np.ascontiguousarray(data.T), 2)
        if rate == 0:
            rate = int(sr)
        elif sr != rate:
            audio = resample(audio, int(sr), rate)
        out[name] = audio
    return out, rate or int(result.sample_rate)
