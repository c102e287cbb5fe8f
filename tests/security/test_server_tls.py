"""``musicapp-server serve --ssl-certfile/--ssl-keyfile`` serves the API over HTTPS (uvicorn's own
TLS), for a server run without a reverse proxy in front (docs/server-api.md)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from musicapp.server.cli import main as server_cli
from musicapp.testing.server_process import free_port


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def test_serve_speaks_https_with_the_given_certificate(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    port = free_port()
    cmd = [sys.executable, "-m", "musicapp.server.cli", "--data-dir", str(tmp_path / "server")]
    cmd += ["serve", "--port", str(port), "--ssl-certfile", str(cert), "--ssl-keyfile", str(key)]
    trust = ssl.create_default_context(cafile=str(cert))
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                r = httpx.get(f"https://127.0.0.1:{port}/v1/server-key", verify=trust)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.1)
        assert r.status_code == 200 and r.json()["public_key"]
        # Plain HTTP to the same port is not answered with the API.
        try:
            plain = httpx.get(f"http://127.0.0.1:{port}/v1/server-key", timeout=5)
            assert plain.status_code != 200
        except httpx.TransportError:
            pass
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def test_a_certificate_without_its_key_is_refused_in_one_line(tmp_path: Path, capsys) -> None:
    cert, _key = _self_signed(tmp_path)
    code = server_cli(["--data-dir", str(tmp_path / "s"), "serve", "--ssl-certfile", str(cert)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--ssl-keyfile" in err
