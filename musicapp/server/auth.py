"""Bearer tokens: random, shown once, stored as sha256 hex; roles admin, holder and device.

``current_account`` is the FastAPI dependency every authenticated route uses; the role checks
(``require_role``) and per-object checks (a holder's songs, a device's own stream) live beside
the routes that need them. Missing, unknown or revoked credentials are 401; a known account
acting outside its rights is 403.

An account has one token at a time. Rotating it stores a new hash in its place (the old token
stops working at once); revoking stores a marker no token hashes to, so the account can do
nothing until an admin rotates it again. Each issue, rotation and revocation is appended to
``token_log`` (who, when), which nothing updates.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, insert, select, update
from starlette.concurrency import run_in_threadpool

from musicapp.server import ca, db
from musicapp.server.errors import ApiError

ROLES = ("admin", "holder", "device")
REVOKED_PREFIX = "revoked:"  # a token_hash no sha256 hex digest can equal
CALLER_SCOPE_KEY = "musicapp.caller"
"""ASGI scope key where the limits middleware leaves (token, Account | None) it looked up."""


@dataclass(frozen=True)
class Account:
    id: str
    role: str
    holder_id: str | None
    name: str
    public_key: str | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _log(conn: Connection, account_id: str, action: str, by: str) -> str:
    at = _now()
    conn.execute(insert(db.token_log).values(account_id=account_id, action=action, actor=by, at=at))
    return at


def create_account(
    conn: Connection,
    role: str,
    name: str,
    holder_id: str | None = None,
    public_key: str | None = None,
    by: str = "self",
) -> tuple[Account, str]:
    """Insert an account; returns it with its token (the only time the token exists in clear)."""
    if role not in ROLES:
        raise ApiError(422, f"role: {role!r} is not one of {', '.join(ROLES)}")
    if role == "holder" and not holder_id:
        raise ApiError(422, "holder_id: a holder account needs the rights-holder id it acts for")
    token = secrets.token_urlsafe(32)
    prefix = {"admin": "a", "holder": "h", "device": "d"}[role]
    account = Account(f"{prefix}-{uuid.uuid4().hex}", role, holder_id, name, public_key)
    conn.execute(
        insert(db.accounts).values(
            id=account.id,
            role=role,
            holder_id=holder_id,
            name=name,
            token_hash=hash_token(token),
            public_key=public_key,
            created_at=_now(),
        )
    )
    _log(conn, account.id, "issued", by)
    return account, token


def _account(row: Any) -> Account:
    return Account(row.id, row.role, row.holder_id, row.name, row.public_key)


def account_for_token(conn: Connection, token: str) -> Account | None:
    row = conn.execute(
        select(db.accounts).where(db.accounts.c.token_hash == hash_token(token))
    ).first()
    return None if row is None else _account(row)


def lookup_token(engine: Engine, token: str) -> Account | None:
    """The account a token belongs to, or None (unknown or revoked)."""
    with engine.connect() as conn:
        return account_for_token(conn, token)


def rotate_token(conn: Connection, account_id: str, by: str, old_token: str | None = None) -> str:
    """A new token for the account (revoked or not); the old one stops working now.

    With ``old_token`` (an account rotating its own), the swap happens only if that token is
    still the current one, so two rotations racing with one token cannot both succeed.
    """
    token = secrets.token_urlsafe(32)
    where = [db.accounts.c.id == account_id]
    if old_token is not None:
        where.append(db.accounts.c.token_hash == hash_token(old_token))
    done = conn.execute(update(db.accounts).where(*where).values(token_hash=hash_token(token)))
    if done.rowcount != 1:
        if old_token is not None:
            raise ApiError(401, "Authorization: the token was rotated or revoked meanwhile")
        raise ApiError(404, f"account_id: no account {account_id!r}")
    _log(conn, account_id, "rotated", by)
    return token


def revoke_token(conn: Connection, account_id: str, by: str) -> str:
    """Make the account's token worthless; returns when (ISO UTC). 409 if already revoked.

    A device's signing certificates are revoked with it: a device the server no longer trusts
    must not go on signing files in its name."""
    row = conn.execute(
        select(db.accounts.c.token_hash).where(db.accounts.c.id == account_id)
    ).first()
    if row is None:
        raise ApiError(404, f"account_id: no account {account_id!r}")
    if row.token_hash.startswith(REVOKED_PREFIX):
        raise ApiError(409, f"account_id: the token of {account_id!r} is already revoked")
    conn.execute(
        update(db.accounts)
        .where(db.accounts.c.id == account_id)
        .values(token_hash=REVOKED_PREFIX + uuid.uuid4().hex)
    )
    at = _log(conn, account_id, "revoked", by)
    ca.revoke_device(conn, account_id, ca.TOKEN_REVOKED, at)
    return at


def account_info(row: Any) -> dict[str, Any]:
    return {
        "account_id": row.id,
        "role": row.role,
        "holder_id": row.holder_id,
        "name": row.name,
        "created_at": row.created_at,
        "revoked": row.token_hash.startswith(REVOKED_PREFIX),
    }


def account_history(conn: Connection, account_id: str) -> dict[str, Any]:
    """The account and every issue, rotation and revocation of its token, oldest first."""
    row = conn.execute(select(db.accounts).where(db.accounts.c.id == account_id)).first()
    if row is None:
        raise ApiError(404, f"account_id: no account {account_id!r}")
    t = db.token_log.c
    log = conn.execute(
        select(t.action, t.actor, t.at).where(t.account_id == account_id).order_by(t.id)
    )
    return {
        **account_info(row),
        "tokens": [{"action": r.action, "by": r.actor, "at": r.at} for r in log],
    }


def list_accounts(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(db.accounts).order_by(db.accounts.c.created_at, db.accounts.c.id))
    return [account_info(r) for r in rows]


def token_from_header(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def bearer_token(request: Request) -> str | None:
    return token_from_header(request.headers.get("authorization", ""))


def _token_or_401(request: Request) -> str:
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "Authorization: a bearer token is required")
    return token


def _known_or_401(account: Account | None) -> Account:
    if account is None:
        raise ApiError(401, "Authorization: the token is not known to this server (or revoked)")
    return account


async def current_account(request: Request) -> Account:
    """FastAPI dependency: the caller's account, or 401."""
    token = _token_or_401(request)
    found = request.scope.get(CALLER_SCOPE_KEY)
    if found is not None and found[0] == token:
        return _known_or_401(found[1])
    engine = request.app.state.server.engine
    return _known_or_401(await run_in_threadpool(lookup_token, engine, token))


def current_account_inline(request: Request) -> Account:
    """``current_account`` without the thread pool, for routes served on the event loop."""
    token = _token_or_401(request)
    return _known_or_401(lookup_token(request.app.state.server.engine, token))


def require_role(account: Account, *roles: str) -> None:
    if account.role not in roles:
        raise ApiError(
            403, f"this needs a {' or '.join(roles)} account; yours is a {account.role} account"
        )


Caller = Annotated[Account, Depends(current_account)]
"""Route parameter type: the authenticated caller."""
