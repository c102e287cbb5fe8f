"""verify_offline: check a file as a third party would, with the file and the server's CA only.

No ledger, no sync state, no network: what the file carries is checked against the rights
server's CA certificate (``--ca``; the one this device pinned when none is given) and, if at
hand, its revocation list (``--crl``; the one the last sync fetched):

- the file reads, carries a record, and its audio is the audio the record names;
- its C2PA manifest is intact and was signed with a certificate that CA issued;
- the take's ledger events it carries hash right and are the ones the record names, signed by
  the device the certificate names, and receipted in the server's signed log;
- the consent versions those events relied on permitted the use.

What none of that can show (the export's own event, consent withdrawn later, revocation without
a list) is said, one phrase each, in the report's ``not_established``.
"""

from __future__ import annotations

from pathlib import Path

from musicapp.export.c2pa_check import check_manifest
from musicapp.export.c2pa_manifest import NOTE_TAG
from musicapp.export.proof_checks import check_proofs, load_anchor, note_of
from musicapp.export.proofs import TAG as PROOFS_TAG
from musicapp.export.report import Check, FileReport, skipped
from musicapp.export.verifier import check_attribution, check_file_audio, read_export
from musicapp.transparency import certs

EXPORT_EVENT = (
    "that the export itself is in the server's log: its event is written as the file is made, "
    "after the receipts it carries (`musicapp verify` with the ledger, or the server, confirms it)"
)
NO_RECEIPTS = (
    "the take's history: the file carries no server receipts (exported before a sync; "
    "`musicapp reexport FILE` after `musicapp sync` makes a copy that does)"
)


def verify_offline(
    path: Path,
    ca: Path | None = None,
    *,
    crl: Path | None = None,
    data_dir: Path | None = None,
) -> FileReport:
    """Check ``path`` with only the server's CA certificate (see the module docstring);
    never raises for a bad file, reports it; InvalidInput for an unreadable ``ca``/``crl``."""
    anchor = load_anchor(ca, crl, data_dir)
    path = Path(path)
    readable, file = read_export(path)
    if file is None:
        return FileReport(path, [readable], False, offline=True)
    checks = [readable, check_attribution(file), check_file_audio(path, file)]
    audio_now = {
        "pcm_sha256": file.digests.pcm_sha256 if file.digests is not None else None,
        "mp3_frames_sha256": file.frames_sha256,
    }
    trust = certs.pem(anchor.ca) if anchor.ca is not None else None
    manifest = check_manifest(
        path, file.record, file.tags.get(NOTE_TAG), audio_now, trust, anchor.name
    )
    checks.append(manifest or Check("c2pa", False, "the file carries no C2PA manifest"))
    not_established = []
    if anchor.ca is None:
        not_established.append(
            "who signed the file and whether the server logged its history: no CA certificate "
            "given (--ca) and none pinned on this device"
        )
    if PROOFS_TAG in file.tags:
        proofs = check_proofs(file.tags[PROOFS_TAG], file.record, note_of(file.tags), anchor)
        checks += proofs.checks
        not_established += proofs.not_established
    else:
        not_established.append(NO_RECEIPTS)
    not_established.append(EXPORT_EVENT)
    checks.append(skipped("ledger", "skipped: offline, no ledger"))
    ok = all(c.ok for c in checks)
    return FileReport(
        path,
        checks,
        ok,
        not_established=tuple(not_established),
        record=file.record,
        offline=True,
    )
