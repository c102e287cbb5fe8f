"""Plays audio on the default output device through sounddevice, when there is one."""

from __future__ import annotations

import logging
import threading
import time
from types import ModuleType

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

NO_DEVICE = (
    "this computer has no audio output set up (connect speakers or headphones, or choose an "
    "output in the system's sound settings)"
)


def _load_sounddevice() -> tuple[ModuleType | None, str]:
    """Import sounddevice lazily: it raises OSError at import when PortAudio is missing."""
    try:
        import sounddevice
    except ImportError:
        return None, "the sounddevice package is not installed (pip install sounddevice)"
    except OSError:  # the PortAudio shared library is missing
        return None, "the PortAudio sound library is missing (install the libportaudio2 package)"
    return sounddevice, ""


def plain_reason(exc: BaseException) -> str:
    """What PortAudio's error means to a listener. Its own texts ("Error querying device -1",
    "Invalid device", "Device unavailable") are for the log, not for the window."""
    text = str(exc).lower()
    if "device unavailable" in text or "busy" in text:
        return "the audio output is in use by another program or was unplugged"
    if "sample rate" in text:
        return "the audio output cannot play at this sample rate"
    return NO_DEVICE


class Player:
    """Plays one buffer at a time; `play` replaces whatever was playing.

    `available` says whether playback can work at all, and `unavailable_reason` why not, so a
    front end can disable its Play button with an explanation instead of failing on click.
    """

    def __init__(self) -> None:
        self._sd: ModuleType | None = None
        self._reason = ""
        self._probed = False
        self._lock = threading.Lock()
        self._started_at: float | None = None
        self._duration_s = 0.0

    def _probe(self) -> None:
        if self._probed:
            return
        self._probed = True
        sd, reason = _load_sounddevice()
        if sd is not None:
            try:
                sd.query_devices(kind="output")
            except Exception as exc:  # PortAudio reports a missing device in several ways
                log.info("no audio output: %s", exc)
                sd, reason = None, plain_reason(exc)
        self._sd, self._reason = sd, reason

    @property
    def available(self) -> bool:
        self._probe()
        return self._sd is not None

    @property
    def unavailable_reason(self) -> str:
        self._probe()
        return self._reason

    def play(self, audio: npt.NDArray[np.floating], sample_rate: int) -> None:
        """Start playing `audio` (channels, samples) and return at once."""
        self._probe()
        if self._sd is None:
            raise RuntimeError(f"No audio output device: {self._reason}")
        frames = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).T)
        with self._lock:
            self._sd.stop()
            try:
                self._sd.play(frames, samplerate=sample_rate)
            except Exception as exc:  # the device went away, or PortAudio refuses it
                log.warning("playback failed: %s", exc)
                raise RuntimeError(f"Cannot play: {plain_reason(exc)}") from exc
            self._started_at = time.monotonic()
            self._duration_s = frames.shape[0] / float(sample_rate)

    def stop(self) -> None:
        with self._lock:
            if self._sd is not None and self._started_at is not None:
                self._sd.stop()
            self._started_at = None

    @property
    def position_s(self) -> float | None:
        """Seconds since playback started, or None when nothing is playing."""
        with self._lock:
            if self._started_at is None:
                return None
            pos = time.monotonic() - self._started_at
            if pos >= self._duration_s:
                self._started_at = None
                return None
            return pos
