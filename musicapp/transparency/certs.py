"""X.509 for C2PA signing: the certificates the rights server's small CA issues, and their checks.

Pure code (the ``cryptography`` library), shared by the server, which issues and revokes, and
by the app, which signs with what it was issued and checks files offline.

- The server's **CA certificate** (ECDSA P-256, what C2PA's es256 needs) names, in a
  subjectAltName URI ``urn:musicapp:log-key:<base64>``, the Ed25519 key that signs the
  server's tree heads. So the CA certificate alone is enough to check a file offline: its
  signature chain and its receipts.
- A **device certificate** certifies the device's P-256 signing key. Its subjectAltName URIs
  name the device (``urn:musicapp:device:<id>``) and the Ed25519 key it signs ledger events
  with (``urn:musicapp:ledger-key:<base64>``): the link from a signed file to the device's
  signature on the events in the server's log. It is what C2PA asks of a signing certificate:
  digitalSignature, the emailProtection extended key usage, key identifiers linking it to its
  issuer.
- A **CRL** lists the serials the server revoked; ``revoked_at`` reads it.
- A **certificate request** (CSR) is how a device asks for its certificate: it carries the
  device's public key and is signed by its private key, which never leaves the device
  (``make_request``; the server checks it with ``request_key``).

The local CA a device makes without a server (``export/identity.py``) uses the same builders,
without the URIs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOG_KEY_URI = "urn:musicapp:log-key:"
DEVICE_URI = "urn:musicapp:device:"
LEDGER_KEY_URI = "urn:musicapp:ledger-key:"
# C2PA readers check a signing certificate against the time they read, unless a time-stamp
# authority countersigned; there is none offline, so the certificates outlive the files' use.
CA_YEARS = 30
DEVICE_YEARS = 25
CRL_DAYS = 7  # how long a published CRL is current
MAX_REQUEST = 4096  # characters of a PEM certificate request (a P-256 one is about 500)


class CertificateError(ValueError):
    """A certificate, request or CRL that cannot be used; the message says which and why."""


def name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "musicapp"),
        ]
    )


def _usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _start() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(days=1)  # tolerate a clock a little behind


def make_ca(
    key: ec.EllipticCurvePrivateKey, common_name: str, log_key_b64: str | None = None
) -> x509.Certificate:
    """A self-signed CA certificate for ``key``; with ``log_key_b64`` it names the server's
    tree-head key."""
    subject = name(common_name)
    now = _start()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if log_key_b64:
        uri = x509.UniformResourceIdentifier(LOG_KEY_URI + log_key_b64)
        builder = builder.add_extension(x509.SubjectAlternativeName([uri]), False)
    return builder.sign(key, hashes.SHA256())


def issue(
    ca_key: ec.EllipticCurvePrivateKey,
    ca: x509.Certificate,
    public_key: ec.EllipticCurvePublicKey,
    common_name: str = "musicapp device",
    *,
    device_id: str | None = None,
    ledger_key_b64: str | None = None,
    serial: int | None = None,
) -> x509.Certificate:
    """A signing certificate for ``public_key`` issued by ``ca`` (see the module docstring)."""
    now = _start()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(common_name))
        .issuer_name(ca.subject)
        .public_key(public_key)
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365 * DEVICE_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True, ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
    )
    uris = []
    if device_id:
        uris.append(x509.UniformResourceIdentifier(DEVICE_URI + device_id))
    if ledger_key_b64:
        uris.append(x509.UniformResourceIdentifier(LEDGER_KEY_URI + ledger_key_b64))
    if uris:
        builder = builder.add_extension(x509.SubjectAlternativeName(uris), False)
    return builder.sign(ca_key, hashes.SHA256())


def load_chain(data: bytes, what: str) -> list[x509.Certificate]:
    """The certificates of a PEM file or field, in order; CertificateError naming ``what``."""
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise CertificateError(f"{what}: not a PEM certificate ({exc})") from None
    if not certs:
        raise CertificateError(f"{what}: holds no certificate")
    return certs


def _uri(cert: x509.Certificate, prefix: str) -> str | None:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for uri in san.get_values_for_type(x509.UniformResourceIdentifier):
        if uri.startswith(prefix):
            return uri[len(prefix) :]
    return None


def log_key_of(ca: x509.Certificate) -> str | None:
    """The base64 Ed25519 tree-head key a server CA certificate names, or None."""
    return _uri(ca, LOG_KEY_URI)


@dataclass(frozen=True)
class DeviceNames:
    """What a device certificate says about its device (None where it says nothing)."""

    device_id: str | None
    ledger_key_b64: str | None


def device_of(cert: x509.Certificate) -> DeviceNames:
    return DeviceNames(_uri(cert, DEVICE_URI), _uri(cert, LEDGER_KEY_URI))


def issued_by(cert: x509.Certificate, ca: x509.Certificate, when: dt.datetime | None = None) -> str:
    """ "" if ``ca`` signed ``cert`` and both are valid at ``when`` (default now), else why not."""
    when = when or dt.datetime.now(dt.UTC)
    if cert.issuer != ca.subject:
        return f"issued by {cert.issuer.rfc4514_string()}, not by {ca.subject.rfc4514_string()}"
    public = ca.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or cert.signature_hash_algorithm is None:
        return "the CA's key is not an ECDSA key"
    try:
        public.verify(
            cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)
        )
    except InvalidSignature:
        return f"its signature is not the CA's ({ca.subject.rfc4514_string()})"
    for c, label in ((cert, "the certificate"), (ca, "the CA certificate")):
        if not c.not_valid_before_utc <= when <= c.not_valid_after_utc:
            return (
                f"{label} is valid from {c.not_valid_before_utc:%Y-%m-%d} to "
                f"{c.not_valid_after_utc:%Y-%m-%d}, not on {when:%Y-%m-%d}"
            )
    return ""


def make_crl(
    ca_key: ec.EllipticCurvePrivateKey,
    ca: x509.Certificate,
    revoked: list[tuple[int, dt.datetime]],
    now: dt.datetime | None = None,
) -> bytes:
    """A PEM CRL of ``(serial, revoked at)``, signed by the CA, current for ``CRL_DAYS``."""
    now = now or dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now)
        .next_update(now + dt.timedelta(days=CRL_DAYS))
    )
    for serial, when in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        builder = builder.add_revoked_certificate(entry)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def revoked_at(cert: x509.Certificate, crl_pem: bytes, ca: x509.Certificate) -> dt.datetime | None:
    """When ``cert`` was revoked according to the CA's CRL, or None if it is not on it;
    CertificateError when the CRL cannot be read or is not the CA's."""
    try:
        crl = x509.load_pem_x509_crl(crl_pem)
    except ValueError as exc:
        raise CertificateError(f"the CRL cannot be read ({exc})") from None
    public = ca.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or not crl.is_signature_valid(public):
        raise CertificateError("the CRL is not signed by the CA")
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    return None if entry is None else entry.revocation_date_utc


def make_request(key: ec.EllipticCurvePrivateKey, common_name: str = "musicapp device") -> bytes:
    """A PEM certificate request for ``key``'s public half, signed by ``key`` (which stays)."""
    csr = x509.CertificateSigningRequestBuilder().subject_name(name(common_name))
    return csr.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def request_key(data: bytes, what: str = "csr") -> ec.EllipticCurvePublicKey:
    """The P-256 public key of a PEM certificate request whose signature is its own key's.

    CertificateError naming ``what`` otherwise: without the signature check anyone could get
    a certificate for a key they do not hold; another curve or an RSA key is no use to C2PA's
    es256, the one algorithm the app signs with."""
    if len(data) > MAX_REQUEST:
        raise CertificateError(f"{what}: {len(data)} bytes, more than a request ({MAX_REQUEST})")
    try:
        csr = x509.load_pem_x509_csr(data)
    except ValueError as exc:
        raise CertificateError(f"{what}: not a PEM certificate request ({exc})") from None
    try:
        public = csr.public_key()
    except (ValueError, TypeError) as exc:  # an algorithm the library cannot load
        raise CertificateError(f"{what}: its public key cannot be read ({exc})") from None
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(
        public.curve, ec.SECP256R1
    ):
        if isinstance(public, ec.EllipticCurvePublicKey):
            kind = f"one on the curve {public.curve.name}"
        else:
            kind = "a key of type " + type(public).__name__.lstrip("_").removesuffix("PublicKey")
        raise CertificateError(f"{what}: the key must be an EC P-256 key (es256), not {kind}")
    if not csr.is_signature_valid:
        raise CertificateError(f"{what}: its signature is not made by its own key")
    return public


def fingerprint(public: ec.EllipticCurvePublicKey) -> str:
    """SHA-256 hex of the key's SubjectPublicKeyInfo: how the server's table names a key."""
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()
