"""Bearer tokens: random, shown once, stored as sha256 hex; roles admin, holder and device.

``current_account`` is the FastAPI dependency every authenticated route uses; the role checks
(``require_role``) and per-object checks (a holder's songs, a device's own stream) live beside
the routes that need them. Missing or unknown credentials are 401; a known account acting
outside its rights is 403.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection, insert, select

from musicapp.server import db
from musicapp.server.errors import ApiError

ROLES = ("admin", "holder", "device")


@dataclass(frozen=True)
class Account:
    id: str
    role: str
    holder_id: str | None
    name: str
    public_key: str | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_account(
    conn: Connection,
    role: str,
    name: str,
    holder_id: str | None = None,
    public_key: str | None = None,
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
            created_at=datetime.now(UTC).isoformat(),
        )
    )
    return account, token


def account_for_token(conn: Connection, token: str) -> Account | None:
    row = conn.execute(
        select(db.accounts).where(db.accounts.c.token_hash == hash_token(token))
    ).first()
    if row is None:
        return None
    return Account(row.id, row.role, row.holder_id, row.name, row.public_key)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_account(request: Request) -> Account:
    """FastAPI dependency: the caller's account, or 401."""
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "Authorization: a bearer token is required")
    with request.app.state.server.engine.connect() as conn:
        account = account_for_token(conn, token)
    if account is None:
        raise ApiError(401, "Authorization: the token is not known to this server")
    return account


def require_role(account: Account, *roles: str) -> None:
    if account.role not in roles:
        raise ApiError(
            403, f"this needs a {' or '.join(roles)} account; yours is a {account.role} account"
        )


Caller = Annotated[Account, Depends(current_account)]
"""Route parameter type: the authenticated caller."""
