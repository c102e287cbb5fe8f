"""`musicapp takes`: the takes made so far (Take history), newest first; name or delete one."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from musicapp.cli_common import EXIT_OK, emit, open_context


def cmd_takes(args: argparse.Namespace) -> int:
    with open_context(args, build=False) as ctx:
        history = ctx.studio.history
        if args.action == "rename":
            take = ctx.studio.take(args.take_id)
            name = history.rename(take.id, " ".join(args.name))
            emit(
                args,
                {"take_id": take.id, "name": name},
                f"Take {take.id} is now “{name}”" if name else f"Take {take.id}: name removed",
            )
            return EXIT_OK
        if args.action == "delete":
            take = ctx.studio.take(args.take_id)
            event_id = history.delete(take.id)
            emit(
                args,
                {"take_id": take.id, "event_id": event_id},
                f"Deleted take {take.id}'s audio; ledger event {event_id} records it (its "
                "generation event stays)",
            )
            return EXIT_OK
        entries = history.entries(limit=args.limit)
        lines = [
            f"{e.id}  {e.created_at[:16].replace('T', ' ')}  {e.duration_s:5.1f} s  "
            f"{e.engine:<10} {e.label}"
            for e in entries
        ]
        emit(
            args,
            {"takes": [asdict(e) | {"label": e.label} for e in entries]},
            "\n".join(lines) or "No takes yet: make one with `musicapp generate`.",
        )
    return EXIT_OK


def add_takes_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `takes [list|rename ID NAME…|delete ID]` on the `musicapp` parser."""
    takes = sub.add_parser(
        "takes", parents=[common], help="the takes made so far: list, rename, delete"
    )
    takes_sub = takes.add_subparsers(dest="action")
    listing = takes_sub.add_parser("list", parents=[common], help="newest first (the default)")
    listing.add_argument("--limit", type=int, default=50)
    rename = takes_sub.add_parser("rename", parents=[common], help="name a take (kept here only)")
    rename.add_argument("take_id", help="a take id, or 'last'")
    rename.add_argument("name", nargs="*", help="the name (none: remove it)")
    delete = takes_sub.add_parser(
        "delete", parents=[common], help="delete a take's audio (the ledger records it)"
    )
    delete.add_argument("take_id", help="a take id, or 'last'")
    takes.set_defaults(func=cmd_takes, action="list", limit=50)
