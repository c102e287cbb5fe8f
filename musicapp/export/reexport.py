"""Re-export: an earlier export again, from the same take, now carrying the server's receipts.

A file exported before its take's events were synced cannot carry their receipts, and a file
is never edited after its export event vouches for its bytes. So the take is exported anew, in
the same format, depth, bitrate and mastering, under a new name beside the old file (which stays valid):
``song.flac`` becomes ``song-receipts.flac``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from musicapp.core import InvalidInput
from musicapp.export.master import Mastering
from musicapp.export.verifier import check_attribution, read_export


@dataclass(frozen=True)
class Reexport:
    """What to export again: the take, where to, and as what."""

    take_id: str
    out: Path
    bits: int
    bitrate: int | None
    mastering: Mastering | None = None  # as the earlier export was mastered


def plan_reexport(path: Path, out: Path | None = None) -> Reexport:
    """The re-export of the earlier export ``path``; InvalidInput naming the file when it is
    not a musicapp export, or when ``out`` (default ``<name>-receipts<suffix>``) exists."""
    path = Path(path)
    readable, file = read_export(path)
    if file is None:
        raise InvalidInput(f"reexport {path}: {readable.detail}")
    attribution = check_attribution(file)
    if not attribution.ok or file.record is None:
        raise InvalidInput(f"reexport {path}: not a musicapp export ({attribution.detail})")
    take_id = file.record.get("generation_event_id")
    if not isinstance(take_id, str):
        raise InvalidInput(f"reexport {path}: its record names no take (generation_event_id)")
    target = Path(out) if out is not None else path.with_name(f"{path.stem}-receipts{path.suffix}")
    if target.suffix.lower() != path.suffix.lower():
        raise InvalidInput(
            f"reexport {path}: {target.name} is another format; a re-export keeps the format "
            f"({path.suffix}); use `musicapp export {take_id} {target}` for another one"
        )
    if target.exists():
        raise InvalidInput(f"reexport {path}: {target} already exists; choose another --out")
    fmt = str(file.record.get("pcm_format") or "")
    bits = 16 if fmt == "s16le" else 24
    rate = file.record.get("mp3_bitrate_kbps")
    try:
        mastering = Mastering.from_report(file.record.get("mastering"))
    except InvalidInput as exc:
        raise InvalidInput(f"reexport {path}: {exc}") from None
    return Reexport(take_id, target, bits, int(rate) if isinstance(rate, int) else None, mastering)
