"""The `musicapp audit` command: who is really in an audio file or a take, found from the audio
alone, and for a take the by-design attribution beside it (``studio.audit``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from musicapp.cli_common import EXIT_OK, emit, open_context, run_with_progress
from musicapp.core import InvalidInput

METHOD_CHOICES = ("combined", "fingerprints", "decomposition", "baseline")
TOP_SONGS = 5


def clock(seconds: float) -> str:
    whole = max(0, int(round(seconds)))
    return f"{whole // 60}:{whole % 60:02d}"


def _span(start: float, end: float) -> str:
    return f"{clock(start)}–{clock(end)}"


def _change(pitch_shift: int, tempo_ratio: float) -> str:
    parts = []
    if pitch_shift:
        parts.append(f"{pitch_shift:+d} semitones")
    if abs(tempo_ratio - 1.0) >= 0.005:
        parts.append(f"tempo ×{tempo_ratio:.2f}")
    return f", {', '.join(parts)}" if parts else ""


def _title(titles: dict[str, str], song_id: str) -> str:
    return titles.get(song_id, song_id)


def timeline_runs(result: Any) -> list[tuple[float, float, str, float]]:
    """The segments merged into runs with the same leading song: (start, end, song or "", mean
    weight); "" where nothing of the catalogue leads."""
    runs: list[tuple[float, float, str, float]] = []
    weights: list[float] = []
    for seg in result.segments:
        lead, weight = max(seg.influence.items(), key=lambda kv: kv[1], default=("", 0.0))
        if weight < 0.05:
            lead, weight = "", 0.0
        if runs and runs[-1][2] == lead:
            start, _end, _lead, _w = runs[-1]
            weights.append(weight)
            runs[-1] = (start, seg.end_s, lead, sum(weights) / len(weights))
        else:
            weights = [weight]
            runs.append((seg.start_s, seg.end_s, lead, weight))
    return runs


def audit_lines(result: Any, titles: dict[str, str]) -> list[str]:
    """The audit in words: top songs with what was found outright, then the timeline."""
    lines = [
        f"Audit ({result.duration_s:.1f} s, {result.method}; {result.catalogue_songs} songs "
        f"indexed{'; embeddings: ' + result.embedder if result.embedder else ''})",
        "Top songs:",
    ]
    top = result.top(TOP_SONGS)
    for song_id, share in top:
        lines.append(f"  {share:6.1%}  {_title(titles, song_id)}")
        for f in (f for f in result.findings if f.song_id == song_id):
            lines.append(
                f"           found outright at {_span(f.start_s, f.end_s)} (the song's "
                f"{_span(f.song_start_s, f.song_end_s)}{_change(f.pitch_shift, f.tempo_ratio)}; "
                f"p={f.probability:.2f})"
            )
    if not top:
        lines.append("  (nothing of the catalogue found)")
    lines.append(f"  {result.unattributed:6.1%}  unattributed (not the catalogue's)")
    lines.append("Timeline:")
    for start, end, lead, weight in timeline_runs(result):
        who = f"{_title(titles, lead)} ({weight:.0%})" if lead else "-"
        lines.append(f"  {_span(start, end):>11}  {who}")
    lines += [f"Note: {n}" for n in result.notes]
    return lines


def comparison_lines(comparison: Any, titles: dict[str, str]) -> list[str]:
    lines = ["By design beside the audit:", "  by design    audit  song"]
    for row in comparison.rows:
        mark = "  (found outright)" if row.found_outright else ""
        lines.append(
            f"  {row.by_design:9.1%} {row.audit:8.1%}  {_title(titles, row.song_id)}{mark}"
        )
    lines.append(f"  share L1 {comparison.share_l1:.3f}")
    if comparison.agrees:
        lines.append("They agree.")
        return lines
    lines.append("Where they disagree:")
    for s in comparison.missed:
        lines.append(f"  - {_title(titles, s)}: declared, but the audit does not find it")
    for s in comparison.undeclared:
        lines.append(f"  - {_title(titles, s)}: found outright, but not declared")
    odd = [
        r
        for r in comparison.rows
        if abs(r.difference) > comparison.tolerance
        and r.song_id not in comparison.missed + comparison.undeclared
    ]
    for r in odd:
        lines.append(
            f"  - {_title(titles, r.song_id)}: {r.by_design:.0%} by design, {r.audit:.0%} "
            "by the audit"
        )
    return lines


def comparison_to_dict(comparison: Any) -> dict[str, Any]:
    return {
        "rows": [
            {
                "song_id": r.song_id,
                "by_design": round(r.by_design, 6),
                "audit": round(r.audit, 6),
                "found_outright": r.found_outright,
            }
            for r in comparison.rows
        ],
        "missed": list(comparison.missed),
        "undeclared": list(comparison.undeclared),
        "share_l1": round(comparison.share_l1, 6),
        "agrees": comparison.agrees,
    }


def _titles(ctx: Any, song_ids: set[str]) -> dict[str, str]:
    songs = ctx.studio.library.songs(sorted(song_ids))
    return {s: f"{v.title} — {v.artist}" for s, v in songs.items()}


def _take_or_none(ctx: Any, target: str) -> Any:
    """The take ``target`` names ("last" or an id), or None when it names a file instead."""
    if target != "last" and Path(target).exists():
        return None
    try:
        return ctx.studio.take(target)
    except InvalidInput:
        if target == "last":
            raise
        return None  # not a take: the file reader names the file and what is wrong with it


def cmd_audit(args: argparse.Namespace) -> int:
    if not args.target and not args.index:
        raise InvalidInput("audit: name an audio file, a take id or 'last' (or give --index)")
    with open_context(args) as ctx:
        room = ctx.studio.audit
        if args.index:
            added = run_with_progress("audit index", room.index_job().run, args.progress)
            status = room.status()
            print(
                f"Audit index: {status.indexed} of {status.songs} songs ({added} added); "
                f"{status.fingerprints}; embeddings: {status.embedder}",
                file=sys.stderr if args.target else sys.stdout,
            )
            if not args.target:
                return EXIT_OK
        take = _take_or_none(ctx, args.target)
        job = (
            room.audit_file_job(args.target, args.method)
            if take is None
            else room.audit_take_job(take.id, args.method)
        )
        result = run_with_progress("audit", job.run, args.progress)
        data = result.to_dict()
        song_ids = set(result.influence) | result.found_songs()
        comparison = None
        if take is not None:
            comparison = room.comparison(take, result)
            song_ids |= set(take.provenance.song_shares())
        titles = _titles(ctx, song_ids)
        lines = ([f"Take {take.id}"] if take is not None else []) + audit_lines(result, titles)
        if take is not None and comparison is not None:
            data["take_id"] = take.id
            data["by_design"] = take.provenance.song_shares()
            data["comparison"] = comparison_to_dict(comparison)
            lines += comparison_lines(comparison, titles)
        data["titles"] = titles
        emit(args, data, "\n".join(lines))
    return EXIT_OK


def add_audit_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `musicapp audit` on the `musicapp` parser."""
    audit = sub.add_parser(
        "audit",
        parents=[common],
        help="who is really in an audio file or a take, found from the audio alone",
        description="Audit an audio file or a take against the catalogue: the songs whose "
        "recordings are found in it outright (fingerprints, with where and how they were "
        "changed) or whose style it follows (segment embeddings), as shares and a timeline. "
        "For a take, the by-design attribution is shown beside it with the disagreements.",
    )
    audit.add_argument(
        "target", nargs="?", help="an audio file, a take id, or 'last' for the newest take"
    )
    audit.add_argument(
        "--method",
        choices=METHOD_CHOICES,
        default="combined",
        help="the app's combination (default), or one detector alone, or the plain-similarity "
        "baseline",
    )
    audit.add_argument(
        "--index",
        action="store_true",
        help="first index the catalogue songs the audit's index lacks (with progress)",
    )
    audit.set_defaults(func=cmd_audit)
