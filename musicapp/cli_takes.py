"""The `musicapp` commands that make and check takes: generate, verify, stems (export and
reexport: ``cli_export.py``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from musicapp.cli_common import EXIT_FAILED, EXIT_OK, emit, open_context, run_with_progress
from musicapp.core import (
    UNDECLARED_CHOICES,
    GenerationRequest,
    InvalidInput,
    Level,
    Reference,
    Role,
    TimeRange,
    Use,
)
from musicapp.core.codec import verification_to_dict
from musicapp.royalties.take_price import prices_to_dict, source_text, summary_text


def parse_reference(text: str) -> Reference:
    """Parse `SONG_ID[:WEIGHT]` or `SONG_ID,level=L,role=R,part=P,weight=W,range=A-B`."""
    head, *options = text.split(",")
    fields: dict[str, str] = {}
    if ":" in head:
        head, fields["weight"] = head.rsplit(":", 1)
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or key not in {"level", "role", "part", "weight", "range"}:
            raise InvalidInput(
                f"reference {text!r}: unknown option {option!r} "
                "(use level=, role=, part=, weight=, range=START-END)"
            )
        fields[key] = value
    try:
        weight = float(fields.get("weight", "1"))
    except ValueError:
        raise InvalidInput(
            f"reference {text!r}: weight {fields['weight']!r} is not a number"
        ) from None
    try:
        default = "audio" if "part" in fields else "parameter" if "role" in fields else "song"
        level = Level(fields.get("level", default))
        role = Role(fields["role"]) if "role" in fields else None
    except ValueError as exc:
        raise InvalidInput(f"reference {text!r}: {exc}") from None
    time_range = TimeRange.parse(fields["range"]) if "range" in fields else None
    return Reference(head.strip(), level, role, time_range, weight, part=fields.get("part", ""))


def _options(args: argparse.Namespace) -> dict[str, str]:
    """Engine options from their flags (only those given, so engines keep their defaults)."""
    options: dict[str, str] = {}
    if args.wet is not None:
        text = args.wet.strip()
        try:
            wet = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise InvalidInput(f"--wet: {args.wet!r} is not a number (0-1, or 0-100%)") from None
        options["wet"] = f"{wet:g}"
    for name in ("drive", "dynamics"):
        value = getattr(args, name)
        if value is not None:
            options[name] = "on" if value else "off"
    if args.tempo is not None:
        options["tempo"] = f"{args.tempo:g}"
    return options


def _request(args: argparse.Namespace) -> GenerationRequest:
    return GenerationRequest(
        options=_options(args),
        references=tuple(parse_reference(r) for r in args.refs),
        use=Use(args.use),
        duration_s=args.duration,
        seed=args.seed,
        engine=args.engine,
        prompt=args.prompt,
        user_audio=str(Path(args.user_audio).resolve()) if args.user_audio else None,
        user_range=TimeRange.parse(args.user_range) if args.user_range else None,
        on_undeclared=args.undeclared,
    )


def _undeclared(args: argparse.Namespace, err: Any) -> int:
    """A take refused because the audit found catalogue recordings in the user's audio that no
    reference declares: what was found where, and how to choose."""
    found = [
        {
            **f.to_dict(),
            "title": err.titles.get(f.song_id, f.song_id),
            "at": f"{_clock(f.start_s)}–{_clock(f.end_s)}",
        }
        for f in err.findings
    ]
    lines = ["Refused: your audio holds catalogue recordings no reference declares:"]
    lines += [f"  {f['at']}  {f['title']} (p={f['probability']:.2f})" for f in found]
    lines += [
        "Choose with --undeclared:",
        "  add       each song becomes a reference: its consent is checked, its holders paid",
        "  override  make the take anyway, without them (the override is logged)",
        f"Logged as audit event {err.event_id}.",
    ]
    emit(
        args,
        {
            "allowed": False,
            "undeclared": found,
            "audit_event_id": err.event_id,
            "choices": list(UNDECLARED_CHOICES),
        },
        "\n".join(lines),
    )
    return EXIT_FAILED


def _clock(seconds: float) -> str:
    whole = max(0, int(round(seconds)))
    return f"{whole // 60}:{whole % 60:02d}"


def cmd_generate(args: argparse.Namespace) -> int:
    from musicapp.cli_select import alternatives_text, alternatives_to_dict
    from musicapp.studio_types import Refused, UndeclaredMaterial

    request = _request(args)
    with open_context(args) as ctx:
        try:
            take = run_with_progress(
                "generate",
                lambda p, c: ctx.studio.generate(request, p, c),
                args.progress,
            )
        except UndeclaredMaterial as err:
            return _undeclared(args, err)
        except Refused as refused:
            # Every refusal comes with the permitted songs nearest to what was refused.
            alternatives = ctx.studio.selection.alternatives(refused.verification)
            emit(
                args,
                {
                    "allowed": False,
                    "verification_event_id": refused.event_id,
                    **verification_to_dict(refused.verification),
                    "alternatives_songs": alternatives_to_dict(alternatives),
                },
                refused.verification.summary()
                + _alternatives(refused.verification)
                + alternatives_text(alternatives),
            )
            return EXIT_FAILED
        royalties = ctx.studio.royalties(take)
        prices = ctx.studio.compensation.take_prices(take)
        data = {
            "take_id": take.id,
            "audio": str(take.audio_path),
            "duration_s": round(take.duration_s, 3),
            "verification_event_id": take.verification_event_id,
            "provenance": take.provenance.to_dict(),
            "royalties": [{"holder": h.name, "id": h.id, "share": s} for h, s in royalties],
            "prices": prices_to_dict(prices),
        }
        songs = ctx.studio.library.songs(take.provenance.song_shares())
        found = {r.song_id for r in take.request.references if not r.picked}
        rate = f"{take.sample_rate / 1000:g} kHz"
        lines = [f"Take {take.id} ({take.duration_s:.1f} s, {rate}): {take.audio_path}", "Shares:"]
        lines += [
            f"  {share:6.1%}  {songs[sid].title} — {songs[sid].artist}"
            + ("  (found in your audio)" if sid in found else "")
            for sid, share in take.provenance.song_shares().items()
        ]
        if take.provenance.user_share > 0:
            lines.append(f"  {take.provenance.user_share:6.1%}  your own audio (no royalties)")
        if take.provenance.notes:
            lines.append("Notes:")
            lines += [f"  - {note}" for note in take.provenance.notes]
        lines.append("Royalties:")
        lines += [f"  {s:6.1%}  {h.name}" for h, s in royalties]
        lines.append(f"  {summary_text(prices)}")
        if source_text(prices):
            lines.append(f"  {source_text(prices)}.")
        lines += _training_lines(take.provenance.training)
        lines += _audit_lines(ctx, take, data)
        lines.append(f"Export it with: musicapp export {take.id} OUT.flac")
        emit(args, data, "\n".join(lines))
    return EXIT_OK


def _training_lines(training: Any) -> list[str]:
    """A trained engine's take: the training pieces it leaned on most, and the pool's policy."""
    if not training:
        return []
    from musicapp.attribution.tda.take import influence_rows, policy_text

    lines = ["Learned from (unlearning, TRAK; estimate share):"]
    for title, kind, unlearning, trak, share in influence_rows(training)[:5]:
        est = "" if share is None else f"; {share:.1%}"
        lines.append(f"  {title[:40]:40} {kind:14} {unlearning:+8.3f} {trak:+8.3f}{est}")
    lines.append(f"  {policy_text(training)}")
    return lines


def _audit_lines(ctx: Any, take: Any, data: dict[str, Any]) -> list[str]:
    """The take's audit in one line (and in ``data``): whether it agrees with the design."""
    if take.audit is None:
        return [f"Audit: {take.audit_note}"] if take.audit_note else []
    comparison = ctx.studio.audit.comparison(take)
    data["audit"] = {"influence": dict(take.audit.influence), "agrees": comparison.agrees}
    if comparison.agrees:
        verdict = "agrees with the attribution by design"
    else:
        verdict = (
            f"differs from the attribution by design (missed {len(comparison.missed)}, "
            f"undeclared {len(comparison.undeclared)}, share L1 {comparison.share_l1:.2f})"
        )
    return [f"Audit: {verdict}; details: musicapp audit {take.id}"]


def _alternatives(v: Any) -> str:
    lines = []
    for d in v.refused:
        if d.alternatives:
            lines.append(f"\n  {d.reference.song_id} may be used at: " + "; ".join(d.alternatives))
    return "".join(lines)


def cmd_verify(args: argparse.Namespace) -> int:
    if (args.ca or args.crl) and not args.offline:
        raise InvalidInput("verify: --ca and --crl go with --offline")
    with open_context(args, build=False) as ctx:
        report = ctx.studio.records.verify_file(
            Path(args.file),
            offline=args.offline,
            ca=Path(args.ca) if args.ca else None,
            crl=Path(args.crl) if args.crl else None,
        )
    lines = [report.summary]
    if report.match is not None:
        lines += [f"  {line}" for line in report.match.describe()]
    lines += [
        f"  [{'skip' if c.skipped else 'ok' if c.ok else 'FAIL'}] {c.name}: {c.detail}"
        for c in report.checks
    ]
    lines += [f"  not established: {what}" for what in report.not_established]
    emit(
        args,
        {
            "path": str(report.path),
            "ok": report.ok,
            "summary": report.summary,
            "checks": [
                {"name": c.name, "ok": c.ok, "detail": c.detail, "skipped": c.skipped}
                for c in report.checks
            ],
            "identified": report.match.to_dict() if report.match is not None else None,
            "not_established": list(report.not_established),
        },
        "\n".join(lines),
    )
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_stems(args: argparse.Namespace) -> int:
    """Separate a file or a catalogue song into stems and copy them to --out."""
    import shutil

    target = Path(args.source)
    with open_context(args, build=not target.is_file()) as ctx:
        job = ctx.studio.stems_job(
            args.source, args.model, segment=args.segment, overlap=args.overlap
        )
        result = run_with_progress("stems", job.run, args.progress)
    stems = dict(result.stems)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, path in result.stems.items():
            stems[name] = out / f"{name}{path.suffix}"
            shutil.copyfile(path, stems[name])
    data = {
        "method": result.method.value,
        "label": result.label,
        "reason": result.reason,
        "model": result.model,
        "cached": result.cached,
        "sample_rate": result.sample_rate,
        "stems": {k: str(v) for k, v in stems.items()},
    }
    text = "\n".join(
        [f"{result.label}{' (cached)' if result.cached else ''}", f"  why: {result.reason}"]
        + [f"  {name:12} {path}" for name, path in stems.items()]
    )
    emit(args, data, text)
    return EXIT_OK


def add_take_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register generate, export, verify and stems on the `musicapp` parser."""
    gen = sub.add_parser("generate", parents=[common], help="generate from references")
    gen.add_argument(
        "refs",
        nargs="+",
        metavar="REF",
        help="SONG_ID[:WEIGHT] or SONG_ID,level=parameter,role=melody,weight=0.7,range=0-10; "
        "to tone-match one part of a song: SONG_ID,level=audio,part=guitar (a stem name or "
        "instrument family) or role=harmony",
    )
    gen.add_argument("--use", choices=[u.value for u in Use], default=Use.PRIVATE.value)
    gen.add_argument("--duration", type=float, default=20.0, help="seconds (default 20)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--engine", default="concat")
    gen.add_argument("--prompt", default="", help="words for engines that take text")
    gen.add_argument(
        "--user-audio", help="your own audio file, for audio- and temporal-level references"
    )
    gen.add_argument("--user-range", help="START-END seconds of your audio to regenerate")
    gen.add_argument(
        "--undeclared",
        choices=UNDECLARED_CHOICES,
        default="refuse",
        help="when the audit finds catalogue recordings in your audio that no reference "
        "declares: refuse the take (default), add each song as a reference (its consent "
        "checked, its holders paid), or override (make it anyway; logged)",
    )
    gen.add_argument(
        "--wet", help="tone match: how much of the processed sound, 0-1 or 0-100%% (default 1)"
    )
    gen.add_argument(
        "--drive",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="tone match: allow saturation (default on)",
    )
    gen.add_argument(
        "--dynamics",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="tone match: allow a compressor (default on)",
    )
    gen.add_argument(
        "--tempo", type=float, help="concat: the take's tempo in BPM (default: from references)"
    )
    gen.set_defaults(func=cmd_generate)

    ver = sub.add_parser(
        "verify",
        parents=[common],
        help="check an exported file's attribution, or find an untagged file by its audio",
    )
    ver.add_argument("file")
    ver.add_argument(
        "--offline",
        action="store_true",
        help="as a third party would: no ledger, only the file and the rights server's CA "
        "certificate; says what it could and could not establish",
    )
    ver.add_argument(
        "--ca",
        help="with --offline: the rights server's CA certificate (PEM); "
        "default the one this device pinned at its last sync",
    )
    ver.add_argument(
        "--crl",
        help="with --offline: the CA's revocation list (PEM); default "
        "the one the last sync fetched",
    )
    ver.set_defaults(func=cmd_verify)

    stems = sub.add_parser(
        "stems",
        parents=[common],
        help="separate a file or a song into stems (Demucs, or a labelled DSP fallback)",
    )
    stems.add_argument("source", help="an audio file or a catalogue song id")
    stems.add_argument("--model", default="htdemucs", help="htdemucs, htdemucs_6s, htdemucs_ft")
    stems.add_argument("--out", help="copy the stems into this folder")
    stems.add_argument("--segment", type=float, help="Demucs segment length in seconds")
    stems.add_argument("--overlap", type=float, default=0.25, help="Demucs segment overlap")
    stems.set_defaults(func=cmd_stems)
