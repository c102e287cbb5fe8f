"""``musicapp-server``: run the server, and a small admin CLI working directly on its database.

    musicapp-server serve [--host 127.0.0.1] [--port 8765] [--workers N] [--data-dir D] [--database-url URL]
    musicapp-server account create --role admin|holder [--holder-id H] --name N
    musicapp-server song add FILE.json
    musicapp-server consent set SONG HOLDER --permissions P [P ...] --uses U [U ...] [--prices JSON]
    musicapp-server consent revoke SONG HOLDER
    musicapp-server statement HOLDER --from ISO --to ISO [--format json|csv] [--recompute]

Refusals print one line on stderr and exit 2, like ``musicapp``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from musicapp.server.auth import Account
from musicapp.server.errors import ApiError
from musicapp.server.settings import ServerSettings

DATA_ENV = "MUSICAPP_SERVER_DATA"
CLI_ADMIN = Account("cli", "admin", None, "admin CLI", None)


def _default_data_dir() -> Path:
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else Path.home() / ".local" / "share" / "musicapp-server"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="musicapp-server", description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, default=None, help=f"data folder (env {DATA_ENV})")
    p.add_argument("--database-url", default=None, help="SQLAlchemy URL (env MUSICAPP_SERVER_DB)")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP server (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--write-rate", type=float, default=None, help="write requests/s per caller")
    serve.add_argument("--write-burst", type=int, default=None)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (more than 1 needs PostgreSQL)",
    )

    account = sub.add_parser("account").add_subparsers(dest="action", required=True)
    create = account.add_parser("create", help="create an account and print its token once")
    create.add_argument("--role", choices=("admin", "holder"), required=True)
    create.add_argument("--holder-id", default=None)
    create.add_argument("--name", required=True)

    song = sub.add_parser("song").add_subparsers(dest="action", required=True)
    add = song.add_parser("add", help="register a song from a JSON file (song_to_dict form)")
    add.add_argument("file", type=Path)

    consent = sub.add_parser("consent").add_subparsers(dest="action", required=True)
    cset = consent.add_parser("set", help="record a new consent version")
    cset.add_argument("song")
    cset.add_argument("holder")
    cset.add_argument("--permissions", nargs="*", default=[])
    cset.add_argument("--uses", nargs="*", default=[])
    cset.add_argument("--effective-from", default=None)
    cset.add_argument("--prices", default=None, help='JSON, e.g. {"commercial": 0.1}')
    revoke = consent.add_parser("revoke", help="record a revocation as a new version")
    revoke.add_argument("song")
    revoke.add_argument("holder")
    revoke.add_argument("--at", default=None)

    statement = sub.add_parser(
        "statement", help="a rights holder's royalty statement for a period (JSON or CSV)"
    )
    statement.add_argument("holder", help="the rights holder's id")
    statement.add_argument("--from", dest="start", required=True, help="ISO time, inclusive")
    statement.add_argument("--to", dest="end", required=True, help="ISO time, exclusive")
    statement.add_argument("--format", choices=("json", "csv"), default="json")
    statement.add_argument(
        "--recompute",
        action="store_true",
        help="build it from the stored events alone, not the lines kept at intake (an audit)",
    )
    return p


def _settings(args: argparse.Namespace) -> ServerSettings:
    data_dir = args.data_dir or _default_data_dir()
    kwargs = {}
    if getattr(args, "write_rate", None) is not None:
        kwargs["write_rate_per_s"] = args.write_rate
    if getattr(args, "write_burst", None) is not None:
        kwargs["write_burst"] = args.write_burst
    return ServerSettings(data_dir=data_dir, database_url=args.database_url, **kwargs)


def _admin(args: argparse.Namespace) -> int:
    from musicapp.server import registry
    from musicapp.server.app import open_server
    from musicapp.server.auth import create_account

    server = open_server(_settings(args))
    try:
        with server.engine.begin() as conn:
            if args.command == "account":
                account, token = create_account(
                    conn, args.role, args.name, holder_id=args.holder_id
                )
                print(json.dumps({"account_id": account.id, "token": token}))
            elif args.command == "song":
                try:
                    song = json.loads(args.file.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise ApiError(2, f"{args.file}: cannot read a JSON song ({exc})") from None
                if not isinstance(song, dict):
                    raise ApiError(2, f"{args.file}: the JSON must be one song object")
                _song, created = registry.add_song(conn, song)
                print(f"song {song['id']}: {'added' if created else 'already registered'}")
            elif args.command == "statement":
                from musicapp.server import statements

                start = registry.parse_time(args.start, "--from")
                end = registry.parse_time(args.end, "--to")
                statements.utc_bound(start, "--from")
                statements.utc_bound(end, "--to")
                if end <= start:
                    raise ApiError(2, f"--to: {args.end} is not after --from ({args.start})")
                if args.recompute:
                    report = statements.from_log(conn, args.holder, start, end)
                else:
                    report = statements.statement(conn, args.holder, start, end, limit=None)
                if args.format == "csv":
                    sys.stdout.write(statements.to_csv(report))
                else:
                    print(json.dumps(report, indent=2))
            elif args.action == "set":
                prices = json.loads(args.prices) if args.prices else None
                record = registry.set_consent(
                    conn,
                    CLI_ADMIN,
                    args.song,
                    args.holder,
                    args.permissions,
                    args.uses,
                    args.effective_from,
                    prices,
                )
                print(json.dumps(record))
            else:
                print(
                    json.dumps(
                        registry.revoke_consent(conn, CLI_ADMIN, args.song, args.holder, args.at)
                    )
                )
    finally:
        server.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            from musicapp.server.workers import serve

            serve(_settings(args), args.host, args.port, args.workers)
            return 0
        return _admin(args)
    except ApiError as exc:
        print(f"musicapp-server: {exc.detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
