"""`verify --offline`: a third party with only the file and the rights server's CA certificate.

A small rights server is played here with its two keys (the Ed25519 log key that signs tree
heads, and the CA that certifies the device's C2PA key and names the log key) and a Merkle log
of the take's events, so every link of the chain can be checked and then broken. The same
chain against the real server process is in tests/server/test_receipts_in_file.py.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from musicapp.export import export_audio
from musicapp.export.c2pa_manifest import ManifestPlan, ManifestRequest
from musicapp.export.identity import load_identity
from musicapp.export.links import credits_of, links_of
from musicapp.export.offline import verify_offline
from musicapp.export.proofs import TAG, Proofs, build
from musicapp.ledger import Ledger
from musicapp.testing.file_mutations import (
    edit_one_sample,
    put_manifest,
    read_record,
    read_tag,
    set_record_share,
    set_tag,
    split_manifest,
)
from musicapp.transparency import certs, signing
from musicapp.transparency.merkle import inclusion_proof, leaf_hash, root
from musicapp.transparency.treehead import TreeHead

pytest.importorskip("c2pa")

FORMATS = (".wav", ".flac", ".mp3")
REFS = [
    {"song_id": "s1", "title": "Song A", "artist": "Composer", "share": 0.625, "level": "song"},
    {"song_id": "s2", "title": "Song B", "artist": "Band", "share": 0.375, "level": "song"},
]


@dataclass
class Server:
    """The rights server's keys and its log of the device's events."""

    log_key: signing.Ed25519PrivateKey
    ca_key: ec.EllipticCurvePrivateKey
    ca: object
    ca_path: Path


@dataclass
class World:
    data: Path
    ledger: Ledger
    server: Server
    proofs: Proofs
    attribution: dict


def _server(tmp_path: Path) -> Server:
    log_key = signing.generate_key()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certs.make_ca(ca_key, "musicapp rights server CA", signing.public_key_b64(log_key))
    # What a third party holds: the CA certificate, in a folder of its own.
    ca_path = tmp_path / "third-party" / "server-ca.pem"
    ca_path.parent.mkdir(parents=True)
    ca_path.write_bytes(certs.pem(ca))
    return Server(log_key, ca_key, ca, ca_path)


def _certify(data: Path, server: Server, device_id: str, ledger_key: str) -> int:
    """What the server does at registration: a certificate for the device's C2PA key."""
    identity = load_identity(data)  # the local identity: the device's own P-256 key
    key = certs.x509.load_pem_x509_certificate(identity.chain_pem).public_key()
    leaf = certs.issue(
        server.ca_key, server.ca, key, device_id=device_id, ledger_key_b64=ledger_key
    )
    (data / "c2pa" / "server-chain.pem").write_bytes(certs.pem(leaf) + certs.pem(server.ca))
    (data / "c2pa" / "server-ca.pem").write_bytes(certs.pem(server.ca))
    return int(leaf.serial_number)


@pytest.fixture
def world(tmp_path: Path):
    data = tmp_path / "device"
    server = _server(tmp_path)
    device_key = signing.generate_key()
    ledger_key = signing.public_key_b64(device_key)
    _certify(data, server, "device-1", ledger_key)
    with Ledger(data / "ledger.sqlite") as ledger:
        ver = ledger.append(
            "verification",
            {
                "use": "commercial",
                "allowed": True,
                "decisions": [
                    {
                        "reference": {"song_id": r["song_id"], "level": "song"},
                        "allowed": True,
                        "reasons": [],
                        "consent_versions": {"h1": 3},
                        "alternatives": [],
                    }
                    for r in REFS
                ],
            },
        )
        gen = ledger.append(
            "generation",
            {
                "verification_event_id": ver.id,
                "provenance": {
                    "engine": "concat",
                    "shares": [
                        {"reference": i, "song_id": r["song_id"], "share": r["share"]}
                        for i, r in enumerate(REFS)
                    ],
                },
            },
        )
        events = [ver, gen]
        leaves = [leaf_hash(bytes.fromhex(e.hash)) for e in events]
        head_root = root(leaves).hex()
        ts = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        sig = signing.sign(server.log_key, TreeHead.signed_bytes_of(2, head_root, ts))

        def receipt_of(seq: int) -> dict:
            i = seq - 1
            return {
                "tree_size": 2,
                "root": head_root,
                "timestamp": ts,
                "signature": sig,
                "leaf_index": i,
                "inclusion": [p.hex() for p in inclusion_proof(i, 2, leaves)],
                "event_hash": events[i].hash,
            }

        chain = (data / "c2pa" / "server-chain.pem").read_text()
        proofs = build(
            events,
            receipt_of,
            lambda h: signing.sign(device_key, bytes.fromhex(h)),
            "device-1",
            ledger_key,
            chain,
        )
        assert proofs is not None
        attribution = {
            "generation_event_id": gen.id,
            "verification_event_id": ver.id,
            "use": "commercial",
            "engine": "concat",
            "references": REFS,
            "rights_holders": [{"id": "h1", "name": "Composer", "share": 1.0}],
        }
        yield World(data, ledger, server, proofs, attribution)


def export(world: World, name: str, seed: int = 3) -> Path:
    audio = (0.2 * np.random.default_rng(seed).standard_normal((2, 44100))).astype(np.float32)
    out = world.data / name
    result = export_audio(
        audio,
        44100,
        out,
        dict(world.attribution),
        world.ledger,
        c2pa=ManifestRequest(world.data),
        proofs=world.proofs,
    )
    assert result.receipts == 2
    return out


@pytest.mark.parametrize("ext", FORMATS)
def test_a_clean_file_passes_offline_with_only_the_ca_certificate(world: World, ext: str) -> None:
    path = export(world, f"take{ext}")
    alone = world.server.ca_path.parent / path.name  # no ledger, no data folder beside it
    shutil.copyfile(path, alone)
    report = verify_offline(alone, world.server.ca_path)
    assert report.ok, report.failures
    assert report.offline and report.summary.startswith("OK (offline")
    states = {link.key: link.state for link in links_of(report)}
    assert states == {
        "file": "ok",
        "record": "ok",
        "c2pa": "ok",
        "ledger": "ok",  # the embedded events; the ledger itself is skipped
        "device": "ok",
        "receipt": "ok",
        "consent": "ok",
    }
    assert "issued" in report.check("c2pa").detail
    assert [(c.song_id, c.share) for c in credits_of(report)] == [("s1", 0.625), ("s2", 0.375)]
    assert any("export itself" in n for n in report.not_established)
    assert any("revoked: no revocation list" in n for n in report.not_established)


def _alter_receipt(path: Path) -> None:
    data = json.loads(read_tag(path, TAG))
    data["events"][1]["receipt"]["root"] = "ab" * 32
    set_tag(path, TAG, json.dumps(data))


def _mutations(world: World):
    elsewhere = world.data.parent / "someone-else"
    stranger = ManifestPlan(ManifestRequest(elsewhere), load_identity(elsewhere))

    def another_files(path: Path) -> None:
        other = export(world, f"other-{path.name}", seed=11)
        put_manifest(path, split_manifest(other)[1])

    return {
        "removed": (lambda p: p.write_bytes(split_manifest(p)[0]), "c2pa", "was removed"),
        "another": (another_files, "c2pa", "belongs to another file"),
        "audio": (edit_one_sample, "c2pa", "the audio was edited after signing"),
        "resigned": (
            lambda p: stranger.sign(p, p.suffix[1:], read_record(p), world.ledger, p.name),
            "c2pa",
            "re-signed with another key",
        ),
        "receipt": (_alter_receipt, "receipt", "not signed by the server's log key"),
        "tags": (lambda p: set_record_share(p, 0.9), "c2pa", "the tags and the manifest disagree"),
    }


def test_every_mutation_is_detected_offline_and_named(world: World) -> None:
    """The issue's rate: six mutations x three formats, 100 %, each with its message."""
    detected, total, missed = 0, 0, []
    for ext in FORMATS:
        for name, (mutate, check, words) in _mutations(world).items():
            path = export(world, f"{name}{ext}")
            mutate(path)
            report = verify_offline(path, world.server.ca_path)
            found = report.check(check)
            total += 1
            if not report.ok and found is not None and not found.ok and words in found.detail:
                detected += 1
            else:
                missed.append((ext, name, found))
    assert detected == total == 18, missed


def test_the_tags_claiming_more_than_the_logged_take_fail_the_event_check_too(
    world: World,
) -> None:
    path = export(world, "greedy.flac")
    set_record_share(path, 0.9)
    event = verify_offline(path, world.server.ca_path).check("event")
    assert event is not None and not event.ok
    assert "s1 has share 0.9 in the record, 0.625 in the logged take" in event.detail


def test_a_revoked_device_certificate_is_named(world: World, tmp_path: Path) -> None:
    path = export(world, "take.wav")
    serial = int(json.loads(read_tag(path, "MUSICAPP_C2PA"))["certificate_serial"])
    crl = tmp_path / "crl.pem"
    when = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
    crl.write_bytes(certs.make_crl(world.server.ca_key, world.server.ca, [(serial, when)]))
    report = verify_offline(path, world.server.ca_path, crl=crl)
    device = report.check("device")
    assert device is not None and not device.ok
    assert "revoked on 2026-11-30 12:00" in device.detail
    clean = certs.make_crl(world.server.ca_key, world.server.ca, [])
    crl.write_bytes(clean)
    assert verify_offline(path, world.server.ca_path, crl=crl).ok


def test_another_servers_ca_establishes_nothing(world: World, tmp_path: Path) -> None:
    path = export(world, "take.flac")
    other = _server(tmp_path / "other")
    report = verify_offline(path, other.ca_path)
    failed = {c.name for c in report.failures}
    assert {"c2pa", "device", "receipt"} <= failed
    assert "not issued by the rights server's CA" in report.check("device").detail


def test_a_file_signed_by_the_local_ca_is_not_passed_off_as_the_servers(world: World) -> None:
    (world.data / "c2pa" / "server-chain.pem").unlink()  # signed before the server certified
    local = load_identity(world.data).chain_pem.decode()
    world.proofs = replace(world.proofs, chain_pem=local)  # as Studio.export would carry it
    path = export(world, "take.wav")
    report = verify_offline(path, world.server.ca_path)
    c2pa = report.check("c2pa")
    assert c2pa is not None and not c2pa.ok
    assert "signed by the device's own local CA" in c2pa.detail
    device = report.check("device")
    assert device is not None and not device.ok and "self-asserted" in device.detail


def test_without_a_ca_nothing_about_the_signer_is_claimed(world: World) -> None:
    path = export(world, "take.flac")
    report = verify_offline(path)
    assert report.check("receipt").skipped and report.check("device").skipped
    assert any("no CA certificate given" in n for n in report.not_established)


def test_a_ca_file_that_is_not_a_certificate_is_named(world: World, tmp_path: Path) -> None:
    path = export(world, "take.flac")
    bad = tmp_path / "ca.pem"
    bad.write_text("hello")
    with pytest.raises(Exception, match=r"CA certificate .*ca\.pem: not a PEM certificate"):
        verify_offline(path, bad)
