"""Accounts: device registration (open, rate-limited), admin-made accounts, the server key."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, StringConstraints

from musicapp.server.auth import Caller, create_account, require_role
from musicapp.server.errors import ApiError
from musicapp.server.fastjson import FastJSONRoute
from musicapp.server.fields import Id, Name
from musicapp.transparency import signing

router = APIRouter(prefix="/v1", tags=["accounts"], route_class=FastJSONRoute)


class DeviceIn(BaseModel):
    name: Name
    public_key: Annotated[str, StringConstraints(max_length=64)] = Field(
        description="base64 of the raw 32-byte Ed25519 public key"
    )


class AccountIn(BaseModel):
    role: Literal["holder", "admin"]
    holder_id: Id | None = None
    name: Name


@router.post("/devices", status_code=201)
def register_device(body: DeviceIn, request: Request) -> dict[str, str]:
    try:
        signing.public_key_from_b64(body.public_key)
    except signing.SigningError as exc:
        raise ApiError(422, f"public_key: {exc}") from None
    server = request.app.state.server
    with server.write_lock, server.engine.begin() as conn:
        account, token = create_account(conn, "device", body.name, public_key=body.public_key)
    return {"device_id": account.id, "token": token}


@router.post("/accounts", status_code=201)
def make_account(body: AccountIn, request: Request, account: Caller) -> dict[str, str]:
    require_role(account, "admin")
    server = request.app.state.server
    with server.write_lock, server.engine.begin() as conn:
        made, token = create_account(conn, body.role, body.name, holder_id=body.holder_id)
    return {"account_id": made.id, "token": token}


@router.get("/server-key")
def server_key(request: Request) -> dict[str, str]:
    key = request.app.state.server.key
    return {"public_key": signing.public_key_b64(key), "key_id": signing.key_id(key)}
