"""``musicapp-server claim ...``: the admin's side of rights claims, on the server's database.

    musicapp-server claim list [--status pending|confirmed|rejected]
    musicapp-server claim confirm CLAIM_ID
    musicapp-server claim reject CLAIM_ID --reason TEXT

The same checks and refusals as ``/v1/claims`` (``server/claims.py``); a refusal is one line on
stderr and exit 2, as for every ``musicapp-server`` command.
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import Connection

from musicapp.server import claims
from musicapp.server.auth import Account


def add_parser(sub: Any) -> None:
    """The ``claim`` command and its actions, on ``musicapp-server``'s subparsers."""
    claim = sub.add_parser("claim", help="rights claims devices sent: list, confirm, reject")
    actions = claim.add_subparsers(dest="action", required=True)
    listed = actions.add_parser("list", help="a line per claim, oldest first")
    listed.add_argument("--status", choices=claims.STATUSES, default=None)
    confirm = actions.add_parser(
        "confirm", help="register the claimed song and publish consent version 1 for its holder"
    )
    confirm.add_argument("claim_id")
    reject = actions.add_parser("reject", help="refuse a pending claim, saying why")
    reject.add_argument("claim_id")
    reject.add_argument("--reason", required=True, help=f"1-{claims.MAX_REASON} characters")


def line(claim: dict[str, Any]) -> str:
    """One claim on one line: id, status, song, holder, uses, device, when."""
    title = f' "{claim["title"]}"' if claim["title"] else ""
    out = (
        f"{claim['id']}  {claim['status']:<9}  {claim['song_id']}{title}  "
        f"holder {claim['holder_name']} ({claim['holder_id']})  "
        f"uses {','.join(claim['uses'])}  device {claim['device_id']}  {claim['created_at']}"
    )
    if claim["reason"]:
        out += f"  reason: {claim['reason']}"
    return out


def run(conn: Connection, args: argparse.Namespace, admin: Account) -> None:
    if args.action == "list":
        found = claims.list_claims(conn, admin, args.status, limit=None)
        for claim in found:
            print(line(claim))
        if not found:
            print("no claims" + (f" {args.status}" if args.status else ""))
    elif args.action == "confirm":
        done = claims.confirm(conn, admin, args.claim_id)
        claim, record = done["claim"], done["consent"]
        print(
            f"claim {claim['id']} confirmed: song {claim['song_id']} registered, consent "
            f"version {record['version']} for {claim['holder_id']} "
            f"(uses {','.join(record['uses'])})"
        )
    else:
        claim = claims.reject(conn, admin, args.claim_id, args.reason)["claim"]
        print(f"claim {claim['id']} rejected: {claim['reason']}")
