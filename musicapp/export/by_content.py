"""Verify a file that carries no musicapp tags by its audio: which export or take it came from,
the ledger's record of it, the chain, and what that cannot vouch for.

The checks are the tagged path's (``verifier.py``), so a report reads the same either way:

- ``readable``: as for any file.
- ``attribution``: skipped: there are no tags; the file is identified by its audio instead.
- ``content``: the export or take whose samples these are (``lookup.find_by_content``); fails
  when no event in the ledger records this audio.
- ``audio``: how the samples match: bit for bit, or converted to 16 bits.
- ``tags``, ``sidecar``: skipped: no tags to compare.
- ``ledger``: the event is in the ledger, no ``export_failed`` event withdrew it, and the take
  it names is there.
- ``chain``: the ledger as a whole verifies.
"""

from __future__ import annotations

from pathlib import Path

from musicapp.core import InvalidInput
from musicapp.export.lookup import (
    SAME_AT_16,
    SAME_AUDIO,
    SAME_FILE,
    SAME_MP3,
    ContentMatch,
    find_by_content,
)
from musicapp.export.record import ATTRIBUTION_TAG, sidecar_path
from musicapp.export.report import Check, FileReport, check_chain, skipped
from musicapp.ledger import Ledger

_HOW_16 = {
    "pcm16": "low 8 bits dropped, as libsndfile and ffmpeg convert",
    "pcm16_rounded": "rounded to 16 bits, as sox -D converts",
}


def _not_identified(path: Path, readable: Check, detail: str) -> FileReport:
    checks = [
        readable,
        Check("attribution", False, f"no musicapp attribution: {ATTRIBUTION_TAG} is missing"),
        Check("content", False, detail),
    ]
    return FileReport(path, checks, False)


def _content_check(match: ContentMatch) -> Check:
    what = "export" if match.kind == "export" else "generation (take)"
    detail = f"{what} event {match.event.seq} ({match.event_id}) of {match.when}: {match.how}"
    if match.others:
        detail += f"; the same audio is also recorded by {len(match.others)} other event(s)"
    return Check("content", True, detail)


def _audio_check(match: ContentMatch) -> Check:
    recorded = match.event.payload
    if match.how == SAME_AT_16:
        why = _HOW_16.get(match.role, "converted")
        detail = (
            f"converted: the PCM matches the export at 16-bit, not bit-identical ({why}; the "
            f"export is {recorded.get('pcm_format', 'deeper')})"
        )
        return Check("audio", True, detail)
    if match.how == SAME_MP3:
        digest = str(recorded.get("mp3_frames_sha256"))
        return Check(
            "audio", True, f"MP3 frames equal the recorded mp3_frames_sha256 {digest[:16]}…"
        )
    fmt = recorded.get("pcm_format") or "s16le"
    digest = str(recorded.get("pcm_sha256") or recorded.get("audio_sha256") or "")
    if match.how == SAME_FILE:
        return Check("audio", True, f"the file is the recorded one, byte for byte ({fmt})")
    return Check("audio", True, f"samples equal the recorded {fmt} sha256 {digest[:16]}…")


def _ledger_check(match: ContentMatch, ledger: Ledger) -> Check:
    problems = []
    if match.withdrawn:
        problems.append(f"an export_failed event says export {match.event_id} never completed")
    if match.kind == "export" and match.generation_event_id:
        if match.generation is None:
            problems.append(
                f"the export names take {match.generation_event_id}, which is not in the ledger"
            )
        elif match.generation.kind != "generation":
            problems.append(f"the export's take {match.generation_event_id} is not a generation")
    if problems:
        return Check("ledger", False, "; ".join(problems))
    if match.kind == "take":
        return Check("ledger", True, f"generation event {match.event.seq} of {match.when}")
    take = f", take {match.generation_event_id} is in the ledger" if match.generation else ""
    return Check("ledger", True, f"export event {match.event.seq} of {match.when}{take}")


def _not_established(path: Path, match: ContentMatch) -> tuple[str, ...]:
    out = []
    if match.kind == "export":
        out.append("no musicapp tags in the file, so no tag or sidecar check")
    else:
        out.append("takes carry no tags, so no tag or sidecar check")
    if match.how == SAME_AT_16:
        out.append("converted: the PCM matches the export at 16-bit, not bit-identical")
    elif match.how == SAME_MP3:
        out.append("the file's bytes differ from the export's: only its MP3 audio frames match")
    elif match.how == SAME_AUDIO:
        source = "export" if match.kind == "export" else "take file"
        out.append(f"the file's bytes differ from the {source}'s: only its samples match")
    if match.others:
        out.append(
            f"the same audio was recorded {len(match.others)} more time(s) "
            f"({', '.join(match.others[:3])}{'…' if len(match.others) > 3 else ''}); "
            f"this is the first"
        )
    if sidecar_path(path).exists():
        out.append(f"{sidecar_path(path).name} was not compared: the file has no tags")
    return tuple(out)


def verify_by_content(
    path: Path, readable: Check, ledger: Ledger, index_path: Path | None
) -> FileReport:
    """Identify an untagged file by its audio and check the ledger's record of it."""
    try:
        match = find_by_content(path, ledger, index_path)
    except InvalidInput as exc:
        return _not_identified(path, readable, f"its audio cannot be looked up ({exc})")
    if match is None:
        return _not_identified(
            path,
            readable,
            f"no musicapp tags, and its audio matches no export or take in the ledger "
            f"{ledger.path}",
        )
    no_tags = "no tags to compare: the file carries none"
    checks = [
        readable,
        skipped("attribution", "no musicapp tags in the file: identified by its audio instead"),
        _content_check(match),
        _audio_check(match),
        skipped("tags", no_tags),
        _ledger_check(match, ledger),
        check_chain(ledger),
        skipped("sidecar", f"{no_tags}, so no sidecar check"),
    ]
    ok = all(c.ok for c in checks)
    return FileReport(path, checks, ok, match, _not_established(path, match))
