"""Accounts: device registration (open, rate-limited), admin-made accounts, the server key."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from musicapp.server import devices
from musicapp.server.auth import Caller, create_account, require_role
from musicapp.transparency import signing

router = APIRouter(prefix="/v1", tags=["accounts"])


class DeviceIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    public_key: str = Field(
        max_length=100, description="base64 of the raw 32-byte Ed25519 public key"
    )
    proof: str | None = Field(
        default=None,
        max_length=100,
        description="optional: base64 signature by the key over "
        "transparency.registration.proof_digest; a key already registered gets its own device "
        "back (with a new token) only with it, else 409",
    )


class AccountIn(BaseModel):
    role: Literal["holder", "admin"]
    holder_id: str | None = Field(default=None, max_length=200)
    name: str = Field(min_length=1, max_length=200)


@router.post("/devices", status_code=201)
def register_device(body: DeviceIn, request: Request) -> dict[str, str]:
    public_key = devices.canonical_key(body.public_key)
    server = request.app.state.server
    with server.write_lock, server.engine.begin() as conn:
        device_id, token = devices.register(
            conn, body.name, public_key, body.proof, signing.key_id(server.key)
        )
    return {"device_id": device_id, "token": token}


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
