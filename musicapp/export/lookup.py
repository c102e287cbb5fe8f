"""find_by_content: which export or take an audio file (or in-memory audio) came from, by its
samples alone, without its tags.

What is compared (``fingerprint.py`` defines each digest):

- a file: its bytes (``file_sha256``: "same file"), and its samples at every depth they are
  exactly: its own format, 24-bit when a 32-bit or float file holds 24-bit values, 16-bit when
  a deeper file holds 16-bit values. A match of those with an export's or take's own samples
  is "same audio (decoded PCM)": a FLAC converted to WAV or back, tags stripped or changed. A
  16-bit file whose samples equal a 24-bit export's with the low 8 bits dropped (libsndfile,
  ffmpeg, soundfile) or rounded (``sox -D``) is "same audio at 16-bit".
- in-memory float audio ``(channels, samples)`` with its rate: the digests a float32 WAV of it
  would have ("f32le", as takes are kept) and, where every sample is exactly a 24- or 16-bit
  value (audio decoded from such a file), those, compared as for a file. Otherwise it is also
  quantised as an export at 24 and at 16 bits would quantise it; a match of that with an
  export's samples is "same audio once quantised to 24-bit" (or 16-bit).

- an MP3 file: also the digest of its encoded audio frames (``mp3.py``), which equals an MP3
  export's own when only its tags were changed or stripped: "same MP3 audio frames". Its
  decoded samples match nothing: MP3 is lossy.

Nothing else is recognised: a resampled, remixed, dithered (sox's default when it lowers the
depth), lossy-coded or otherwise re-processed copy has other samples, and so does a file with
one sample changed.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from musicapp.audio.io import AudioError
from musicapp.export.fingerprint import Digests, array_digests, file_digests, file_sha256
from musicapp.export.index import ContentIndex, IndexRow, default_index_path
from musicapp.export.mp3 import mp3_frames_sha256
from musicapp.export.record import ExportError
from musicapp.ledger import Event, Ledger

log = logging.getLogger(__name__)

SAME_FILE = "same file"
SAME_AUDIO = "same audio (decoded PCM)"
SAME_AT_16 = "same audio at 16-bit"
SAME_MP3 = "same MP3 audio frames"


def _quantised_how(fmt: str) -> str:
    return f"same audio once quantised to {fmt[1:3]}-bit"


@dataclass(frozen=True)
class ContentMatch:
    """The export or take some audio came from, and how closely it matches.

    ``kind`` is "export" or "take"; ``event_id`` the export event, or for a take its generation
    event; ``generation_event_id`` the take's generation event either way ("" when an export
    names none). ``how`` is one of ``SAME_FILE``, ``SAME_AUDIO``, ``SAME_AT_16``, or "same
    audio once quantised to N-bit"; ``exact`` is True for the first two (the samples, or the
    whole file, are the export's or take's own); ``role`` names the recorded digest that matched ("file",
    "pcm", "pcm16": 16-bit with the low bits dropped, "pcm16_rounded"). ``others`` lists the
    other events whose audio matches too (the same take exported twice).
    """

    kind: str
    event_id: str
    generation_event_id: str
    how: str
    role: str
    exact: bool
    event: Event
    generation: Event | None
    withdrawn: bool = False
    others: tuple[str, ...] = ()

    @property
    def when(self) -> str:
        """When the export (or the take) was recorded, UTC ISO 8601."""
        return self.event.ts

    @property
    def generation_payload(self) -> dict[str, Any]:
        """The generation event's payload: request, provenance, royalties, ... ({} if unknown)."""
        return dict(self.generation.payload) if self.generation is not None else {}

    @property
    def song_shares(self) -> dict[str, float]:
        """The take's share per referenced song, from its provenance."""
        shares: dict[str, float] = {}
        provenance = self.generation_payload.get("provenance")
        items = provenance.get("shares") if isinstance(provenance, dict) else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("share"), int | float):
                song = str(item.get("song_id", ""))
                shares[song] = shares.get(song, 0.0) + float(item["share"])
        return shares

    @property
    def references(self) -> list[dict[str, Any]]:
        """The references with their shares: from the export's record (titles and artists), or
        for a take, song ids and shares from its provenance."""
        refs = self.event.payload.get("references") if self.kind == "export" else None
        if isinstance(refs, list):
            return [dict(r) for r in refs if isinstance(r, dict)]
        return [{"song_id": s, "share": share} for s, share in self.song_shares.items()]

    @property
    def rights_holders(self) -> list[dict[str, Any]]:
        """Who is owed what: from the export's record (names), or the take's royalties (ids)."""
        holders = self.event.payload.get("rights_holders") if self.kind == "export" else None
        if isinstance(holders, list):
            return [dict(h) for h in holders if isinstance(h, dict)]
        royalties = self.generation_payload.get("royalties")
        if not isinstance(royalties, dict):
            return []
        ranked = sorted(royalties.items(), key=lambda kv: (-float(kv[1]), kv[0]))
        return [{"id": h, "share": s} for h, s in ranked]

    def describe(self) -> list[str]:
        """What the ledger says the audio was made from, in lines for a person: the take, each
        reference and rights holder with its share (which event and how: ``FileReport.summary``)."""
        lines = []
        if self.generation_event_id:
            lines.append(f"take (generation event) {self.generation_event_id}")
        for ref in self.references:
            name = ref.get("title") or ref.get("song_id", "?")
            by = f" ({ref['artist']})" if ref.get("artist") else ""
            lines.append(f"reference {_share(ref.get('share'))}  {name}{by}")
        for holder in self.rights_holders:
            name = holder.get("name") or holder.get("id", "?")
            lines.append(f"rights holder {_share(holder.get('share'))}  {name}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "event_id": self.event_id,
            "event_seq": self.event.seq,
            "generation_event_id": self.generation_event_id,
            "when": self.when,
            "how": self.how,
            "exact": self.exact,
            "withdrawn": self.withdrawn,
            "references": self.references,
            "rights_holders": self.rights_holders,
            "song_shares": self.song_shares,
            "others": list(self.others),
        }


def _share(value: Any) -> str:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return f"{float(value):6.1%}" if ok else "     ?"


def _rank(
    row: IndexRow, exact: dict[str, bool], file_digest: str | None, frames: str | None = None
) -> tuple[int, str]:
    """How good a match a row is (lower is better; -1: no match) and its phrase."""
    if row.role == "file":
        return (0, SAME_FILE) if row.digest == file_digest else (-1, "")
    if row.role == "mp3":
        return (1, SAME_MP3) if row.digest == frames else (-1, "")
    if row.digest not in exact:
        return -1, ""
    if row.role == "pcm":
        return (1, SAME_AUDIO) if exact[row.digest] else (3, "")
    # The 16-bit digests of a deeper export match only audio that is exactly 16-bit, never a
    # deeper file that merely agrees in its upper bits.
    return (2, SAME_AT_16) if exact[row.digest] else (-1, "")


def digests_of(source: Path | str | NDArray[np.floating[Any]], sample_rate: int | None) -> Digests:
    """The digests of a file, or of in-memory audio at ``sample_rate``; InvalidInput if neither
    can be read."""
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise ExportError("find by content: in-memory audio needs its sample_rate")
        return array_digests(source, sample_rate)
    path = Path(source)
    try:
        return file_digests(path)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioError(f"{path}: not an audio file musicapp can read ({exc})") from None


def _indexed(ledger: Ledger, index_path: Path | None, digests: list[str]) -> list[IndexRow]:
    """The index's rows for ``digests``, brought up to date first. An index that cannot be
    written (a read-only folder, another process holding it past the timeout) is replaced by
    one in memory for this lookup: slower, as it reads the whole ledger, but as correct."""
    path = index_path or default_index_path(ledger)
    try:
        with ContentIndex(path) as index:
            index.update(ledger)
            return index.lookup(digests)
    except (sqlite3.Error, OSError) as exc:
        log.warning("content index %s unusable (%s); looking up without it", path, exc)
    with ContentIndex(Path(":memory:")) as index:
        index.update(ledger)
        return index.lookup(digests)


def find_by_content(
    path_or_audio: Path | str | NDArray[np.floating[Any]],
    ledger: Ledger,
    index_path: Path | None = None,
    *,
    sample_rate: int | None = None,
) -> ContentMatch | None:
    """The export or take whose audio this is, or None when no event in ``ledger`` records it.

    ``index_path`` is the content index (default: ``content-index.sqlite`` beside the ledger);
    it is brought up to date first. For in-memory audio give ``sample_rate``. Raises
    InvalidInput (AudioError) for a file that cannot be decoded.
    """
    digests = digests_of(path_or_audio, sample_rate)
    exact = dict.fromkeys(digests.exact.values(), True)
    exact |= dict.fromkeys(digests.quantised.values(), False)
    file_digest = frames = None
    if not isinstance(path_or_audio, np.ndarray):
        file_digest = file_sha256(Path(path_or_audio))
        frames = _mp3_frames(Path(path_or_audio))
    wanted = [*exact, *(d for d in (file_digest, frames) if d)]
    rows = _indexed(ledger, index_path, wanted)
    best: dict[str, tuple[int, int, str, IndexRow]] = {}
    for row in rows:
        rank, how = _rank(row, exact, file_digest, frames)
        if rank < 0:
            continue
        if rank == 3:
            how = _quantised_how(next(f for f, d in digests.quantised.items() if d == row.digest))
        key = (rank + (10 if row.withdrawn else 0), row.seq, how, row)
        if row.event_id not in best or key[:2] < best[row.event_id][:2]:
            best[row.event_id] = key
    ranked = sorted(best.values(), key=lambda k: k[:2])
    for rank, _seq, how, row in ranked:
        event = ledger.get(row.event_id)
        if event is None:
            continue
        generation: Event | None = event if row.kind != "export" else None
        generation_id = event.id if row.kind != "export" else ""
        if row.kind == "export" and isinstance(event.payload.get("generation_event_id"), str):
            generation_id = event.payload["generation_event_id"]
            generation = ledger.get(generation_id) if generation_id else None
        return ContentMatch(
            kind="export" if row.kind == "export" else "take",
            event_id=event.id,
            generation_event_id=generation_id,
            how=how,
            role=row.role,
            exact=rank % 10 <= 1,
            event=event,
            generation=generation,
            withdrawn=row.withdrawn,
            others=tuple(k[3].event_id for k in ranked if k[3].event_id != event.id),
        )
    return None


def _mp3_frames(path: Path) -> str | None:
    """The digest of an MP3 file's audio frames; None for any other file, or damaged tags."""
    try:
        if sf.info(str(path)).format != "MP3":
            return None
        return mp3_frames_sha256(path)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError):
        return None
