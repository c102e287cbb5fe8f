"""The checks of the receipts a file carries (``proofs.py``), with the rights server's CA only.

Four checks, the last links of the chain a Verify window shows:

- ``event``: each embedded ledger event hashes to its recorded hash; they are the events the
  file's record names (its generation and verification), the one names the other, and the
  record's shares are the logged take's.
- ``device``: the device's certificate chains to the server's CA, names the device and the
  Ed25519 key the events are signed with, is the one the C2PA manifest was signed with, and is
  not on the CA's revocation list (when one is at hand); each event's signature verifies.
- ``receipt``: each event's inclusion proof leads from its hash to a tree head the server's log
  key signed (the CA certificate names that key).
- ``consent``: the consent versions the verification relied on, and that they permitted every
  reference for the record's use.

What the receipts cannot show is said in ``not_established`` rather than passed or failed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from musicapp.core import InvalidInput
from musicapp.core.provenance import Provenance
from musicapp.export.c2pa_manifest import NOTE_TAG
from musicapp.export.identity import FOLDER
from musicapp.export.proofs import Proofs, ProofsError, Proven, parse
from musicapp.export.report import Check, skipped
from musicapp.ledger.kinds import GENERATION, VERIFICATION
from musicapp.transparency import certs, signing
from musicapp.transparency.merkle import leaf_hash, verify_inclusion
from musicapp.transparency.treehead import TreeHead

SERVER_CA = "server-ca.pem"
SERVER_CRL = "server-crl.pem"


@dataclass(frozen=True)
class Anchor:
    """What a verifier trusts: the rights server's CA certificate (None: none at hand) and,
    if at hand, its revocation list (PEM)."""

    ca: x509.Certificate | None
    crl_pem: bytes | None = None
    name: str = "the rights server's CA"


@dataclass
class ProofReport:
    checks: list[Check] = field(default_factory=list)
    not_established: list[str] = field(default_factory=list)


def _kinds(proofs: Proofs) -> dict[str, Proven]:
    return {p.event.kind: p for p in proofs.events}


def _shares(record: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for ref in record.get("references") or []:
        if isinstance(ref, Mapping) and isinstance(ref.get("share"), int | float):
            sid = str(ref.get("song_id"))
            out[sid] = out.get(sid, 0.0) + float(ref["share"])
    return out


def _check_events(proofs: Proofs, record: Mapping[str, Any], report: ProofReport) -> Check:
    problems = []
    for p in proofs.events:
        if p.event.computed_hash() != p.event.hash:
            problems.append(
                f"the {p.event.kind} event (seq {p.event.seq}) was edited: its contents do not "
                "hash to its recorded hash"
            )
    kinds = _kinds(proofs)
    gen, ver = kinds.get(GENERATION), kinds.get(VERIFICATION)
    wanted = record.get("generation_event_id")
    if gen is None or gen.event.id != wanted:
        carried = ", ".join(f"{p.event.kind} {p.event.id}" for p in proofs.events)
        return Check(
            "event",
            False,
            f"the receipts are for other events: the record names generation {wanted}, "
            f"the file carries {carried}",
        )
    if ver is not None and gen.event.payload.get("verification_event_id") != ver.event.id:
        problems.append("the generation event names another verification than the one carried")
    if ver is not None and ver.event.id != record.get("verification_event_id"):
        problems.append(
            f"the record names verification {record.get('verification_event_id')}, "
            f"the file carries {ver.event.id}"
        )
    try:
        logged = Provenance.from_dict(gen.event.payload["provenance"]).song_shares()
    except (KeyError, TypeError, ValueError):
        logged = None
    mine = _shares(record)
    if logged is None:
        problems.append("the generation event holds no readable provenance")
    else:
        for sid in sorted(set(logged) | set(mine)):
            a, b = mine.get(sid, 0.0), logged.get(sid, 0.0)
            if abs(a - b) > 1e-6:
                problems.append(f"{sid} has share {a:g} in the record, {b:g} in the logged take")
    if problems:
        return Check("event", False, "; ".join(problems[:5]))
    audio = gen.event.payload.get("pcm_sha256")
    if audio and audio == record.get("pcm_sha256"):
        same = "; the audio is the logged take's, sample for sample"
    else:
        same = ""
        report.not_established.append(
            "that the audio is the logged take's sample for sample: the export is "
            f"{record.get('pcm_format') or record.get('format')}, the take "
            f"{gen.event.payload.get('pcm_format') or 'another encoding'} (the device's "
            "signature ties them)"
        )
    return Check(
        "event",
        True,
        f"{len(proofs.events)} ledger event(s) intact: generation {gen.event.id} "
        f"(seq {gen.event.seq}, {gen.event.ts}) with the record's shares{same}",
    )


def _check_device(proofs: Proofs, note: Mapping[str, Any], anchor: Anchor, strict: bool) -> Check:
    try:
        chain = certs.load_chain(proofs.chain_pem.encode("ascii"), "the device's certificate")
    except (certs.CertificateError, UnicodeEncodeError) as exc:
        return Check("device", False, str(exc))
    leaf = chain[0]
    problems = []
    if str(leaf.serial_number) != str(note.get("certificate_serial")):
        problems.append(
            f"the certificate carried (serial {leaf.serial_number}) is not the one the C2PA "
            f"manifest names ({note.get('certificate_serial')})"
        )
    names = certs.device_of(leaf)
    self_asserted = names.ledger_key_b64 is None
    if not self_asserted and (names.device_id, names.ledger_key_b64) != (
        proofs.device_id,
        proofs.ledger_key,
    ):
        problems.append(
            f"the certificate names device {names.device_id}, the receipts {proofs.device_id}"
        )
    for p in proofs.events:
        try:
            good = signing.verify(proofs.ledger_key, bytes.fromhex(p.event.hash), p.signature)
        except (signing.SigningError, ValueError):
            good = False
        if not good:
            problems.append(f"the device's signature on the {p.event.kind} event does not verify")
    if self_asserted:
        unproven = (
            "the device's certificate is self-asserted (its own local CA): no rights server "
            "certified the key its events are signed with"
        )
        if strict and anchor.ca is not None:
            problems.append(unproven)
        elif not problems:
            return skipped("device", f"skipped: {unproven}")
    if anchor.ca is None or problems:
        if problems:
            return Check("device", False, "; ".join(problems))
        return skipped("device", "skipped: no CA certificate at hand to check the device's")
    issued = certs.issued_by(leaf, anchor.ca)
    if issued and names.ledger_key_b64 is not None:
        problems.append(f"the device's certificate was not issued by {anchor.name}: {issued}")
    if anchor.crl_pem is not None and not issued:
        try:
            when = certs.revoked_at(leaf, anchor.crl_pem, anchor.ca)
        except certs.CertificateError as exc:
            problems.append(str(exc))
        else:
            if when is not None:
                problems.append(f"the device's certificate was revoked on {when:%Y-%m-%d %H:%M}")
    if problems:
        return Check("device", False, "; ".join(problems))
    return Check(
        "device",
        True,
        f"device {proofs.device_id}, certified by {anchor.name}, signed "
        f"{len(proofs.events)} event(s)",
    )


def _check_receipts(proofs: Proofs, anchor: Anchor) -> Check:
    if anchor.ca is None:
        return skipped("receipt", "skipped: no CA certificate at hand, so no server key")
    log_key = certs.log_key_of(anchor.ca)
    if log_key is None:
        return Check("receipt", False, "the CA certificate names no log key to check receipts")
    told, problems = [], []
    for p in proofs.events:
        r, what = p.receipt, f"the {p.event.kind} event's receipt"
        try:
            head = TreeHead(int(r["tree_size"]), str(r["root"]), str(r["timestamp"]), "")
            proof = [bytes.fromhex(h) for h in r["inclusion"]]
            index = int(r["leaf_index"])
            signed = signing.verify(log_key, head.signed_bytes(), str(r["signature"]))
            included = verify_inclusion(
                leaf_hash(bytes.fromhex(p.event.hash)),
                index,
                head.tree_size,
                proof,
                bytes.fromhex(head.root),
            )
        except (KeyError, TypeError, ValueError, signing.SigningError) as exc:
            problems.append(f"{what} cannot be read ({type(exc).__name__}: {exc})")
            continue
        if not signed:
            problems.append(f"{what}: its tree head is not signed by the server's log key")
        elif not included:
            problems.append(f"{what}: its inclusion proof does not lead to the signed root")
        else:
            told.append(f"{p.event.kind} at {index} of {head.tree_size} ({head.timestamp})")
    if problems:
        return Check("receipt", False, "; ".join(problems))
    return Check("receipt", True, "in the server's signed log: " + "; ".join(told))


def _check_consent(proofs: Proofs, record: Mapping[str, Any], report: ProofReport) -> Check:
    ver = _kinds(proofs).get(VERIFICATION)
    if ver is None:
        return Check("consent", False, "the file carries no verification event to read it from")
    payload = ver.event.payload
    decisions = [d for d in payload.get("decisions") or [] if isinstance(d, Mapping)]
    refused = [d for d in decisions if not d.get("allowed")]
    told = []
    for d in decisions:
        raw = d.get("reference")
        ref: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        versions = ", ".join(
            f"{h} v{v}" for h, v in sorted((d.get("consent_versions") or {}).items())
        )
        told.append(f"{ref.get('song_id')} ({ref.get('level')}): {versions or 'no holder'}")
    report.not_established.append(
        f"whether any of these consents was withdrawn after {ver.event.ts}: only the rights "
        "server's consent registry can say"
    )
    if not payload.get("allowed") or refused:
        why = "; ".join(", ".join(d.get("reasons") or []) for d in refused) or "refused"
        return Check("consent", False, f"the verification refused this request: {why}")
    if payload.get("use") != record.get("use"):
        return Check(
            "consent",
            False,
            f"consent was verified for {payload.get('use')} use, the record says {record.get('use')}",
        )
    return Check(
        "consent",
        True,
        f"permitted for {payload.get('use')} use at {ver.event.ts}: " + "; ".join(told),
    )


def load_anchor(ca: Path | None, crl: Path | None, data_dir: Path | None) -> Anchor:
    """The CA certificate (and CRL) to check with: the given files, else the ones this device
    pinned in ``data_dir``; InvalidInput naming a given file that is not one."""
    folder = Path(data_dir) / FOLDER if data_dir is not None else None
    if ca is None and folder is not None and (folder / SERVER_CA).is_file():
        ca = folder / SERVER_CA
    if crl is None and ca is not None and folder is not None and (folder / SERVER_CRL).is_file():
        crl = folder / SERVER_CRL
    cert = None
    if ca is not None:
        try:
            cert = certs.load_chain(Path(ca).read_bytes(), f"CA certificate {ca}")[-1]
        except OSError as exc:
            raise InvalidInput(
                f"CA certificate {ca}: cannot be read ({exc.strerror or exc})"
            ) from None
        except certs.CertificateError as exc:
            raise InvalidInput(str(exc)) from None
    crl_pem = None
    if crl is not None:
        try:
            crl_pem = Path(crl).read_bytes()
            x509.load_pem_x509_crl(crl_pem)
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"revocation list {crl}: cannot be read ({exc})") from None
    return Anchor(cert, crl_pem, _anchor_name(cert))


def _anchor_name(cert: x509.Certificate | None) -> str:
    if cert is None:
        return "the rights server's CA"
    names = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    if not names:
        return "the rights server's CA"
    value = names[0].value
    return f"the rights server's CA ({value if isinstance(value, str) else value.decode()})"


def note_of(tags: Mapping[str, Any]) -> dict[str, Any]:
    """The MUSICAPP_C2PA note among ``tags``, or {} when there is none to read."""
    try:
        note = json.loads(str(tags.get(NOTE_TAG) or "{}"))
    except ValueError:
        return {}
    return note if isinstance(note, dict) else {}


def check_proofs(
    text: Any,
    record: Mapping[str, Any] | None,
    note: Mapping[str, Any],
    anchor: Anchor,
    *,
    strict: bool = True,
) -> ProofReport:
    """The four checks of a file's MUSICAPP_RECEIPTS tag ``text`` against its ``record``
    and its MUSICAPP_C2PA ``note``. ``strict`` (offline): a device certificate no rights
    server issued fails the device check; otherwise (the ledger vouches) it is skipped."""
    report = ProofReport()
    try:
        proofs = parse(text)
    except ProofsError as exc:
        report.checks.append(Check("event", False, str(exc)))
        return report
    if record is None:
        report.checks.append(Check("event", False, "the file has no record to check them with"))
        return report
    report.checks += [
        _check_events(proofs, record, report),
        _check_device(proofs, note, anchor, strict),
        _check_receipts(proofs, anchor),
        _check_consent(proofs, record, report),
    ]
    if anchor.ca is not None and anchor.crl_pem is None:
        report.not_established.append(
            "whether the device's certificate was revoked: no revocation list at hand"
        )
    return report
