"""The `musicapp` commands that write takes out: export (as made or mastered) and reexport."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from musicapp.cli_common import EXIT_OK, emit, open_context
from musicapp.core import InvalidInput
from musicapp.rooms.exports import DEFAULT_CEILING_DBTP, Mastering


def _mastering(args: argparse.Namespace) -> Mastering | None:
    """The export's mastering from --rate/--channels/--loudness/--true-peak/--no-dither; None
    when none of them is given (the take as made)."""
    chosen = (args.rate, args.channels, args.loudness)
    if all(v is None for v in chosen) and args.true_peak is None and not args.no_dither:
        return None
    if args.true_peak is not None and args.loudness is None:
        raise InvalidInput(
            "export --true-peak: applies with --loudness (the normalisation's ceiling)"
        )
    mastering = Mastering(
        sample_rate=args.rate,
        channels=args.channels,
        target_lufs=args.loudness,
        ceiling_dbtp=DEFAULT_CEILING_DBTP if args.true_peak is None else args.true_peak,
        dither=not args.no_dither,
    )
    mastering.check()
    return mastering


def cmd_export(args: argparse.Namespace) -> int:
    out = Path(args.out)
    mp3 = out.suffix.lower() == ".mp3"
    if mp3 and args.bits is not None:
        raise InvalidInput(
            f"export {out}: --bits applies to WAV and FLAC; an MP3 has no bit depth "
            "(choose its quality with --bitrate)"
        )
    with open_context(args, build=False) as ctx:
        take = ctx.studio.take(args.take_id)
        result = ctx.studio.export(
            take, out, bits=args.bits or 24, bitrate=args.bitrate, mastering=_mastering(args)
        )
        data: dict[str, Any] = {
            "path": str(result.path),
            "sidecar": str(result.sidecar_path),
            "event_id": result.event_id,
            "bits": result.bits or None,
            "sample_rate": result.sample_rate,
            "audio_sha256": result.audio_sha256 or None,
            "pcm_sha256": result.pcm_sha256 or None,
            "c2pa": result.c2pa or None,
            "receipts": result.receipts,
            "mastering": result.mastering,
        }
        if mp3:
            data |= {
                "bitrate_kbps": result.bitrate_kbps,
                "mp3_frames_sha256": result.mp3_frames_sha256,
            }
        how = f"{result.bitrate_kbps} kbit/s MP3" if mp3 else f"{result.bits}-bit"
        emit(
            args,
            data,
            f"Exported {result.path} ({how}, {result.sample_rate} Hz; {result.mastering})\n"
            f"  sidecar {result.sidecar_path}\n  ledger event {result.event_id}",
        )
    return EXIT_OK


def cmd_reexport(args: argparse.Namespace) -> int:
    with open_context(args, build=False) as ctx:
        result = ctx.studio.exports.reexport(Path(args.file), Path(args.out) if args.out else None)
    emit(
        args,
        {"path": str(result.path), "event_id": result.event_id, "receipts": result.receipts},
        f"Exported {result.path} with the server's receipts for {result.receipts} event(s)\n"
        f"  ledger event {result.event_id}; {args.file} is unchanged",
    )
    return EXIT_OK


def add_export_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register export and reexport on the `musicapp` parser."""
    exp = sub.add_parser("export", parents=[common], help="export a take with its attribution")
    exp.add_argument("take_id", help="a take id from `generate`, or 'last'")
    exp.add_argument("out", help="output file, .wav, .flac or .mp3")
    exp.add_argument(
        "--bits",
        type=int,
        choices=[16, 24],
        default=None,
        help="WAV/FLAC: bits per sample (default 24); the take's own sample rate is kept",
    )
    # No `choices`: the export refuses a bitrate it cannot write, naming the ones it can.
    exp.add_argument(
        "--bitrate",
        type=int,
        default=None,
        help="MP3: constant bitrate in kbit/s, 128 to 320 (default 320); an MP3 is written "
        "at the take's own rate, which must be 32, 44.1 or 48 kHz",
    )
    exp.add_argument(
        "--rate", type=int, default=None, help="sample rate in Hz (default: the take's own)"
    )
    exp.add_argument(
        "--channels",
        type=int,
        choices=[1, 2],
        default=None,
        help="1 mono, 2 stereo (default: as made)",
    )
    exp.add_argument(
        "--loudness",
        type=float,
        default=None,
        metavar="LUFS",
        help="normalise to this integrated loudness (BS.1770), e.g. -14; gain only",
    )
    exp.add_argument(
        "--true-peak",
        type=float,
        default=None,
        metavar="DBTP",
        help=f"with --loudness: the true-peak ceiling (default {DEFAULT_CEILING_DBTP:g} dBTP)",
    )
    exp.add_argument(
        "--no-dither", action="store_true", help="round to 16/24 bits without TPDF dither"
    )
    exp.set_defaults(func=cmd_export)

    rex = sub.add_parser(
        "reexport",
        parents=[common],
        help="export an earlier export's take again, now with the server's receipts inside",
    )
    rex.add_argument("file", help="an earlier export (.wav, .flac or .mp3)")
    rex.add_argument("--out", help="where to write it (default: <name>-receipts<suffix> beside it)")
    rex.set_defaults(func=cmd_reexport)
