"""The rights server's small certificate authority (issue 17, item 2): device certificates for
C2PA signing, and their revocation.

A file the app exports is signed with the device's P-256 key (``export/identity.py``). Alone,
that proves only that one device signed. With a certificate from this CA the signature says
which registered device signed, and with which Ed25519 key it signs its ledger events
(``transparency/certs.py`` names both in the certificate), so a reader can follow a file to the
device's events in the server's log. The CA's own certificate names the server's tree-head key,
so the CA certificate alone lets a third party check the receipts too.

The CA key (``server_ca.key``, P-256 PKCS#8) is secret like the log key: 0600, written once,
atomically (a temporary file linked into place, so two processes starting at once keep the
same CA). Devices never send their private key: they send a certificate request signed with
it (``certs.request_key`` checks it). Each device has at most one certificate in force: asking
again revokes the earlier ones ("superseded"), and revoking a device's token revokes them all.
Revoked serials are published in a CRL signed by the CA (``GET /v1/ca/crl``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Connection, insert, select, update

from musicapp.files import write_once
from musicapp.server import db
from musicapp.server.errors import ApiError
from musicapp.transparency import certs, signing

CA_NAME = "musicapp rights server CA"
SUPERSEDED = "superseded"
TOKEN_REVOKED = "the device's token was revoked"
MAX_REASON = 200
MAX_SERIAL_DIGITS = 49  # x509 serials are at most 20 bytes (159 bits from random_serial_number)


class CAError(ApiError):
    """The CA on disk cannot be used; names the file. Like ``files.UnsafeFile``, the server
    refuses to start with it."""

    def __init__(self, detail: str) -> None:
        super().__init__(500, detail)


@dataclass(frozen=True)
class ServerCA:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> bytes:
        return certs.pem(self.cert)


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if not path.exists():
        write_once(path, certs.key_pem(ec.generate_private_key(ec.SECP256R1())))
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise CAError(f"{path}: the CA key cannot be read ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise CAError(f"{path}: the CA key must be an EC P-256 key")
    return key


def _load_cert(path: Path, key: ec.EllipticCurvePrivateKey, log_key_b64: str) -> x509.Certificate:
    if not path.exists():
        write_once(path, certs.pem(certs.make_ca(key, CA_NAME, log_key_b64)))
    try:
        cert = certs.load_chain(path.read_bytes(), str(path))[0]
    except (OSError, certs.CertificateError) as exc:
        raise CAError(f"{path}: the CA certificate cannot be read ({exc})") from None
    if cert.public_key() != key.public_key():
        raise CAError(f"{path}: the CA certificate is not for the CA key beside it")
    return cert


def load_or_create(
    key_path: Path, cert_path: Path, log_key: signing.Ed25519PrivateKey, log_key_path: Path
) -> ServerCA:
    """The CA in the data folder, made on first start; refused when its certificate names
    another tree-head key than ``log_key``: devices checking tree heads with it would fail,
    or trust a key this server no longer signs with."""
    key = _load_key(key_path)
    cert = _load_cert(cert_path, key, signing.public_key_b64(log_key))
    named, ours = certs.log_key_of(cert), signing.public_key_b64(log_key)
    if named != ours:
        raise CAError(
            f"{cert_path}: the CA certificate names the log key {named}, but this server's key "
            f"({log_key_path}) is {ours}. A CA belongs to one server: restore that server's "
            f"key, or move {cert_path} and {key_path} away to make a new CA (devices that "
            "pinned the old one must then start over)"
        )
    return ServerCA(key, cert)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def issue_for_device(
    conn: Connection, ca: ServerCA, device_id: str, ledger_key_b64: str | None, csr_pem: str
) -> dict[str, str]:
    """A certificate for the key of ``csr_pem`` naming the device and its ledger key; the
    device's earlier certificates are revoked as superseded. 422 naming ``csr`` for a request
    that is not a usable one."""
    try:
        public = certs.request_key(csr_pem.encode("utf-8"), "csr")
    except certs.CertificateError as exc:
        raise ApiError(422, str(exc)) from None
    if not ledger_key_b64:
        raise ApiError(403, "this account has no registered device key to certify")
    now = _now()
    revoke_device(conn, device_id, SUPERSEDED, now)
    cert = certs.issue(
        ca.key,
        ca.cert,
        public,
        f"musicapp device {device_id}",
        device_id=device_id,
        ledger_key_b64=ledger_key_b64,
    )
    leaf = certs.pem(cert)
    conn.execute(
        insert(db.device_certificates).values(
            serial=str(cert.serial_number),
            device_id=device_id,
            key_fingerprint=certs.fingerprint(public),
            issued_at=now,
            certificate=leaf.decode("ascii"),
        )
    )
    return {
        "certificate": leaf.decode("ascii"),
        "chain": (leaf + ca.pem).decode("ascii"),
        "serial": str(cert.serial_number),
    }


def revoke_device(conn: Connection, device_id: str, reason: str, at: str | None = None) -> int:
    """Revoke every certificate of the device still in force; returns how many."""
    c = db.device_certificates.c
    done = conn.execute(
        update(db.device_certificates)
        .where(c.device_id == device_id, c.revoked_at.is_(None))
        .values(revoked_at=at or _now(), reason=reason)
    )
    return int(done.rowcount or 0)


def _serial(serial: str) -> str:
    text = serial.strip()
    if not text.isdigit() or len(text) > MAX_SERIAL_DIGITS:
        raise ApiError(422, f"serial: {serial[:60]!r} is not a certificate serial in decimal")
    return str(int(text))


def revoke(conn: Connection, serial: str, reason: str) -> dict[str, Any]:
    """Revoke one certificate; 404 for an unknown serial, 409 when it is revoked already."""
    key = _serial(serial)
    if not 0 < len(reason) <= MAX_REASON:
        raise ApiError(422, f"reason: 1 to {MAX_REASON} characters, not {len(reason)}")
    c = db.device_certificates.c
    row = conn.execute(select(db.device_certificates).where(c.serial == key)).first()
    if row is None:
        raise ApiError(404, f"serial: no certificate {key} was issued by this server")
    if row.revoked_at is not None:
        raise ApiError(409, f"serial: certificate {key} was revoked at {row.revoked_at}")
    at = _now()
    conn.execute(
        update(db.device_certificates).where(c.serial == key).values(revoked_at=at, reason=reason)
    )
    return {"serial": key, "device_id": row.device_id, "revoked_at": at, "reason": reason}


def listed(conn: Connection, device_id: str | None = None) -> list[dict[str, Any]]:
    """The certificates issued (one device's, or all), oldest first; no certificate bodies."""
    c = db.device_certificates.c
    query = select(db.device_certificates).order_by(c.issued_at, c.serial)
    if device_id is not None:
        query = query.where(c.device_id == device_id)
    return [
        {
            "serial": r.serial,
            "device_id": r.device_id,
            "key_fingerprint": r.key_fingerprint,
            "issued_at": r.issued_at,
            "revoked_at": r.revoked_at,
            "reason": r.reason,
        }
        for r in conn.execute(query)
    ]


def crl(conn: Connection, ca: ServerCA) -> bytes:
    """The CRL now: every revoked serial, signed by the CA."""
    c = db.device_certificates.c
    rows = conn.execute(
        select(c.serial, c.revoked_at).where(c.revoked_at.is_not(None)).order_by(c.serial)
    )
    revoked = [(int(r.serial), datetime.fromisoformat(r.revoked_at)) for r in rows]
    return certs.make_crl(ca.key, ca.cert, revoked)
