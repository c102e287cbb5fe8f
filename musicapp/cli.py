"""The `musicapp` command: a thin front end over the studio. No subcommand starts the GUI."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from musicapp.cli_common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    emit,
    open_context,
    run_with_progress,
)
from musicapp.config import Settings
from musicapp.core import (
    GenerationRequest,
    InvalidInput,
    Reference,
    Use,
)
from musicapp.core.codec import song_to_dict
from musicapp.jobs import Cancelled

# -- commands -----------------------------------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        songs = ctx.studio.search(" ".join(args.text), args.limit)
        emit(
            args,
            [song_to_dict(s) for s in songs],
            "\n".join(f"{s.id:28} {s.title} — {s.artist} [{s.genre}]" for s in songs)
            or "No songs match.",
        )
    return EXIT_OK


def cmd_browse(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        nodes = ctx.studio.catalogue_children(tuple(args.path))
        if not nodes and args.path:
            raise InvalidInput(f"nothing under {' / '.join(args.path)!r} in the catalogue")
        emit(
            args,
            [{"label": n.label, "count": n.count, "song_id": n.song_id} for n in nodes],
            "\n".join(
                f"{n.song_id:28} {n.label}" if n.song_id else f"{n.label} ({n.count})"
                for n in nodes
            ),
        )
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        song = ctx.studio.song(args.song_id)
        if song is None:
            raise InvalidInput(f"unknown song id {args.song_id!r}")
        checks = {}
        for use in Use:
            v = ctx.studio.check(GenerationRequest((Reference(song.id),), use=use))
            checks[use.value] = v.decisions[0].reasons[0]
        data = {**song_to_dict(song), "song_level_consent": checks}
        lines = [song.describe(), f"  genre: {song.genre} / {song.subgenre}"]
        lines += [f"  {s.holder.name}: {s.share:.0%}" for s in song.splits]
        lines += [f"  {use}: {reason}" for use, reason in checks.items()]
        emit(args, data, "\n".join(lines))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    if not args.headless:
        # `musicapp demo` is the answer to the first-run question (ui/first_run.py).
        os.environ.setdefault("MUSICAPP_FIRST_RUN", "demo")
        return cmd_gui(args)
    with open_context(args) as ctx:
        permitted = ctx.studio.library.demo_song_ids()
        refs = (Reference(permitted[0], weight=0.7), Reference(permitted[1], weight=0.3))
        request = GenerationRequest(
            refs, use=Use(args.use), duration_s=args.duration, seed=args.seed
        )
        take = run_with_progress(
            "generate", lambda p, c: ctx.studio.generate(request, p, c), args.progress
        )
        out = Path(args.out) if args.out else ctx.settings.exports_dir / f"demo-{take.id[:8]}.flac"
        result = ctx.studio.export(take, out)
        report = ctx.studio.records.verify_file(result.path)
        chain = ctx.studio.records.verify()
        songs = ctx.studio.library.songs(take.provenance.song_shares())
        count = ctx.studio.library.count()
        data = {
            "catalogue_songs": count,
            "take_id": take.id,
            "export": str(result.path),
            "shares": take.provenance.song_shares(),
            "verified": report.ok,
            "ledger_ok": chain.ok,
        }
        text = "\n".join(
            [f"Catalogue: {count} songs", f"Generated take {take.id}"]
            + [
                f"  {s:6.1%}  {songs[sid].title} — {songs[sid].artist}"
                for sid, s in take.provenance.song_shares().items()
            ]
            + [
                f"Exported {result.path}",
                f"Verify: {'OK' if report.ok else 'FAILED'}",
                f"Ledger: {'OK' if chain.ok else 'FAILED'} ({chain.checked} events)",
            ]
        )
        emit(args, data, text)
        return EXIT_OK if report.ok and chain.ok else EXIT_FAILED


def cmd_import(args: argparse.Namespace) -> int:
    """Import audio files and/or a manifest; exit 1 when any file could not be imported."""
    with open_context(args, build=False) as ctx:
        manifest = Path(args.manifest) if args.manifest else None
        job = ctx.studio.library.import_job(Path(args.path), manifest)
        report = run_with_progress("import", job.run, args.progress)
        if args.index:
            # The new songs' descriptors and embeddings for prompts and "more like this"
            # (resumable: an interrupted run is finished by the next prompt or import).
            embed = ctx.studio.selection.index_job()
            if embed is not None:
                run_with_progress("index", embed.run, args.progress)
            # And their fingerprints and segment embeddings, so the next take's audit (and the
            # check of the user's audio) does not index them first.
            run_with_progress("audit index", ctx.studio.audit.index_job().run, args.progress)
        emit(args, report.to_dict(), report.summary())
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_gui(args: argparse.Namespace) -> int:
    from musicapp.context import AppContext

    try:
        from musicapp.ui.app import run_gui
    except ImportError as exc:
        raise InvalidInput(
            f"the GUI needs PySide6 and pyqtgraph ({exc}); install with: pip install 'musicapp[gui]'"
        ) from None
    settings = Settings()
    if getattr(args, "data_dir", None):
        settings.data_dir = Path(args.data_dir)
    with AppContext.open(settings) as ctx:
        return run_gui(ctx, sys.argv[:1])


# -- parser -------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON for scripting")
    # SUPPRESS: a subcommand without --data-dir keeps the one given before it
    # ("musicapp --data-dir D generate ..."); argparse would reset it to None otherwise.
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        help="use this data folder (default: platform data dir)",
    )
    common.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=sys.stderr.isatty(),
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
    p = argparse.ArgumentParser(
        prog="musicapp",
        description="Attribution-by-design music generation. Without a command, opens the window.",
    )
    p.add_argument("--data-dir", help="use this data folder (default: platform data dir)")
    sub = p.add_subparsers(dest="command")

    demo = sub.add_parser(
        "demo", parents=[common], help="build the demo catalogue and open the app"
    )
    demo.add_argument(
        "--headless",
        action="store_true",
        help="no window: generate one track from permitted references, export, verify",
    )
    demo.add_argument("--out", help="where --headless writes the export (.wav or .flac)")
    demo.add_argument("--duration", type=float, default=20.0)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--use", choices=[u.value for u in Use], default=Use.PRIVATE.value)
    demo.set_defaults(func=cmd_demo)

    search = sub.add_parser("search", parents=[common], help="search the catalogue")
    search.add_argument("text", nargs="+")
    search.add_argument("--limit", type=int, default=20)
    search.set_defaults(func=cmd_search)

    browse = sub.add_parser("browse", parents=[common], help="genre → artist → album → song")
    browse.add_argument("path", nargs="*", help="e.g. Baroque 'J. S. Bach'")
    browse.set_defaults(func=cmd_browse)

    show = sub.add_parser("show", parents=[common], help="a song's details and consent")
    show.add_argument("song_id")
    show.set_defaults(func=cmd_show)

    imp = sub.add_parser(
        "import",
        parents=[common],
        help="import a folder of WAV/FLAC/OGG/MP3 files and/or a CSV or JSON manifest",
        description="Import audio files (tags read with mutagen) and/or a manifest with rights "
        "holders, splits, consent and stems. Songs keep their own sample rate and stereo image; "
        "stems a manifest names are attached to their song. Unchanged files are skipped, but "
        "changed rights in their manifest rows are applied as new versions, logged in the "
        "ledger first. Files without a manifest row get no consent (default deny). Exit status "
        "1 when any file or row failed.",
    )
    imp.add_argument("path", help="a folder (searched recursively), an audio file or a manifest")
    imp.add_argument("--manifest", help="a .csv or .json manifest describing the files")
    imp.add_argument(
        "--index",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="embed the new songs for prompts and index them for the audit right away (default; "
        "--no-index leaves it to the next prompt or take)",
    )
    imp.set_defaults(func=cmd_import)

    from musicapp.cli_audit import add_audit_command
    from musicapp.cli_export import add_export_commands
    from musicapp.cli_history import add_takes_command
    from musicapp.cli_ledger import add_ledger_commands  # they share cli_common's helpers
    from musicapp.cli_models import add_models_commands
    from musicapp.cli_rights import add_rights_command
    from musicapp.cli_royalties import add_royalties_commands
    from musicapp.cli_select import add_select_commands
    from musicapp.cli_sync import add_sync_command
    from musicapp.cli_takes import add_take_commands
    from musicapp.cli_train import add_train_commands

    add_models_commands(sub, common)
    add_sync_command(sub, common)
    add_take_commands(sub, common)
    add_export_commands(sub, common)
    add_takes_command(sub, common)
    add_rights_command(sub, common)
    add_ledger_commands(sub, common)
    add_select_commands(sub, common)
    add_audit_command(sub, common)
    add_royalties_commands(sub, common)
    add_train_commands(sub, common)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.func = cmd_gui
    try:
        return int(args.func(args))
    except InvalidInput as exc:
        print(f"musicapp: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Cancelled:
        print("musicapp: cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing left to say to it.
        sys.stderr.close()
        return EXIT_OK
    except OSError as exc:
        print(f"musicapp: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
