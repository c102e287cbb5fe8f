"""The device key: made once, private to the user, stable, and signing what the server checks."""

import base64
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from musicapp.core import InvalidInput
from musicapp.sync.device import KEY_FILE, DeviceKey


def test_the_key_is_made_once_private_and_signs_event_hashes(tmp_path):
    key = DeviceKey.load_or_create(tmp_path)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = DeviceKey.load_or_create(tmp_path)
    assert again.public_key_b64 == key.public_key_b64
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]  # no temporary file left behind
    digest = "ab" * 32
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key_b64))
    public.verify(base64.b64decode(key.sign_event_hash(digest)), bytes.fromhex(digest))


def test_a_damaged_key_file_is_named_not_replaced(tmp_path):
    (tmp_path / KEY_FILE).write_bytes(b"short")
    with pytest.raises(InvalidInput, match="device key .* expected 32 bytes"):
        DeviceKey.load_or_create(tmp_path)
    assert (tmp_path / KEY_FILE).read_bytes() == b"short"
