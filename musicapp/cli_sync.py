"""The `musicapp sync` command: pull consent from the rights server, push the ledger, or --status.

A server named with ``--server`` is saved, so the consent check knows which server the
catalogue's consent came from (freshness is the pinned server's property, not a flag of one
run). Plain HTTP to another computer needs ``--allow-insecure-http`` (saved for that server
only, and shown by ``--status``). ``--consent-ttl`` sets how old a cache commercial use
accepts, up to 24 h.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from musicapp.cli_common import EXIT_FAILED, EXIT_OK, emit, open_context, run_with_progress
from musicapp.config import MAX_CONSENT_TTL_S
from musicapp.core import InvalidInput


def _ttl_hours(text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        hours = float("nan")
    if not 0 < hours <= MAX_CONSENT_TTL_S / 3600:
        raise InvalidInput(
            f"--consent-ttl: {text!r} is not a number of hours in (0, "
            f"{MAX_CONSENT_TTL_S / 3600:g}] (commercial use needs consent synced within 24 h)"
        )
    return hours


def _choose_server(args: argparse.Namespace, room: Any) -> None:
    """Save what the command line chose, checked first (bad input: exit 2)."""
    from musicapp.studio_types import InsecureServer

    ttl = None if args.consent_ttl is None else _ttl_hours(args.consent_ttl) * 3600
    try:
        room.choose(args.server, allow_insecure_http=args.allow_insecure_http, consent_ttl_s=ttl)
    except InsecureServer as exc:
        raise InvalidInput(f"--server: {exc}") from None


def _status(room: Any) -> tuple[dict[str, Any], str]:
    st = room.status()
    fresh = room.consent_cache()
    last = st.last_sync_at.isoformat() if st.last_sync_at else None
    cache = fresh.to_dict()
    data = {
        "server_url": st.server_url,
        "pinned_server": room.pinned_server,
        "insecure_http": st.insecure,
        "last_sync_at": last,
        "pending": st.pending,
        "quarantined": st.quarantined,
        "last_error": st.last_error,
        "consent_cache": cache,
    }
    if fresh.local_only:
        cache_line = "local only (no server: the freshness rule does not apply)"
    elif fresh.cache_age_s is None:
        cache_line = "never synced (commercial use refused)"
    else:
        verdict = "stale: commercial use refused" if fresh.stale else "fresh"
        cache_line = (
            f"{fresh.cache_age_s / 3600:.1f} h old, TTL {fresh.ttl_s / 3600:g} h ({verdict})"
        )
    insecure = "  (plain HTTP to another computer, allowed by you)" if st.insecure else ""
    text = (
        f"Server: {st.server_url or '(none: local only)'}{insecure}\n"
        f"Last sync: {last or 'never'}\nConsent cache: {cache_line}\n"
        f"Pending events: {st.pending}\nQuarantined feed records: {st.quarantined}\n"
        f"Last error: {st.last_error or '-'}"
    )
    return data, text


def cmd_sync(args: argparse.Namespace) -> int:
    """Pull consent from the rights server and push the ledger's pending events (or --status)."""
    from musicapp.studio_types import SyncError

    with open_context(args, build=False) as ctx:
        room = ctx.studio.sync
        if args.start_over:
            archive = room.start_over()
            print(
                f"Started over: the previous sync state is archived in {archive}", file=sys.stderr
            )
        _choose_server(args, room)
        if not args.status:
            if not room.server_url:
                raise InvalidInput(
                    "no rights server set: pass --server URL or set MUSICAPP_SERVER_URL"
                )
            try:
                result = run_with_progress("sync", room.sync_once, args.progress)
            except SyncError as exc:
                print(f"sync failed: {exc}", file=sys.stderr)
                return EXIT_FAILED
            kept = (
                f", {result.quarantined} feed record(s) quarantined" if result.quarantined else ""
            )
            emit(
                args,
                {
                    "pulled": result.pulled,
                    "pushed": result.pushed,
                    "pending": result.pending,
                    "quarantined": result.quarantined,
                    "synced_at": datetime.now(UTC).isoformat(),
                },
                f"Pulled {result.pulled} changes{kept}, pushed {result.pushed} events; "
                f"{result.pending} pending",
            )
            return EXIT_OK
        emit(args, *_status(room))
    return EXIT_OK


def add_sync_command(sub: Any, common: argparse.ArgumentParser) -> None:
    """`musicapp sync` on the main parser's subcommands."""
    sync = sub.add_parser(
        "sync", parents=[common], help="exchange consent and ledger events with the rights server"
    )
    sync.add_argument(
        "--server",
        help="the rights server's URL (default: the one saved, or MUSICAPP_SERVER_URL); saved",
    )
    sync.add_argument("--status", action="store_true", help="only show the sync state")
    sync.add_argument(
        "--start-over",
        action="store_true",
        help="forget the server this data folder synced with (its state is archived), then "
        "register as a new device and send what the server has not logged yet (a new server: "
        "the whole ledger): for a new server, one that no longer knows this device, or a "
        "folder restored from a backup",
    )
    sync.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow plain http:// to this server although it is not on this computer: the "
        "device token and the consent feed cross the network unencrypted (saved for this "
        "server only, shown by --status)",
    )
    sync.add_argument(
        "--consent-ttl",
        metavar="HOURS",
        help="how recently consent must have been synced for commercial use (at most 24, the "
        "default); saved",
    )
    sync.set_defaults(func=cmd_sync)
