"""Ed25519 helpers: raw base64 keys, signatures that fail when anything changes, 0600 key files."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest

from musicapp.transparency import signing


def test_sign_and_verify_round_trip() -> None:
    key = signing.generate_key()
    public = signing.public_key_b64(key)
    assert len(base64.b64decode(public)) == 32
    assert signing.key_id(key) == hashlib.sha256(base64.b64decode(public)).hexdigest()
    sig = signing.sign(key, b"tree head")
    assert signing.verify(public, b"tree head", sig)
    assert signing.verify(signing.public_key_from_b64(public), b"tree head", sig)
    assert not signing.verify(public, b"tree heaD", sig)
    assert not signing.verify(signing.public_key_b64(signing.generate_key()), b"tree head", sig)
    assert not signing.verify(public, b"tree head", "not base64!")
    assert not signing.verify(public, b"tree head", base64.b64encode(b"short").decode())


def test_bad_public_keys_are_named() -> None:
    with pytest.raises(signing.SigningError, match="32 bytes"):
        signing.public_key_from_b64(base64.b64encode(b"x" * 31).decode())
    with pytest.raises(signing.SigningError, match="base64"):
        signing.public_key_from_b64("%%%")


def test_key_file_is_private_and_reloads(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "server_key.pem"
    key = signing.load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = signing.load_or_create_key(path)
    assert signing.public_key_b64(again) == signing.public_key_b64(key)
    assert [p.name for p in path.parent.iterdir()] == ["server_key.pem"]  # no temp files left


def test_unreadable_key_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "server_key.pem"
    path.write_text("not a key")
    with pytest.raises(signing.SigningError, match="server_key.pem"):
        signing.load_private_key(path)
