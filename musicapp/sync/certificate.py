"""The device's C2PA signing certificate from the rights server's CA (issue 17, item 2).

After each sync the client makes sure the files it exports are signed with a certificate the
server issued for this device (``export/identity.py`` signs with ``server-chain.pem`` once it is
there), and keeps the server's CRL beside it for offline checks. The device's P-256 key never
leaves it: the server gets a certificate request signed with that key.

The CA is trusted only through the server key the client pinned on first contact: its
certificate must name that key (``certs.log_key_of``), and that key must have signed the
certificate (the ``signature`` of ``GET /v1/ca``). Once ``server-ca.pem`` is stored, another CA
for the same server key is refused, like a changed server key. Only after a start over with
another server (another pinned key) is a new CA taken. The certificate the server sends back is
checked before it is stored: issued by that CA, for our key, naming our device and our ledger
key.

A certificate is asked for when there is none, when the one held names another device or key
(a start over registers a new device), or when the CRL lists it; a revoked one is moved aside
at once, so nothing is signed with it while a new one cannot be had.

Files, in ``<data folder>/c2pa/`` (0644, written atomically): ``server-ca.pem``,
``server-chain.pem`` (the device certificate, then the CA's), ``server-crl.pem``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from musicapp.export.identity import FOLDER, load_identity
from musicapp.files import write_atomic
from musicapp.jobs import CancelToken
from musicapp.sync.errors import SyncError
from musicapp.transparency import certs, signing

if TYPE_CHECKING:
    from musicapp.sync.http import RetryingHTTP

log = logging.getLogger(__name__)

CA_FILE = "server-ca.pem"
CHAIN_FILE = "server-chain.pem"
CRL_FILE = "server-crl.pem"
REVOKED_SUFFIX = ".revoked"


def _pinned_ca(http: RetryingHTTP, folder: Path, server_key: str, cancel: CancelToken) -> bool:
    """Fetch the server's CA and check it against the pins; stores it when new. False when the
    server has no CA (an older server): the local identity stays in use."""
    resp = http._request("GET", "/v1/ca", cancel, auth=False)
    if resp.status_code == 404:
        log.info("sync: the rights server issues no certificates; files stay self-asserted")
        return False
    body = http._expect(resp, 200)
    ca = certs.load_chain(str(body["certificate"]).encode("utf-8"), "the server's CA")[0]
    named = certs.log_key_of(ca)
    if named != server_key:
        raise SyncError(
            f"the server's CA certificate names the log key {named}, not the server key pinned "
            f"here ({server_key}); not trusting it"
        )
    der = ca.public_bytes(serialization.Encoding.DER)
    if not signing.verify(server_key, der, str(body.get("signature", ""))):
        raise SyncError("the server's CA certificate is not signed by the pinned server key")
    if certs.issued_by(ca, ca):
        raise SyncError(
            f"the server's CA certificate is not a valid CA ({certs.issued_by(ca, ca)})"
        )
    stored = folder / CA_FILE
    if stored.is_file():
        held = certs.load_chain(stored.read_bytes(), str(stored))[0]
        if held != ca and certs.log_key_of(held) == server_key:
            raise SyncError(
                f"the server's CA certificate changed (serial {held.serial_number} is pinned in "
                f"{stored}, the server sent {ca.serial_number}); not trusting it. If the server "
                "was rebuilt on purpose, start over"
            )
        if held == ca:
            return True
        log.info("sync: a new server is pinned; its CA replaces the previous server's")
    write_atomic(stored, certs.pem(ca))
    return True


def _crl(http: RetryingHTTP, folder: Path, ca: x509.Certificate, cancel: CancelToken) -> bytes:
    resp = http._request("GET", "/v1/ca/crl", cancel, auth=False)
    if resp.status_code != 200:
        http._expect(resp, 200)  # raises, naming the status
    crl = resp.content
    certs.revoked_at(ca, crl, ca)  # CertificateError unless the CA signed it
    write_atomic(folder / CRL_FILE, crl)
    return crl


def _still_good(
    folder: Path, ca: x509.Certificate, crl: bytes, key: ec.EllipticCurvePublicKey, names: str
) -> bool:
    """Whether the held certificate is this device's, from this CA, and not revoked. A revoked
    one is moved aside, so exports stop using it now."""
    path = folder / CHAIN_FILE
    if not path.is_file():
        return False
    try:
        leaf = certs.load_chain(path.read_bytes(), str(path))[0]
    except certs.CertificateError:
        return False
    device = certs.device_of(leaf)
    if certs.revoked_at(leaf, crl, ca) is not None:
        os.replace(path, path.with_name(CHAIN_FILE + REVOKED_SUFFIX))
        log.warning(
            "sync: the server revoked certificate %s; asking for another", leaf.serial_number
        )
        return False
    return (
        not certs.issued_by(leaf, ca)
        and leaf.public_key() == key
        and f"{device.device_id} {device.ledger_key_b64}" == names
    )


def ensure_certificate(
    http: RetryingHTTP,
    data_dir: Path,
    server_key: str,
    device_id: str,
    ledger_key_b64: str,
    cancel: CancelToken,
) -> str | None:
    """Check the CA, fetch the CRL, and get a certificate when this device needs one; returns
    the new certificate's serial, or None when nothing was issued. Raises SyncError or
    CertificateError when the server's answers cannot be trusted."""
    identity = load_identity(data_dir)  # the device's P-256 key, made on first use
    folder = Path(data_dir) / FOLDER
    if not _pinned_ca(http, folder, server_key, cancel):
        return None
    ca = certs.load_chain((folder / CA_FILE).read_bytes(), CA_FILE)[0]
    crl = _crl(http, folder, ca, cancel)
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SyncError(f"{folder}: the signing key is not an EC key")
    names = f"{device_id} {ledger_key_b64}"
    if _still_good(folder, ca, crl, key.public_key(), names):
        return None
    csr = certs.make_request(key).decode("ascii")
    body = http._expect(
        http._request("POST", "/v1/devices/certificate", cancel, json_body={"csr": csr}), 201
    )
    leaf = certs.load_chain(str(body["certificate"]).encode("utf-8"), "the certificate")[0]
    why = certs.issued_by(leaf, ca)
    if why:
        raise SyncError(f"the certificate the server issued is not its pinned CA's: {why}")
    if leaf.public_key() != key.public_key():
        raise SyncError("the certificate the server issued is not for this device's key")
    device = certs.device_of(leaf)
    if f"{device.device_id} {device.ledger_key_b64}" != names:
        raise SyncError(
            f"the certificate the server issued names the device {device.device_id} with the "
            f"ledger key {device.ledger_key_b64}, not this device ({device_id}, {ledger_key_b64})"
        )
    write_atomic(folder / CHAIN_FILE, certs.pem(leaf) + certs.pem(ca))
    log.info("sync: the server issued certificate %s for this device", leaf.serial_number)
    return str(leaf.serial_number)


def refresh_revocation(http: RetryingHTTP, data_dir: Path, cancel: CancelToken) -> bool:
    """After a sync that could not finish (a device whose token the server revoked cannot pull
    or push), still read the pinned CA's revocation list, which needs no token: a certificate
    the server revoked is put aside now, so exports stop being signed with it. True when one was
    put aside."""
    folder = Path(data_dir) / FOLDER
    pinned = folder / CA_FILE
    if not pinned.is_file():
        return False
    ca = certs.load_chain(pinned.read_bytes(), str(pinned))[0]
    crl = _crl(http, folder, ca, cancel)
    path = folder / CHAIN_FILE
    if not path.is_file():
        return False
    leaf = certs.load_chain(path.read_bytes(), str(path))[0]
    if certs.revoked_at(leaf, crl, ca) is None:
        return False
    os.replace(path, path.with_name(CHAIN_FILE + REVOKED_SUFFIX))
    log.warning("sync: the server revoked certificate %s; signing locally", leaf.serial_number)
    return True
