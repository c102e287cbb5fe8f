"""The sync client gets the device's C2PA certificate from the rights server's CA (issue 17,
item 2), through the real server app in process: the CA is trusted only through the pinned
server key, pinned itself once stored, and what comes back is checked before it is used. A
failure here never fails the upload of events."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from musicapp.catalog.store import CatalogStore
from musicapp.config import Settings
from musicapp.export.identity import LOCAL_LABEL, SERVER_LABEL, load_identity
from musicapp.ledger import Ledger
from musicapp.sync import certificate
from musicapp.sync.engine import SyncEngine
from musicapp.sync.errors import SyncError
from musicapp.testing.server_helpers import Env
from musicapp.testing.sync_helpers import AppTransport
from musicapp.transparency import certs, signing

SERVER_URL = "https://rights.test"


@pytest.fixture
def app(tmp_path: Path):
    data_dir = tmp_path / "app"
    settings = Settings(data_dir=data_dir, models_dir=tmp_path / "models", device="cpu")
    settings.server_url = SERVER_URL
    catalog = CatalogStore(settings.catalog_path, settings.audio_dir)
    ledger = Ledger(settings.ledger_path)
    yield settings, catalog, ledger
    ledger.close()
    catalog.close()


def _engine(app, transport: httpx.BaseTransport) -> SyncEngine:
    settings, catalog, ledger = app
    return SyncEngine(settings, catalog, ledger, transport, sleep=lambda s: None)


def _server(env: Env) -> httpx.BaseTransport:
    return AppTransport(env.client)


def _rewriting(env: Env, path: str, answer) -> httpx.MockTransport:
    """The real server app in process, except that ``path`` is answered by
    ``answer(real_response)``."""
    inner = AppTransport(env.client)

    def handle(request: httpx.Request) -> httpx.Response:
        response = inner.handle_request(request)
        return answer(response) if request.url.path == path else response

    return httpx.MockTransport(handle)


def _folder(app) -> Path:
    return Path(app[0].data_dir) / "c2pa"


def _authority(env: Env) -> x509.Certificate:
    return x509.load_pem_x509_certificate(env.get("/v1/ca", None).json()["certificate"].encode())


def _a_ca(log_key: str, signer: signing.Ed25519PrivateKey) -> httpx.Response:
    """A CA certificate naming ``log_key``, its DER signed by ``signer``, as /v1/ca answers."""
    cert = certs.make_ca(ec.generate_private_key(ec.SECP256R1()), "another CA", log_key)
    der = cert.public_bytes(serialization.Encoding.DER)
    body = {
        "certificate": certs.pem(cert).decode(),
        "log_key": log_key,
        "signature": signing.sign(signer, der),
    }
    return httpx.Response(200, json=body)


def test_after_a_sync_exports_are_signed_with_a_certificate_the_server_issued(env, app) -> None:
    settings, _, ledger = app
    ledger.append("verification", {"i": 1})
    engine = _engine(app, _server(env))
    result = engine.sync_once()
    assert result.pushed == 1 and engine.status().last_error is None

    identity = load_identity(settings.data_dir)
    assert identity.kind == "server" and identity.label == SERVER_LABEL
    leaf, held_ca = certs.load_chain(identity.chain_pem, "chain")
    assert held_ca == _authority(env) and certs.issued_by(leaf, held_ca) == ""
    names = certs.device_of(leaf)
    assert names.device_id == engine.state.get("device_id")
    assert names.ledger_key_b64 == engine.key.public_key_b64
    folder = _folder(app)
    for name in (certificate.CA_FILE, certificate.CHAIN_FILE, certificate.CRL_FILE):
        assert (folder / name).stat().st_mode & 0o777 == 0o644, name
    assert (folder / "device.key").stat().st_mode & 0o777 == 0o600
    # The same device asks once: a second sync keeps its certificate.
    engine.sync_once()
    assert load_identity(settings.data_dir).serial == identity.serial

    pytest.importorskip("c2pa")
    from musicapp.export import export_audio, verify_file
    from musicapp.export.c2pa_manifest import ManifestRequest

    audio = (0.3 * np.random.default_rng(3).standard_normal((2, 16000))).astype(np.float32)
    attribution = {"generation_event_id": "gen-1", "use": "private", "engine": "concat"}
    out = Path(settings.data_dir) / "take.wav"
    done = export_audio(
        audio, 32000, out, attribution, ledger, c2pa=ManifestRequest(settings.data_dir)
    )
    assert done.c2pa == f"C2PA manifest signed, {SERVER_LABEL}"
    report = verify_file(out, ledger)
    check = report.check("c2pa")
    assert check is not None and check.ok and SERVER_LABEL in check.detail, check


def test_a_ca_naming_another_log_key_is_refused_and_the_upload_still_happens(env, app) -> None:
    settings, _, ledger = app
    ledger.append("verification", {"i": 1})
    other = signing.generate_key()
    forged = _rewriting(env, "/v1/ca", lambda _r: _a_ca(signing.public_key_b64(other), other))
    engine = _engine(app, forged)
    assert engine.sync_once().pushed == 1  # the events are up all the same
    error = engine.status().last_error
    assert error is not None and "names the log key" in error and "pinned" in error
    assert load_identity(settings.data_dir).kind == "local"
    assert load_identity(settings.data_dir).label == LOCAL_LABEL
    assert not (_folder(app) / certificate.CA_FILE).exists()


def test_a_ca_naming_the_pinned_key_without_its_signature_is_refused(env, app) -> None:
    pinned = signing.public_key_b64(env.server.key)
    anyone = signing.generate_key()  # claims the server's key in its SAN, cannot sign as it
    engine = _engine(app, _rewriting(env, "/v1/ca", lambda _r: _a_ca(pinned, anyone)))
    engine.sync_once()
    assert "not signed by the pinned server key" in (engine.status().last_error or "")
    assert load_identity(app[0].data_dir).kind == "local"


def test_once_pinned_another_ca_of_the_same_server_is_refused(env, app) -> None:
    engine = _engine(app, _server(env))
    engine.sync_once()
    held = (_folder(app) / certificate.CHAIN_FILE).read_bytes()
    pinned = signing.public_key_b64(env.server.key)
    # Even one the server's own key signed: a CA, once pinned, changes only with a start over.
    swapped = _engine(app, _rewriting(env, "/v1/ca", lambda _r: _a_ca(pinned, env.server.key)))
    swapped.sync_once()
    assert "CA certificate changed" in (swapped.status().last_error or "")
    assert (_folder(app) / certificate.CHAIN_FILE).read_bytes() == held


def test_a_certificate_for_another_key_is_refused(env, app) -> None:
    def other_key(response: httpx.Response) -> httpx.Response:
        body = response.json()
        authority = _authority(env)
        stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
        leaf = certs.load_chain(body["certificate"].encode(), "c")[0]
        names = certs.device_of(leaf)
        forged = certs.issue(
            env.server.ca.key, authority, stranger,
            device_id=names.device_id, ledger_key_b64=names.ledger_key_b64,
        )  # fmt: skip
        body["certificate"] = certs.pem(forged).decode()
        return httpx.Response(201, json=body)

    engine = _engine(app, _rewriting(env, "/v1/devices/certificate", other_key))
    engine.sync_once()
    assert "not for this device's key" in (engine.status().last_error or "")
    assert load_identity(app[0].data_dir).kind == "local"


def test_a_revoked_certificate_is_put_aside_and_replaced_on_the_next_sync(env, app) -> None:
    engine = _engine(app, _server(env))
    engine.sync_once()
    first = load_identity(app[0].data_dir).serial
    r = env.post(f"/v1/certificates/{first}/revoke", env.admin, {"reason": "lost laptop"})
    assert r.status_code == 200
    engine.sync_once()
    assert engine.status().last_error is None
    second = load_identity(app[0].data_dir)
    assert second.kind == "server" and second.serial != first
    crl = (_folder(app) / certificate.CRL_FILE).read_bytes()
    leaf = certs.load_chain(second.chain_pem, "chain")[0]
    assert certs.revoked_at(leaf, crl, _authority(env)) is None
    kept = (_folder(app) / (certificate.CHAIN_FILE + certificate.REVOKED_SUFFIX)).read_bytes()
    assert str(certs.load_chain(kept, "old")[0].serial_number) == first


def test_a_device_whose_token_is_revoked_stops_signing_with_its_certificate(env, app) -> None:
    """Revoking the device's token revokes its certificates; its next sync fails (401), but it
    still reads the CRL and puts the certificate aside: exports are self-asserted again."""
    engine = _engine(app, _server(env))
    engine.sync_once()
    assert load_identity(app[0].data_dir).kind == "server"
    device_id = engine.state.get("device_id")
    r = env.post(f"/v1/accounts/{device_id}/revoke", env.admin, {})
    assert r.status_code == 200, r.text
    with pytest.raises(SyncError):
        engine.sync_once()
    assert load_identity(app[0].data_dir).kind == "local"
    assert (_folder(app) / (certificate.CHAIN_FILE + certificate.REVOKED_SUFFIX)).is_file()


def test_a_server_without_a_ca_leaves_the_local_identity_and_no_error(app, server) -> None:
    engine = _engine(app, server.transport())  # musicapp.testing.fake_server: no /v1/ca
    engine.sync_once()
    assert engine.status().last_error is None
    assert load_identity(app[0].data_dir).kind == "local"
