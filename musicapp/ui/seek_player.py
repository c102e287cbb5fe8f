"""A player that starts part-way through a buffer, so A/B, Solo and Mute restart in place."""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

from musicapp.audio.playback import Player


class SeekPlayer:
    """A Player that can start part-way through a buffer and says where it is in the buffer.

    The A/B switch and Solo/Mute restart the sound from the same place with other audio; the
    guarded Player only plays from the start, so the offset is kept here.
    """

    def __init__(self, player: Player | None = None) -> None:
        self.player = player if player is not None else Player()
        self._offset_s = 0.0
        self._length_s = 0.0

    @property
    def available(self) -> bool:
        return bool(self.player.available)

    @property
    def unavailable_reason(self) -> str:
        return str(self.player.unavailable_reason)

    def play(self, audio: npt.NDArray[Any], sample_rate: int, from_s: float = 0.0) -> None:
        """Play `audio` (channels, samples) from `from_s` seconds in (raises on a device error)."""
        n = audio.shape[-1]
        start = int(max(0.0, from_s) * sample_rate)
        if start >= n:
            start = 0
        self._offset_s, self._length_s = start / sample_rate, n / sample_rate
        self.player.play(audio[..., start:], sample_rate)

    def stop(self) -> None:
        self.player.stop()

    @property
    def position_s(self) -> float | None:
        """Seconds into the whole buffer, or None when nothing plays."""
        pos = self.player.position_s
        return None if pos is None else self._offset_s + float(pos)
