"""One device per public key: a second registration of a key is refused (409).

Registering needs no credentials, so without this anyone could register a copy of a device's
public key (it is not secret) and replay that device's signed events under the copy's stream.
The refusal names the device that holds the key only to a caller who proves it holds the
private key too (``proof``: a signature over ``proof_bytes``), i.e. the device itself, say a
copied or restored data folder: anyone else learns only that the key is taken, not whose it
is. Keys are compared in their canonical base64 form, so another spelling of the same 32 bytes
is the same key.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from musicapp.server import db
from musicapp.server.errors import ApiError
from musicapp.transparency import signing

PROOF_CONTEXT = "musicapp device registration"


def canonical_key(public_key_b64: str) -> str:
    """The key's one base64 spelling; 422 naming ``public_key`` when it is not a key."""
    try:
        return signing.public_key_b64(signing.public_key_from_b64(public_key_b64))
    except (signing.SigningError, ValueError) as exc:
        raise ApiError(422, f"public_key: {exc}") from None


def proof_bytes(server_key_id: str, public_key_b64: str) -> bytes:
    """What a device signs to prove it holds its key: bound to this server and this key."""
    return f"{PROOF_CONTEXT}\n{server_key_id}\n{public_key_b64}\n".encode()


def _taken(conn: Connection, public_key_b64: str) -> str | None:
    row = conn.execute(
        select(db.device_keys.c.device_id).where(db.device_keys.c.public_key == public_key_b64)
    ).first()
    return None if row is None else str(row.device_id)


def _refusal(owner: str, public_key_b64: str, proof: str | None, server_key_id: str) -> ApiError:
    if proof is not None and signing.verify(
        public_key_b64, proof_bytes(server_key_id, public_key_b64), proof
    ):
        return ApiError(
            409,
            f"public_key: this key is already registered as device {owner} (your proof shows "
            f"it is yours): use that device's token, or make a new key to register anew",
        )
    return ApiError(
        409,
        "public_key: this key is already registered to a device; a device key registers once "
        "(a copied data folder must make a key of its own). Send a proof signed with the key "
        "to learn which device holds it",
    )


def claim_key(
    conn: Connection, public_key_b64: str, device_id: str, proof: str | None, server_key_id: str
) -> None:
    """Record ``device_id`` as the holder of the (canonical) key, or raise the 409."""
    owner = _taken(conn, public_key_b64)
    if owner is not None:
        raise _refusal(owner, public_key_b64, proof, server_key_id)
    try:
        with conn.begin_nested():
            conn.execute(
                insert(db.device_keys).values(public_key=public_key_b64, device_id=device_id)
            )
    except IntegrityError:  # another process registered the same key a moment ago
        raise _refusal(
            _taken(conn, public_key_b64) or "?", public_key_b64, proof, server_key_id
        ) from None
