"""Accounts: device registration (open, rate-limited), admin-made accounts, tokens, server key."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, StringConstraints

from musicapp.server import auth, devices
from musicapp.server.auth import Caller, create_account, require_role
from musicapp.server.errors import ApiError
from musicapp.server.fastjson import FastJSONRoute
from musicapp.server.fields import MAX_ID, Id, Name
from musicapp.server.writes import run_write
from musicapp.transparency import signing

router = APIRouter(prefix="/v1", tags=["accounts"], route_class=FastJSONRoute)

AccountId = Annotated[str, Path(min_length=1, max_length=MAX_ID)]


class DeviceIn(BaseModel):
    name: Name
    public_key: Annotated[str, StringConstraints(max_length=64)] = Field(
        description="base64 of the raw 32-byte Ed25519 public key"
    )
    proof: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        default=None,
        description="optional: base64 signature by the key over "
        "transparency.registration.proof_digest; a key already registered gets its own device "
        "back (with a new token) only with it, else 409",
    )


class AccountIn(BaseModel):
    role: Literal["holder", "admin"]
    holder_id: Id | None = None
    name: Name


@router.post("/devices", status_code=201)
async def register_device(body: DeviceIn, request: Request) -> dict[str, str]:
    public_key = devices.canonical_key(body.public_key)
    server = request.app.state.server
    device_id, token = await run_write(
        server,
        lambda conn: devices.register(
            conn, body.name, public_key, body.proof, signing.key_id(server.key)
        ),
    )
    return {"device_id": device_id, "token": token}


@router.post("/accounts", status_code=201)
async def make_account(body: AccountIn, request: Request, account: Caller) -> dict[str, str]:
    require_role(account, "admin")
    made, token = await run_write(
        request.app.state.server,
        lambda conn: create_account(
            conn, body.role, body.name, holder_id=body.holder_id, by=account.id
        ),
    )
    return {"account_id": made.id, "token": token}


@router.get("/accounts")
def accounts(request: Request, account: Caller) -> dict[str, Any]:
    """Every account (admin): ids, roles, names, whether its token is revoked. No tokens."""
    require_role(account, "admin")
    with request.app.state.server.engine.connect() as conn:
        return {"accounts": auth.list_accounts(conn)}


@router.get("/accounts/me")
def me(account: Caller) -> dict[str, Any]:
    """The caller's own account: which id and role its token stands for."""
    return {
        "account_id": account.id,
        "role": account.role,
        "holder_id": account.holder_id,
        "name": account.name,
    }


@router.get("/accounts/{account_id}")
def account_history(account_id: AccountId, request: Request, account: Caller) -> dict[str, Any]:
    """One account (its own, or any as admin) with its token's history: issued, rotated,
    revoked, by whom and when."""
    _own_or_admin(account, account_id, "read")
    with request.app.state.server.engine.connect() as conn:
        return auth.account_history(conn, account_id)


def _own_or_admin(account: auth.Account, account_id: str, what: str) -> None:
    if account.id != account_id and account.role != "admin":
        raise ApiError(403, f"account_id: only an admin may {what} another account")


@router.post("/accounts/{account_id}/rotate", status_code=201)
async def rotate(account_id: AccountId, request: Request, account: Caller) -> dict[str, str]:
    """A new token for the account (its own, or any as admin); the old one stops working now.

    An admin rotating a revoked account's token gives it a working token again.
    """
    _own_or_admin(account, account_id, "rotate")
    old = auth.bearer_token(request) if account.id == account_id else None
    token = await run_write(
        request.app.state.server,
        lambda conn: auth.rotate_token(conn, account_id, account.id, old_token=old),
    )
    return {"account_id": account_id, "token": token}


@router.post("/accounts/{account_id}/revoke")
async def revoke(account_id: AccountId, request: Request, account: Caller) -> dict[str, str]:
    """Revoke the account's token (its own, or any as admin); it gets 401 from now on."""
    _own_or_admin(account, account_id, "revoke")
    at = await run_write(
        request.app.state.server, lambda conn: auth.revoke_token(conn, account_id, account.id)
    )
    return {"account_id": account_id, "revoked_at": at}


@router.get("/server-key")
def server_key(request: Request) -> dict[str, str]:
    key = request.app.state.server.key
    return {"public_key": signing.public_key_b64(key), "key_id": signing.key_id(key)}
