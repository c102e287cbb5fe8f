"""Per-reference tracks summed into the output, and the exact energy shares they give."""

from __future__ import annotations

import numpy as np

from musicapp.core import USER_INDEX, Provenance, SourceShare, TimelineSlot
from musicapp.generation.base import USER_SOURCE

TIMELINE_MIN_FRACTION = 0.01


class Tracks:
    """Adds segments into one track per reference, one second at a time.

    A second is summed into the output (and its energy per reference measured) once no later
    segment can reach it, so memory stays at a few seconds per reference however long the piece.
    The output is exactly the sum of the references' tracks.
    """

    def __init__(self, n_refs: int, n_samples: int, sr: int, envelope: np.ndarray) -> None:
        self.n_refs = n_refs
        self.n_samples = n_samples
        self.sr = sr
        self.envelope = envelope.astype(np.float32)  # fade in/out, applied to every track alike
        self.n_seconds = -(-n_samples // sr)
        self.out = np.zeros((2, n_samples), dtype=np.float32)
        self.energy = np.zeros((n_refs, self.n_seconds))
        self.coverage = np.zeros((n_refs, self.n_seconds))  # samples scheduled, for silent spans
        self._open: dict[tuple[int, int], np.ndarray] = {}
        self._done = 0  # seconds before this one are summed

    def _span(self, c: int) -> tuple[int, int]:
        return c * self.sr, min((c + 1) * self.sr, self.n_samples)

    def add(self, ref: int, start: int, audio: np.ndarray) -> None:
        """Add (2, n) audio to a reference's track from sample `start` (clipped to the output)."""
        end = min(start + audio.shape[1], self.n_samples)
        if end <= start:
            return
        if start < self._done * self.sr:
            raise RuntimeError("a segment reaches a second that is already summed")
        for c in range(start // self.sr, (end - 1) // self.sr + 1):
            a, b = self._span(c)
            lo, hi = max(a, start), min(b, end)
            buf = self._open.get((ref, c))
            if buf is None:
                buf = self._open[(ref, c)] = np.zeros((2, b - a), dtype=np.float32)
            buf[:, lo - a : hi - a] += audio[:, lo - start : hi - start]
            self.coverage[ref, c] += hi - lo

    def flush(self, before: int) -> None:
        """Sum every second that ends at or before sample `before`."""
        while self._done < self.n_seconds and self._span(self._done)[1] <= before:
            self._close(self._done)
            self._done += 1

    def finish(self) -> np.ndarray:
        self.flush(self.n_samples)
        return self.out

    def _close(self, c: int) -> None:
        a, b = self._span(c)
        env = self.envelope[a:b]
        for ref in range(self.n_refs):
            buf = self._open.pop((ref, c), None)
            if buf is None:
                continue
            buf *= env
            self.energy[ref, c] = float(np.sum(buf.astype(np.float64) ** 2))
            self.out[:, a:b] += buf


def provenance(
    tracks: Tracks,
    song_ids: list[str],
    engine: str,
    device: str = "cpu",
    user_track: bool = False,
) -> Provenance:
    """Shares = each track's energy over the output's; a timeline per second.

    With `user_track`, the last track is the user's own audio: named USER_SOURCE in the
    timeline, with a share of its own (which owes no royalties: the user is not a rights holder).
    """
    n = len(song_ids)
    m = n + 1 if user_track else n
    per_track = tracks.energy[:m].sum(axis=1)
    total = per_track.sum()
    if total > 0:
        shares = per_track / total
    else:  # a silent output still came from its sources: by the time each was scheduled
        cover = tracks.coverage[:m].sum(axis=1)
        shares = cover / cover.sum() if cover.sum() > 0 else np.ones(m) / m
    shares = shares / shares.sum()
    if user_track:
        song_ids = [*song_ids, USER_SOURCE]
    slots = []
    for c in range(tracks.n_seconds):
        start, end = c * tracks.sr, min((c + 1) * tracks.sr, tracks.n_samples)
        e = tracks.energy[:, c]
        frac = (
            e / e.sum()
            if e.sum() > 0
            else tracks.coverage[:, c] / max(tracks.coverage[:, c].sum(), 1.0)
        )
        by_song: dict[str, float] = {}
        for ref, f in enumerate(frac):
            by_song[song_ids[ref]] = by_song.get(song_ids[ref], 0.0) + float(f)
        sources = tuple(
            sorted(
                ((sid, f) for sid, f in by_song.items() if f > TIMELINE_MIN_FRACTION),
                key=lambda x: -x[1],
            )
        )
        slots.append(TimelineSlot(start / tracks.sr, end / tracks.sr, sources))
    return Provenance(
        shares=tuple(
            SourceShare(i if i < n else USER_INDEX, song_ids[i], float(s))
            for i, s in enumerate(shares)
        ),
        timeline=tuple(slots),
        engine=engine,
        device=device,
        method="contributed energy",
    )
