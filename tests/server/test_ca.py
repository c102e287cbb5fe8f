"""The rights server's certificate authority (issue 17, item 2): a device gets a certificate for
its signing key from a request signed with that key; certificates are revoked (superseded, by an
admin, with the device's token) and the CRL signed by the CA says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from musicapp.server import ca
from musicapp.server.app import open_server
from musicapp.server.cli import main as server_cli
from musicapp.server.settings import ServerSettings
from musicapp.testing.server_helpers import Env
from musicapp.transparency import certs, signing


def _csr(key=None) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    return certs.make_request(key).decode("ascii")


def _ask(env: Env, token: str | None, csr: str):
    return env.post("/v1/devices/certificate", token, {"csr": csr})


def _ca(env: Env) -> x509.Certificate:
    body = env.get("/v1/ca", None).json()
    return x509.load_pem_x509_certificate(body["certificate"].encode())


def _crl_serials(env: Env) -> set[int]:
    r = env.get("/v1/ca/crl", None)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-pem-file")
    return {e.serial_number for e in x509.load_pem_x509_crl(r.content)}


def test_the_ca_names_the_log_key_and_the_log_key_signs_it(env: Env) -> None:
    body = env.get("/v1/ca", None).json()
    authority = x509.load_pem_x509_certificate(body["certificate"].encode())
    server_key = env.get("/v1/server-key", None).json()["public_key"]
    assert certs.log_key_of(authority) == body["log_key"] == server_key
    der = authority.public_bytes(serialization.Encoding.DER)
    assert signing.verify(server_key, der, body["signature"])
    folder = env.server.settings.data_dir
    assert (folder / "server_ca.key").stat().st_mode & 0o777 == 0o600


def test_a_device_gets_a_certificate_naming_it_and_its_ledger_key(env: Env) -> None:
    device = env.device()
    key = ec.generate_private_key(ec.SECP256R1())
    r = _ask(env, device.token, _csr(key))
    assert r.status_code == 201, r.text
    body = r.json()
    leaf, authority = certs.load_chain(body["chain"].encode(), "chain")
    assert (
        certs.pem(leaf).decode() == body["certificate"]
        and str(leaf.serial_number) == body["serial"]
    )
    assert authority == _ca(env)
    assert certs.issued_by(leaf, authority) == ""
    assert leaf.public_key() == key.public_key()
    names = certs.device_of(leaf)
    assert names.device_id == device.id
    assert names.ledger_key_b64 == signing.public_key_b64(device.key)
    assert body["serial"] not in {str(s) for s in _crl_serials(env)}


def _tampered_signature() -> str:
    csr = x509.load_pem_x509_csr(_csr().encode())
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the signature's integers
    other = x509.load_der_x509_csr(bytes(der))
    return other.public_bytes(serialization.Encoding.PEM).decode()


def _rsa() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    builder = x509.CertificateSigningRequestBuilder().subject_name(certs.name("d"))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (_tampered_signature, "signature"),
        (_rsa, "not a key of type RSA"),
        (lambda: _csr(ec.generate_private_key(ec.SECP384R1())), "secp384r1"),
        (lambda: "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n", "not a PEM"),
        (lambda: "hello", "not a PEM"),
        (lambda: "A" * (certs.MAX_REQUEST + 1), "at most"),
    ],
    ids=["bad-signature", "rsa", "p384", "garbage-pem", "garbage", "too-large"],
)
def test_a_request_that_is_not_a_usable_one_is_refused_naming_csr(env: Env, make, said) -> None:
    device = env.device()
    r = _ask(env, device.token, make())
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("csr") and said in detail, detail
    assert env.get("/v1/certificates", env.admin).json()["certificates"] == []


def test_only_a_device_with_a_token_gets_a_certificate(env: Env) -> None:
    assert _ask(env, None, _csr()).status_code == 401
    assert _ask(env, "not-a-token", _csr()).status_code == 401
    r = _ask(env, env.ann, _csr())  # a holder account has no device key to certify
    assert r.status_code == 403
    device = env.device()
    assert env.post(f"/v1/accounts/{device.id}/revoke", env.admin, {}).status_code == 200
    assert _ask(env, device.token, _csr()).status_code == 401


def test_asking_again_supersedes_and_the_crl_says_so(env: Env) -> None:
    device = env.device()
    first = _ask(env, device.token, _csr()).json()["serial"]
    second = _ask(env, device.token, _csr()).json()["serial"]
    assert first != second
    listed = env.get("/v1/certificates", env.admin, device_id=device.id).json()
    reasons = {c["serial"]: c["reason"] for c in listed["certificates"]}
    assert reasons == {first: ca.SUPERSEDED, second: None}
    assert _crl_serials(env) == {int(first)}
    # The CRL is the CA's: certs.revoked_at checks its signature.
    leaf = certs.load_chain(_ask(env, device.token, _csr()).json()["chain"].encode(), "c")[0]
    crl = env.get("/v1/ca/crl", None).content
    assert certs.revoked_at(leaf, crl, _ca(env)) is None
    with pytest.raises(certs.CertificateError, match="not signed by the CA"):
        other = ec.generate_private_key(ec.SECP256R1())
        certs.revoked_at(leaf, crl, certs.make_ca(other, ca.CA_NAME))


def test_an_admin_revokes_a_certificate_and_a_revoked_token_revokes_them_all(env: Env) -> None:
    device, other = env.device(), env.device()
    serial = _ask(env, device.token, _csr()).json()["serial"]
    kept = _ask(env, other.token, _csr()).json()["serial"]
    path = f"/v1/certificates/{serial}/revoke"
    assert env.post(path, device.token, {}).status_code == 403  # admins only
    r = env.post(path, env.admin, {"reason": "key compromise"})
    assert r.status_code == 200 and r.json()["reason"] == "key compromise"
    assert env.post(path, env.admin, {}).status_code == 409
    assert env.post("/v1/certificates/12345/revoke", env.admin, {}).status_code == 404
    bad = env.post("/v1/certificates/12x/revoke", env.admin, {})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("serial")
    assert _crl_serials(env) == {int(serial)}

    fresh = _ask(env, device.token, _csr()).json()["serial"]
    assert env.post(f"/v1/accounts/{device.id}/revoke", env.admin, {}).status_code == 200
    assert _crl_serials(env) == {int(serial), int(fresh)}
    assert int(kept) not in _crl_serials(env)


def _cli(env: Env, *args: str, capsys) -> tuple[int, str]:
    settings = env.server.settings
    extra = ["--database-url", settings.database_url] if settings.database_url else []
    code = server_cli(["--data-dir", str(settings.data_dir), *extra, *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_admin_cli_lists_and_revokes_certificates(env: Env, capsys) -> None:
    device = env.device()
    serial = _ask(env, device.token, _csr()).json()["serial"]
    code, out = _cli(env, "certificate", "list", "--device", device.id, capsys=capsys)
    assert code == 0 and [c["serial"] for c in json.loads(out)] == [serial]
    code, out = _cli(env, "certificate", "revoke", serial, "--reason", "lost", capsys=capsys)
    assert code == 0 and json.loads(out)["reason"] == "lost"
    assert _crl_serials(env) == {int(serial)}
    code, out = _cli(env, "certificate", "revoke", serial, capsys=capsys)
    assert code == 2 and "serial" in out and "revoked at" in out


def test_a_ca_naming_another_log_key_refuses_the_start(tmp_path: Path) -> None:
    settings = ServerSettings(data_dir=tmp_path / "server")
    open_server(settings).close()
    authority = settings.ca_cert_path.read_bytes()
    settings.key_path.unlink()  # a new log key beside the old CA
    with pytest.raises(ca.CAError, match="names the log key") as caught:
        open_server(settings)
    assert str(settings.ca_cert_path) in str(caught.value)
    assert settings.ca_cert_path.read_bytes() == authority  # nothing rewritten
