"""The identity that signs C2PA manifests: a device key and its certificate chain, kept on disk.

Without a rights server the app makes, once, a local certificate authority and a certificate
for a device signing key (ECDSA P-256, what C2PA's es256 needs; the sync client's Ed25519
key stays for ledger events). That chain proves only that the same device signed, so every
report calls it "self-asserted (local CA)". A certificate the rights server issues for the same
key (issue 17, item 2) goes in ``server-chain.pem`` beside it: ``load_identity`` then signs
with that chain and calls it ``server``, and the server's CA joins the trust anchors.

Files, in ``<data folder>/c2pa/`` (0700): ``device.key`` and ``ca.key`` (0600, never sent
anywhere), ``device-chain.pem`` (device certificate, then the local CA's), ``ca.pem``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from musicapp.export.record import ExportError
from musicapp.transparency import certs

IdentityKind = Literal["local", "server"]
FOLDER = "c2pa"
LOCAL_LABEL = "self-asserted (local CA)"
SERVER_LABEL = "issued by the rights server"


@dataclass(frozen=True)
class SigningIdentity:
    """What signs: ``chain_pem`` (the signing certificate first), ``key_pem`` (PKCS#8), and
    ``kind``: "local" for the self-made CA, "server" for a certificate the rights server
    issued; ``trust_pem`` the CA certificates a verifier on this device trusts."""

    chain_pem: bytes
    key_pem: bytes
    kind: IdentityKind
    trust_pem: bytes

    @property
    def label(self) -> str:
        return LOCAL_LABEL if self.kind == "local" else SERVER_LABEL

    @property
    def serial(self) -> str:
        """The signing certificate's serial number in decimal, as C2PA readers print it."""
        return str(x509.load_pem_x509_certificate(self.chain_pem).serial_number)


def make_local_chain() -> tuple[bytes, bytes, bytes, bytes]:
    """A new local CA and device certificate: (chain_pem, device_key_pem, ca_pem, ca_key_pem)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certs.make_ca(ca_key, f"musicapp local CA {uuid.uuid4().hex[:8]} ({LOCAL_LABEL})")
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = certs.issue(ca_key, ca, key.public_key())
    return (
        certs.pem(leaf) + certs.pem(ca),
        certs.key_pem(key),
        certs.pem(ca),
        certs.key_pem(ca_key),
    )


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _create(folder: Path) -> None:
    """Make the local identity in a hidden folder, then rename it into place: two exports
    starting at once end with one identity, the loser's discarded."""
    chain, key, ca, ca_key = make_local_chain()
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(mode=0o700)
    try:
        _write(tmp / "device.key", key, 0o600)
        _write(tmp / "ca.key", ca_key, 0o600)
        _write(tmp / "device-chain.pem", chain, 0o644)
        _write(tmp / "ca.pem", ca, 0o644)
        try:
            tmp.rename(folder)
        except OSError:
            if not (folder / "device-chain.pem").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ExportError(f"signing identity: cannot read {path} ({exc.strerror or exc})") from exc


def trust_anchors(data_dir: Path) -> bytes | None:
    """The CA certificates this device trusts for its own manifests (PEM), or None when it has
    never signed one: its local CA, and the rights server's CA once there is one."""
    folder = Path(data_dir) / FOLDER
    pems = [folder / "ca.pem", folder / "server-ca.pem"]
    found = [p.read_bytes() for p in pems if p.is_file()]
    return b"".join(found) if found else None


def load_identity(data_dir: Path, *, create: bool = True) -> SigningIdentity:
    """The device's signing identity in ``data_dir``, made on first use when ``create``."""
    folder = Path(data_dir) / FOLDER
    if not (folder / "device-chain.pem").is_file():
        if not create:
            raise ExportError(f"signing identity: {folder} holds no device certificate")
        _create(folder)
    key_path = folder / "device.key"
    if key_path.is_file() and key_path.stat().st_mode & 0o077:
        os.chmod(key_path, 0o600)  # a copy or restore widened it; the key stays the device's
    key = _read(key_path)
    server_chain = folder / "server-chain.pem"
    kind: IdentityKind = "server" if server_chain.is_file() else "local"
    chain = _read(server_chain if kind == "server" else folder / "device-chain.pem")
    try:
        x509.load_pem_x509_certificate(chain)
        serialization.load_pem_private_key(key, password=None)
    except ValueError as exc:
        raise ExportError(
            f"signing identity: {folder} holds a damaged key or chain ({exc})"
        ) from exc
    trust = trust_anchors(data_dir) or b""
    return SigningIdentity(chain, key, kind, trust)
