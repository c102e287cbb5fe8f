"""`musicapp rights`: your own music's rights, as the rights wizard declares them: the songs
nobody holds (`rights unclaimed`), declaring yourself their holder (`rights claim`), and how
those claims stand on the rights server, when one is set (`rights claims`)."""

from __future__ import annotations

import argparse
from typing import Any

from musicapp.cli_common import EXIT_OK, emit, open_context
from musicapp.core import InvalidInput, Use


def _uses(text: str) -> list[Use]:
    out = []
    for word in filter(None, (w.strip() for w in text.split(","))):
        try:
            out.append(Use(word))
        except ValueError:
            known = ", ".join(u.value for u in Use)
            raise InvalidInput(f"rights claim --allow: {word!r} is not a use ({known})") from None
    return out


def cmd_rights(args: argparse.Namespace) -> int:
    with open_context(args, build=False) as ctx:
        library = ctx.studio.library
        if args.action == "claim":
            ids = [s.id for s in library.unclaimed()] if args.all else list(args.song_ids)
            if not ids:
                raise InvalidInput(
                    "rights claim: name the songs (or --all for every unclaimed one)"
                )
            events = library.declare_own_rights(ids, args.name, args.role, _uses(args.allow))
            server = library.claims_server()
            sent = (
                f"\nClaimed on the rights server {server} at the next sync (`musicapp sync`), "
                "for its administrator to confirm; `musicapp rights claims` says how they stand"
                if server
                else ""
            )
            emit(
                args,
                {"songs": ids, "events": events, "claimed_on": server or None},
                f"{len(ids)} song(s) are now yours ({args.name}); ledger events "
                + ", ".join(events)
                + sent,
            )
            return EXIT_OK
        if args.action == "claims":
            claims = library.claims()
            emit(
                args,
                {"server": library.claims_server() or None, "claims": [vars(c) for c in claims]},
                "\n".join(f"{c.song_id}  {c.title}: {c.words()}" for c in claims)
                or "No song of yours has been claimed on a rights server.",
            )
            return EXIT_OK
        songs = library.unclaimed()
        emit(
            args,
            {"unclaimed": [{"id": s.id, "title": s.title, "artist": s.artist} for s in songs]},
            "\n".join(f"{s.id}  {s.title} — {s.artist}" for s in songs)
            or "Every song in the catalogue has a rights holder.",
        )
    return EXIT_OK


def add_rights_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `rights [unclaimed|claim …]` on the `musicapp` parser."""
    rights = sub.add_parser(
        "rights", parents=[common], help="your own songs' rights: list unclaimed, claim them"
    )
    rights_sub = rights.add_subparsers(dest="action")
    rights_sub.add_parser("unclaimed", parents=[common], help="songs nobody holds (the default)")
    claim = rights_sub.add_parser(
        "claim", parents=[common], help="declare yourself the holder of songs nobody holds"
    )
    rights_sub.add_parser(
        "claims", parents=[common], help="how your songs' claims stand on the rights server"
    )
    claim.add_argument("song_ids", nargs="*", help="song ids (see `rights unclaimed`)")
    claim.add_argument("--all", action="store_true", help="every song nobody holds")
    claim.add_argument("--name", required=True, help="your name as it should be credited")
    claim.add_argument("--role", default="composer", help="composer, performer, publisher or label")
    claim.add_argument(
        "--allow",
        default="",
        help="uses besides private you allow, comma-separated: non_commercial,commercial",
    )
    rights.set_defaults(func=cmd_rights, action="unclaimed")
