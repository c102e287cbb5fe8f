"""Device registration: one device per public key, and its token again for the key's holder.

Registering needs no credentials, so without this anyone could register a copy of a device's
public key (it is not secret) and replay that device's signed events under the copy's stream.
A second registration of a key is refused (409) and says nothing about whose it is, unless the
caller proves it holds the private key too (``proof``: a signature over
``transparency.registration.proof_digest``): that caller is the device itself (an answer lost
on the network, a data folder started over), and gets its own device id back with a new token;
the old token stops working. Keys are compared in their canonical base64 form, so another
spelling of the same 32 bytes is the same key.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from musicapp.server import db
from musicapp.server.auth import REVOKED_PREFIX, create_account, rotate_token
from musicapp.server.errors import ApiError
from musicapp.transparency import signing
from musicapp.transparency.registration import proof_digest


def canonical_key(public_key_b64: str) -> str:
    """The key's one base64 spelling; 422 naming ``public_key`` when it is not a key."""
    try:
        return signing.public_key_b64(signing.public_key_from_b64(public_key_b64))
    except (signing.SigningError, ValueError) as exc:
        raise ApiError(422, f"public_key: {exc}") from None


def _holder(conn: Connection, public_key_b64: str) -> str | None:
    row = conn.execute(
        select(db.device_keys.c.device_id).where(db.device_keys.c.public_key == public_key_b64)
    ).first()
    return None if row is None else str(row.device_id)


def _again(
    conn: Connection, device_id: str, public_key_b64: str, proof: str | None, server_key_id: str
) -> tuple[str, str]:
    """The key's own device with a new token for a caller proving the key, else the 409."""
    if proof is None or not signing.verify(
        public_key_b64, proof_digest(server_key_id, public_key_b64), proof
    ):
        raise ApiError(
            409,
            "public_key: this key is already registered to a device; a device key registers "
            "once (a copied data folder must make a key of its own). The device itself can "
            "send a proof signed with the key to get its token again",
        )
    revoked = conn.execute(
        select(db.accounts.c.token_hash).where(db.accounts.c.id == device_id)
    ).scalar_one()
    if str(revoked).startswith(REVOKED_PREFIX):
        # Proving the key must not undo an administrator's revocation.
        raise ApiError(
            403,
            "public_key: this device's token was revoked by the server's administrator; "
            "only they can issue it a new one (musicapp-server account rotate)",
        )
    token = rotate_token(conn, device_id, by=device_id)
    return device_id, token


def register(
    conn: Connection, name: str, public_key: str, proof: str | None, server_key_id: str
) -> tuple[str, str]:
    """(device id, token) for a registration of the canonical ``public_key``."""
    holder = _holder(conn, public_key)
    if holder is not None:
        return _again(conn, holder, public_key, proof, server_key_id)
    account, token = create_account(conn, "device", name, public_key=public_key)
    try:
        with conn.begin_nested():
            conn.execute(insert(db.device_keys).values(public_key=public_key, device_id=account.id))
    except IntegrityError:  # another process registered the same key a moment ago
        raise ApiError(
            409, "public_key: another request registered this key a moment ago; send it again"
        ) from None
    return account.id, token
