"""The ``c2pa`` check of ``musicapp verify``: the file's C2PA manifest against the file itself.

c2pa's Reader validates the signature and the data hash (the file's bytes outside the
manifest), with the CA certificates this device trusts given as trust anchors through a
``c2pa.Context``. This module turns what it reports, and the manifest's musicapp assertion
compared with the file's record and audio, into one sentence naming what changed:

- the manifest was removed (the record says one was signed, the file has none);
- it belongs to another file (its export event id, or its audio digest, is not this file's);
- the audio was edited after signing (data hash mismatch, and the samples' digest differs);
- the file was re-signed with another key (a certificate this device does not trust, or not
  the one the record names);
- the tags and the manifest disagree (references, shares, event ids: field by field).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from musicapp.export.c2pa_manifest import ASSERTION, NOTE_TAG, c2pa_module, record_digest
from musicapp.export.identity import LOCAL_LABEL
from musicapp.export.report import Check, skipped

NAME = "c2pa"
_DATA_HASH = "assertion.dataHash.mismatch"
_UNTRUSTED = "signingCredential.untrusted"
THIS_DEVICE = "this device"
_COMPARED = ("export_event_id", "generation_event_id", "verification_event_id", "engine")


def _read(path: Path, trust: bytes | None) -> dict[str, Any] | None:
    c2pa = c2pa_module()
    assert c2pa is not None
    settings: dict[str, Any] = {"verify": {"verify_trust": trust is not None}}
    if trust is not None:
        settings["trust"] = {"trust_anchors": trust.decode("ascii")}
    with c2pa.Context.from_dict(settings) as context:
        reader = c2pa.Reader.try_create(str(path), context=context)
        if reader is None:
            return None
        with reader:
            data: dict[str, Any] = json.loads(reader.json())
    return data


def _differences(manifest: Mapping[str, Any], record: Mapping[str, Any]) -> list[str]:
    """Where the manifest's copy of the attribution differs from the record in the tags."""
    out = [
        f"{k} is {manifest.get(k)!r} in the manifest, {record.get(k)!r} in the tags"
        for k in _COMPARED
        if manifest.get(k) != record.get(k)
    ]
    mine = [r for r in record.get("references") or [] if isinstance(r, Mapping)]
    theirs = [r for r in manifest.get("references") or [] if isinstance(r, Mapping)]
    if len(mine) != len(theirs):
        out.append(f"{len(theirs)} reference(s) in the manifest, {len(mine)} in the tags")
    for i, (a, b) in enumerate(zip(theirs, mine, strict=False)):
        for k in ("song_id", "share", "level", "role", "title", "artist"):
            if a.get(k) != b.get(k):
                out.append(
                    f"references[{i}].{k} is {a.get(k)!r} in the manifest, {b.get(k)!r} in the tags"
                )
    holders = [(h.get("id"), h.get("share")) for h in record.get("rights_holders") or []]
    signed = [(h.get("id"), h.get("share")) for h in manifest.get("rights_holders") or []]
    if holders != signed:
        out.append("the rights holders or their shares differ")
    if not out:
        out.append("the record in the tags is not the one the manifest was signed over")
    return out[:5]


def _signed_audio(
    ours: Mapping[str, Any], audio_now: Mapping[str, str | None]
) -> tuple[str, Any, Any]:
    """(field, digest signed, digest now) of the audio digest the manifest was signed over:
    the PCM's, or an MP3's frames'."""
    content = ours.get("content") or {}
    for field in ("mp3_frames_sha256", "pcm_sha256"):
        if content.get(field):
            return field, content.get(field), audio_now.get(field)
    return "pcm_sha256", content.get("pcm_sha256"), audio_now.get("pcm_sha256")


def _problems(
    data: dict[str, Any],
    record: Mapping[str, Any],
    note: Mapping[str, Any],
    audio_now: Mapping[str, str | None],
    anchor: str | None,
) -> tuple[list[str], str]:
    active = data.get("manifests", {}).get(data.get("active_manifest"), {})
    sig = active.get("signature_info") or {}
    signer = f"{sig.get('common_name', '?')} (serial {sig.get('cert_serial_number', '?')})"
    ours = next(
        (a["data"] for a in active.get("assertions", []) if a.get("label") == ASSERTION), None
    )
    if not isinstance(ours, dict):
        return [f"the C2PA manifest is not musicapp's: it has no {ASSERTION} assertion"], signer
    codes = {s.get("code"): s.get("explanation", "") for s in data.get("validation_status") or []}
    field, signed_audio, audio = _signed_audio(ours, audio_now)
    if ours.get("export_event_id") != record.get("export_event_id"):
        return [
            f"the C2PA manifest belongs to another file: it names export event "
            f"{ours.get('export_event_id')}, this file's record {record.get('export_event_id')}"
            + (", and its audio digest is not this file's" if signed_audio != audio else "")
        ], signer
    problems = []
    if _DATA_HASH in codes and audio is not None and signed_audio != audio:
        problems.append(
            f"the audio was edited after signing: the manifest's data hash no longer matches and "
            f"it was signed over {field} {signed_audio}, the file's audio is {audio}"
        )
    if ours.get("record_sha256") != record_digest(record):
        problems.append(
            "the tags and the manifest disagree: " + "; ".join(_differences(ours, record))
        )
    if _DATA_HASH in codes and not problems:
        problems.append(
            "the file's bytes were changed after signing (not its audio, not the record)"
        )
    if anchor is not None and (
        _UNTRUSTED in codes or sig.get("cert_serial_number") != note.get("certificate_serial")
    ):
        if anchor == THIS_DEVICE:
            problems.append(
                f"re-signed with another key: the signing certificate {signer} is not this "
                "device's and no CA this device trusts issued it"
            )
        elif note.get("signer") == LOCAL_LABEL and _UNTRUSTED in codes:
            problems.append(
                f"signed by the device's own local CA ({LOCAL_LABEL}), not by a certificate "
                f"{anchor} issued: who signed cannot be established"
            )
        else:
            problems.append(
                f"re-signed with another key: the signing certificate {signer} was not issued "
                f"by {anchor}"
            )
    other = [f"{c}: {e}" for c, e in codes.items() if c not in (_DATA_HASH, _UNTRUSTED)]
    if other:
        problems.append("C2PA validation failed: " + "; ".join(other))
    return problems, signer


def check_manifest(
    path: Path,
    record: Mapping[str, Any] | None,
    note_text: Any,
    audio_now: Mapping[str, str | None],
    trust: bytes | None,
    anchor: str = THIS_DEVICE,
) -> Check | None:
    """The ``c2pa`` check of ``path`` whose tags hold ``record``; ``audio_now`` the digests of
    its audio now (``pcm_sha256``, an MP3's ``mp3_frames_sha256``), ``note_text`` its
    MUSICAPP_C2PA tag; ``trust`` the CA certificates (PEM) trusted to have issued the signing
    certificate (None: none to check with). None when no tag says whether a manifest was
    signed. ``anchor`` names whose CAs ``trust`` holds, for the messages."""
    try:
        note = json.loads(note_text) if isinstance(note_text, str) else None
    except ValueError:
        return Check(NAME, False, f"{NOTE_TAG} is not valid JSON")
    if record is None or not isinstance(note, Mapping):
        # Exported before manifests, or by a caller that asked for none: nothing to check,
        # and no check shown (a stripped note is a tags/ledger failure already).
        return None
    if not note.get("manifest"):
        return skipped(NAME, f"skipped: {note.get('reason') or 'no C2PA manifest'}")
    if c2pa_module() is None:
        return skipped(NAME, "skipped: c2pa-python not available here to read the manifest")
    try:
        data = _read(path, trust)
    except Exception as exc:  # c2pa raises its own errors and ValueError on damaged boxes
        return Check(NAME, False, f"the C2PA manifest cannot be read ({type(exc).__name__}: {exc})")
    if data is None:
        return Check(
            NAME,
            False,
            f"the C2PA manifest was removed: the record says one was signed "
            f"({note.get('signer', LOCAL_LABEL)}), the file has none",
        )
    problems, signer = _problems(data, record, note, audio_now, anchor if trust else None)
    if problems:
        return Check(NAME, False, "; ".join(problems))
    label = note.get("signer", LOCAL_LABEL)
    how = f"by {anchor}" if trust is not None else "(no trust anchors here to check the signer)"
    if trust is not None and anchor != THIS_DEVICE:
        how = f"with a certificate {anchor} issued"
    return Check(NAME, True, f"C2PA manifest intact, signed {how}: {signer}, {label}")
