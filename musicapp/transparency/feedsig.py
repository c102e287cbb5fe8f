"""The signed consent feed page: what the rights server signs and the sync client checks.

A page is signed with the server's Ed25519 key (the one clients pin, which also signs tree
heads). The signature covers the client's own nonce, the cursor it asked from, the cursor to
pass back, whether more follows, the server's time and the SHA-256 of the changes' canonical
JSON. So a machine in the middle can neither forge nor alter a change, nor answer a request
with a page cut short or recorded earlier (a replay of "no more changes" would hide a
revocation). The message has its own ``purpose`` key, so it can never be mistaken for a signed
tree head (whose signed object holds only tree_size, root and timestamp).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from musicapp.ledger.canonical import canonical_bytes, canonical_json

PURPOSE = "musicapp consent feed page v1"
# What a client may send as its nonce: url-safe text, long enough to be unguessable.
NONCE_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
_NONCE = re.compile(NONCE_PATTERN)


def valid_nonce(nonce: str | None) -> bool:
    return nonce is None or bool(_NONCE.match(nonce))


def page_message(
    *, nonce: str | None, since: int, next_: int, more: bool, as_of: str, changes: Any
) -> bytes:
    """The bytes a feed page's signature covers (``changes`` as the page's JSON values)."""
    # "surrogatepass": a lone surrogate that reached a stored record must not make its page
    # unsignable (the feed would stop there for every client); the record itself is then
    # quarantined by the client like any other it cannot apply.
    text = canonical_json(changes, "changes").encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(text).hexdigest()
    return canonical_bytes(
        {
            "purpose": PURPOSE,
            "nonce": nonce,
            "since": since,
            "next": next_,
            "more": more,
            "as_of": as_of,
            "changes_sha256": digest,
        }
    )
