"""This machine's Ed25519 signing key: it makes each uploaded ledger event attributable.

The server accepts events on a device's stream only with a signature by the key that device
registered, so a stolen token alone cannot forge history. The key is made on first use and kept
in the data folder (``device.key``, raw 32 bytes, mode 0600 in a 0700 folder, checked each time
it is loaded: ``private_files``). It is written to a temporary file, synced, and linked into
place only if no key is there yet, so two processes starting at once end up with the same key
and a crash never leaves half a key behind.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from musicapp.core import InvalidInput
from musicapp.sync.private_files import private_dir, private_file
from musicapp.transparency import signing

KEY_FILE = "device.key"


class DeviceKey:
    """The device's private key and what the server needs from it."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self._sign = signing.Signer(key)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> DeviceKey:
        path = Path(data_dir) / KEY_FILE
        private_dir(path.parent)
        if not path.exists():
            _create(path)
        private_file(path)
        raw = path.read_bytes()
        if len(raw) != 32:
            raise InvalidInput(
                f"device key {path}: expected 32 bytes, found {len(raw)}; the file is damaged "
                f"(move it away to make a new key; this machine then registers as a new device)"
            )
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @property
    def public_key_raw(self) -> bytes:
        return self._key.public_key().public_bytes_raw()

    @property
    def public_key_b64(self) -> str:
        return base64.b64encode(self.public_key_raw).decode("ascii")

    def sign_event_hash(self, hex_hash: str) -> str:
        """Base64 signature over the 32 bytes of an event hash (the contract's message)."""
        return self._sign(bytes.fromhex(hex_hash))


def retire_key(data_dir: Path, archive_dir: Path, stamp: str) -> Path | None:
    """Move the device key into ``archive_dir`` (0600 there); the next sync makes a new one.

    A key registers once with a server, so a fresh device stream needs a fresh key. The old key
    is kept, not deleted: it signed what the old stream holds."""
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        return None
    private_dir(archive_dir)
    target = archive_dir / f"device-{stamp}.key"
    os.replace(path, target)
    private_file(target)
    return target


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = Ed25519PrivateKey.generate().private_bytes_raw()
    fd, tmp = tempfile.mkstemp(prefix=".device-key-", dir=path.parent)
    try:
        os.chmod(tmp, 0o600)
        os.write(fd, raw)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        try:
            os.link(tmp, path)  # fails if another process made a key first: keep theirs
        except FileExistsError:
            pass
        except OSError:  # file systems without hard links
            if not path.exists():
                os.replace(tmp, path)
        with contextlib.suppress(OSError):
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    finally:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
