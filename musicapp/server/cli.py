"""``musicapp-server``: run the server, and a small admin CLI working directly on its database.

    musicapp-server serve [--host 127.0.0.1] [--port 8765] [--workers N] [--data-dir D]
                          [--database-url URL] [--forwarded-allow-ips IPS]
                          [--ssl-certfile C --ssl-keyfile K]
    musicapp-server account create --role admin|holder [--holder-id H] --name N
    musicapp-server account list | show ACCOUNT_ID
    musicapp-server account rotate ACCOUNT_ID     (prints the new token once)
    musicapp-server account revoke ACCOUNT_ID     (a device's certificates are revoked too)
    musicapp-server certificate list [--device ID]
    musicapp-server certificate revoke SERIAL [--reason R]
    musicapp-server song add FILE.json
    musicapp-server consent set SONG HOLDER --permissions P [P ...] --uses U [U ...] [--prices JSON]
    musicapp-server consent revoke SONG HOLDER
    musicapp-server statement HOLDER --from ISO --to ISO [--format json|csv] [--recompute]
    musicapp-server statement --holder H --from ISO --to ISO [--mechanism M] [--k K]
                              [--pricing tier|flat] [--pool-cents N] [--training-fraction F]
                              [--training flat|estimate] [--minimum-cents N] [--verify FILE]
    musicapp-server basis --from ISO --to ISO [--out FILE]
    musicapp-server claim list [--status pending|confirmed|rejected]
    musicapp-server claim confirm CLAIM_ID | reject CLAIM_ID --reason TEXT

``statement HOLDER`` is the per-event statement (``GET /v1/statements``); ``statement --holder``
the period's statement under a mechanism (``GET /v1/royalties/statement``), and with
``--verify FILE`` it recomputes that statement from the log and compares: exit 0 when FILE
holds the same statement, 1 listing what differs.

Refusals print one line on stderr and exit 2, like ``musicapp``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from musicapp.server.auth import Account
from musicapp.server.errors import ApiError
from musicapp.server.fields import parse_time
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
        "--forwarded-allow-ips",
        default=None,
        help="addresses of the reverse proxies whose X-Forwarded-For is trusted "
        "(uvicorn's option; default 127.0.0.1): rate limits key callers by that address",
    )
    serve.add_argument("--ssl-certfile", default=None, help="serve HTTPS with this certificate")
    serve.add_argument("--ssl-keyfile", default=None, help="the certificate's private key")
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
    account.add_parser("list", help="every account (no tokens), and whether it is revoked")
    show = account.add_parser("show", help="one account and its token's history")
    show.add_argument("account_id")
    rotate = account.add_parser("rotate", help="a new token for an account (printed once)")
    rotate.add_argument("account_id")
    revoke_token = account.add_parser("revoke", help="revoke an account's token at once")
    revoke_token.add_argument("account_id")

    cert = sub.add_parser("certificate").add_subparsers(dest="action", required=True)
    clist = cert.add_parser("list", help="the device certificates the server's CA issued")
    clist.add_argument("--device", default=None, help="one device's only")
    crevoke = cert.add_parser("revoke", help="revoke a certificate: it goes on the CRL")
    crevoke.add_argument("serial", help="the serial in decimal (as `certificate list` shows)")
    crevoke.add_argument("--reason", default="revoked by the server's administrator")

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
    statement.add_argument(
        "holder", nargs="?", default=None, help="the rights holder's id (per-event statement)"
    )
    statement.add_argument(
        "--holder",
        dest="royalty_holder",
        metavar="H",
        default=None,
        help="the rights holder's id: the period's statement under a mechanism",
    )
    statement.add_argument("--from", dest="start", required=True, help="ISO time, inclusive")
    statement.add_argument("--to", dest="end", required=True, help="ISO time, exclusive")
    statement.add_argument("--format", choices=("json", "csv"), default="json")
    statement.add_argument(
        "--recompute",
        action="store_true",
        help="build it from the stored events alone, not the lines kept at intake (an audit)",
    )
    _royalty_options(statement)
    basis = sub.add_parser("basis", help="a period's royalty inputs as JSON (events and rights)")
    basis.add_argument("--from", dest="start", required=True, help="ISO time, inclusive")
    basis.add_argument("--to", dest="end", required=True, help="ISO time, exclusive")
    basis.add_argument("--out", type=Path, default=None, help="write it here, not to stdout")
    from musicapp.server import cli_claims

    cli_claims.add_parser(sub)
    return p


def _royalty_options(statement: argparse.ArgumentParser) -> None:
    """The options of ``statement --holder`` (defaults None: given only with ``--holder``)."""
    from musicapp.royalties.engine import MECHANISMS

    statement.add_argument("--mechanism", choices=MECHANISMS, default=None)
    statement.add_argument("--k", type=int, default=None, help="songs kept per use (Top-K)")
    statement.add_argument("--pricing", choices=("tier", "flat"), default=None)
    statement.add_argument("--pool-cents", type=int, default=None, help="default: priced revenue")
    statement.add_argument("--training-fraction", type=float, default=None)
    statement.add_argument("--training", choices=("flat", "estimate"), default=None)
    statement.add_argument("--minimum-cents", type=int, default=None)
    statement.add_argument(
        "--verify",
        type=Path,
        metavar="FILE",
        default=None,
        help="a statement JSON file: recompute it from the log and compare (exit 1 if it differs)",
    )


_ROYALTY_OPTIONS = (
    "mechanism",
    "k",
    "pricing",
    "pool_cents",
    "training_fraction",
    "training",
    "minimum_cents",
    "verify",
)


def _settings(args: argparse.Namespace) -> ServerSettings:
    data_dir = args.data_dir or _default_data_dir()
    kwargs = {}
    if getattr(args, "write_rate", None) is not None:
        kwargs["write_rate_per_s"] = args.write_rate
    if getattr(args, "write_burst", None) is not None:
        kwargs["write_burst"] = args.write_burst
    return ServerSettings(data_dir=data_dir, database_url=args.database_url, **kwargs)


def _utc(text: str | None, option: str) -> str | None:
    """The time normalised to UTC and bounded, as the API takes it (None stays None)."""
    return None if text is None else parse_time(text, option).isoformat()


def _checked_song(song: object, file: Path) -> dict[str, Any]:
    """The song as ``POST /v1/songs`` would take it; ApiError naming the file and field."""
    from pydantic import TypeAdapter, ValidationError

    from musicapp.server.app import validation_body
    from musicapp.server.fastjson import body_problem
    from musicapp.server.fields import SongFacts

    if not isinstance(song, dict):
        raise ApiError(2, f"{file}: the JSON must be one song object")
    problem = body_problem(song)
    if problem is not None:
        raise ApiError(2, f"{file}: {problem}")
    try:
        return dict(TypeAdapter(SongFacts).validate_python(song))
    except ValidationError as exc:
        detail = validation_body(list(exc.errors()))["detail"]
        raise ApiError(2, f"{file}: {detail}") from None


def _prices(text: str | None) -> dict[str, float] | None:
    if text is None:
        return None
    try:
        prices = json.loads(text)
    except ValueError:
        prices = None
    if not isinstance(prices, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in prices.values()
    ):
        raise ApiError(2, '--prices: a JSON object of numbers is needed, e.g. {"commercial": 0.1}')
    return prices


def _account(conn: Connection, args: argparse.Namespace) -> None:
    from musicapp.server import auth

    if args.action == "create":
        account, token = auth.create_account(
            conn, args.role, args.name, holder_id=args.holder_id, by=CLI_ADMIN.id
        )
        print(json.dumps({"account_id": account.id, "token": token}))
    elif args.action == "list":
        print(json.dumps(auth.list_accounts(conn), indent=2))
    elif args.action == "show":
        print(json.dumps(auth.account_history(conn, args.account_id), indent=2))
    elif args.action == "rotate":
        token = auth.rotate_token(conn, args.account_id, CLI_ADMIN.id)
        print(json.dumps({"account_id": args.account_id, "token": token}))
    else:
        at = auth.revoke_token(conn, args.account_id, CLI_ADMIN.id)
        print(json.dumps({"account_id": args.account_id, "revoked_at": at}))


def _certificate(conn: Connection, args: argparse.Namespace) -> None:
    from musicapp.server import ca

    if args.action == "list":
        print(json.dumps(ca.listed(conn, args.device), indent=2))
    else:
        print(json.dumps(ca.revoke(conn, args.serial, args.reason)))


def _admin(args: argparse.Namespace) -> int:
    from musicapp.server import registry
    from musicapp.server.app import open_server

    server = open_server(_settings(args))
    try:
        with server.engine.begin() as conn:
            if args.command == "account":
                _account(conn, args)
            elif args.command == "certificate":
                _certificate(conn, args)
            elif args.command == "claim":
                from musicapp.server import cli_claims

                cli_claims.run(conn, args, CLI_ADMIN)
            elif args.command == "song":
                try:
                    song = json.loads(args.file.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise ApiError(2, f"{args.file}: cannot read a JSON song ({exc})") from None
                song = _checked_song(song, args.file)
                _song, created = registry.add_song(conn, song)
                print(f"song {song['id']}: {'added' if created else 'already registered'}")
            elif args.command == "statement" and args.holder is None:
                return _royalty_statement(conn, args)
            elif args.command == "basis":
                _basis(conn, args)
            elif args.command == "statement":
                from musicapp.server import statements

                if args.royalty_holder is not None:
                    raise ApiError(2, "--holder: give the holder once (HOLDER or --holder H)")
                given = [o for o in _ROYALTY_OPTIONS if getattr(args, o) is not None]
                if given:
                    option = "--" + given[0].replace("_", "-")
                    raise ApiError(2, f"{option}: goes with --holder H, not the per-event HOLDER")

                start = parse_time(args.start, "--from")
                end = parse_time(args.end, "--to")
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
                prices = _prices(args.prices)
                record = registry.set_consent(
                    conn,
                    CLI_ADMIN,
                    args.song,
                    args.holder,
                    args.permissions,
                    args.uses,
                    _utc(args.effective_from, "--effective-from"),
                    prices,
                )
                print(json.dumps(record))
            else:
                print(
                    json.dumps(
                        registry.revoke_consent(
                            conn, CLI_ADMIN, args.song, args.holder, _utc(args.at, "--at")
                        )
                    )
                )
    finally:
        server.close()
    return 0


def _period(args: argparse.Namespace) -> tuple[Any, Any]:
    start, end = parse_time(args.start, "--from"), parse_time(args.end, "--to")
    if end <= start:
        raise ApiError(2, f"--to: {args.end} is not after --from ({args.start})")
    return start, end


def _royalty_statement(conn: Connection, args: argparse.Namespace) -> int:
    """``statement --holder``: print the statement, or with ``--verify`` compare it (exit 1
    and the differences when they disagree)."""
    from musicapp.royalties import statement
    from musicapp.royalties.period import Policy
    from musicapp.server import royalty_period

    if args.royalty_holder is None:
        raise ApiError(2, "holder: give the holder's id (HOLDER, or --holder H)")
    if args.recompute or args.format != "json":
        option = "--recompute" if args.recompute else "--format"
        raise ApiError(2, f"{option}: goes with the per-event HOLDER, not --holder H (JSON only)")
    start, end = _period(args)
    given = {o: getattr(args, o) for o in _ROYALTY_OPTIONS[:-1] if getattr(args, o) is not None}
    for option in ("pool_cents", "minimum_cents"):
        if given.get(option, 0) > royalty_period.MAX_CENTS:
            raise ApiError(2, f"--{option.replace('_', '-')}: more than {royalty_period.MAX_CENTS}")
    try:
        policy = Policy(**given)
    except ValueError as exc:  # "k: 0 must be at least 1": name the option
        field, _, why = str(exc).partition(": ")
        raise ApiError(2, f"--{field.replace('_', '-')}: {why}") from None
    stated = royalty_period.holder_statement(conn, args.royalty_holder, start, end, policy)
    if args.verify is None:
        print(statement.to_json(stated))
        return 0
    try:
        held = json.loads(args.verify.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ApiError(2, f"{args.verify}: cannot read a JSON statement ({exc})") from None
    if not isinstance(held, dict):
        raise ApiError(2, f"{args.verify}: the JSON must be one statement object")
    found = statement.differences(held, stated)
    if not found:
        print("statement verified")
        return 0
    print(f"{args.verify}: the statement differs from the one recomputed from the log:")
    for line in found:
        print(f"  {line}")
    return 1


def _basis(conn: Connection, args: argparse.Namespace) -> None:
    from musicapp.royalties import statement
    from musicapp.server import royalty_period

    text = statement.to_json(royalty_period.basis_dict(conn, *_period(args)))
    if args.out is None:
        print(text)
        return
    try:
        args.out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise ApiError(2, f"{args.out}: cannot write the basis ({exc})") from None
    print(f"basis written to {args.out}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            from musicapp.server.workers import serve

            if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
                raise ApiError(2, "--ssl-certfile and --ssl-keyfile go together")
            extra = {
                name: getattr(args, name)
                for name in ("forwarded_allow_ips", "ssl_certfile", "ssl_keyfile")
                if getattr(args, name) is not None
            }
            serve(_settings(args), args.host, args.port, args.workers, **extra)
            return 0
        return _admin(args)
    except ApiError as exc:
        print(f"musicapp-server: {exc.detail}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
