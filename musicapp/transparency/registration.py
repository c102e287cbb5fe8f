"""The proof a device sends with its registration: that it holds the key it registers.

The device signs ``proof_digest`` (32 bytes, like an event hash, so the client's event signer
makes it): sha256 of a text naming this purpose, the server's key id and the device's public
key, so a proof is good for one key at one server and can never be taken for an event's
signature (an event hash is sha256 of an event's canonical JSON, which no proof text is).
"""

from __future__ import annotations

import hashlib

PROOF_CONTEXT = "musicapp device registration"


def proof_digest(server_key_id: str, public_key_b64: str) -> bytes:
    """What the device signs: bound to this purpose, this server and this key."""
    text = f"{PROOF_CONTEXT}\n{server_key_id}\n{public_key_b64}\n"
    return hashlib.sha256(text.encode("utf-8")).digest()
