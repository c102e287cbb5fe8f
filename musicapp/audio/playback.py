"""Plays audio through sounddevice, on the output the user chose (``set_output``) or the
system's default, when there is one."""

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


# The output every Player plays on, by device name (names survive replugging, indexes do not);
# "" is the system's default. Set from the window's Audio output menu (kept in its settings).
_output = {"name": ""}


def set_output(name: str) -> None:
    """Play on the output device called ``name`` from now on ("" for the system's default)."""
    _output["name"] = name


def current_output() -> str:
    return _output["name"]


def outputs() -> tuple[list[str], str]:
    """(the names of the outputs that can play, why none can when the list is empty)."""
    sd, reason = _load_sounddevice()
    if sd is None:
        return [], reason
    try:
        found = [
            str(d["name"]) for d in sd.query_devices() if int(d.get("max_output_channels", 0)) > 0
        ]
    except Exception as exc:  # PortAudio reports a missing device in several ways
        log.info("no audio outputs: %s", exc)
        return [], plain_reason(exc)
    return list(dict.fromkeys(found)), "" if found else NO_DEVICE


def _device(sd: ModuleType) -> int | None:
    """The chosen output's index now, or None (the default) when it is gone."""
    name = _output["name"]
    if not name:
        return None
    try:
        for i, d in enumerate(sd.query_devices()):
            if str(d["name"]) == name and int(d.get("max_output_channels", 0)) > 0:
                return i
    except Exception:  # the default is tried; its error is the one the user sees
        return None
    log.warning("audio output %r is gone; playing on the default output", name)
    return None


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
                self._sd.play(frames, samplerate=sample_rate, device=_device(self._sd))
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
