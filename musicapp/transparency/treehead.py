"""The signed tree head: what the server signs and the client checks (RFC 9162 §4.10, in the
shape docs/server-api.md gives it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from musicapp.ledger.canonical import canonical_bytes


@dataclass(frozen=True)
class TreeHead:
    """The log's size and root hash at a time, and the server's signature over them."""

    tree_size: int
    root: str  # hex
    timestamp: str  # ISO 8601
    signature: str  # base64 Ed25519 over signed_bytes()

    @staticmethod
    def signed_bytes_of(tree_size: int, root: str, timestamp: str) -> bytes:
        """The bytes the signature covers: canonical JSON of size, root and timestamp."""
        return canonical_bytes({"tree_size": tree_size, "root": root, "timestamp": timestamp})

    def signed_bytes(self) -> bytes:
        return self.signed_bytes_of(self.tree_size, self.root, self.timestamp)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
