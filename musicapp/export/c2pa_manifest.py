"""The C2PA manifest of an export: what it says, and signing it into the file.

Built from the same record the tags carry, plus what only the ledger and the catalogue know:
each reference's rights holders and the consent versions the verification relied on (the
``verification`` event), and whether those holders allow training (their consent records).

- ``c2pa.actions``: one ``c2pa.created`` with the IPTC digital source type. An engine with a
  model id (MusicGen) is "compositeWithTrainedAlgorithmicMedia": a trained model's output
  mixed with the references' recorded audio. The weight-free engines (concat, tonematch) cut,
  stretch and match recorded audio with no trained model, so "trained" would be false: they
  are "algorithmicMedia".
- ``cawg.training-mining``: "notAllowed" unless every holder of every reference allows model
  training in the consent version relied on (default deny, as ``core/consent.py`` decides).
  The consent model has no mining flag, so mining follows training; inference follows the
  audio-level flag.
- ``org.musicapp.attribution``: the references (song id, title, holders with their consent
  versions, level, role, share), the rights holders, engine and model, the ledger's export
  event id and the sha256 of the record that event holds (the event's own hash cannot be
  inside the file whose bytes the event records), and the audio digests.
- ``ingredients``: each reference as a C2PA ingredient (``c2pa.ingredient.v3``: title, the
  catalogue song as ``instance_id`` ``musicapp:song:<id>``, "componentOf" where the engine
  reuses the references' recorded audio, "inputTo" where a trained model only took them as
  conditioning), its song id, holders with consent versions, level, role and share in the
  ingredient's metadata. The catalogue's audio does not travel with the file, so an ingredient
  has no data of its own to bind: it says what went in, the assertion above says it again for
  readers that skip ingredients.

Signing happens after the tags are written, so the manifest's data hash binds the final audio
and tags; only the manifest itself is outside it. WAV keeps it in a ``C2PA`` chunk, FLAC in an
ID3 tag before ``fLaC``, MP3 in a GEOB frame of its ID3v2.4 tag (``tags.read_tags`` leaves that
frame out, and the frames digest the MP3 record holds covers the audio frames only, so neither
changes when it is added).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from musicapp import __version__
from musicapp.core.consent import ConsentRecord, Permission
from musicapp.export.identity import SigningIdentity, load_identity
from musicapp.export.record import ExportError
from musicapp.ledger import Ledger, LedgerError, canonical_json

ASSERTION = "org.musicapp.attribution"
INGREDIENT_METADATA = "org.musicapp.reference"
NOTE_TAG = "MUSICAPP_C2PA"  # the tag that says whether a manifest was signed, and by whom
UNAVAILABLE = "no C2PA manifest: c2pa-python not available"
MIME = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg"}
SIGNED_FORMATS = ("wav", "flac", "mp3")
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED = IPTC + "compositeWithTrainedAlgorithmicMedia"
ALGORITHMIC = IPTC + "algorithmicMedia"
_CONTENT = (
    "audio_sha256",
    "pcm_format",
    "pcm_sha256",
    "sample_rate",
    "channels",
    "mp3_frames_sha256",
)
_REF_FIELDS = ("song_id", "title", "artist", "level", "role", "share")


def c2pa_module() -> Any | None:
    """c2pa-python, or None where it is missing (the frozen app leaves it out)."""
    try:
        import c2pa
    except (ImportError, OSError):  # OSError: the wheel is there but its native library is not
        return None
    return c2pa


def record_digest(record: Mapping[str, Any]) -> str:
    """sha256 of the record's canonical JSON: the manifest's tie to the tags and the ledger."""
    return hashlib.sha256(canonical_json(dict(record)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ManifestRequest:
    """Asks ``export_audio`` for a C2PA manifest: the data folder that holds the signing
    identity, and the consent records of the references' songs (every version)."""

    data_dir: Path
    consent: Sequence[ConsentRecord] = ()


def _decisions(attribution: Mapping[str, Any], ledger: Ledger) -> list[dict[str, Any]]:
    event_id = attribution.get("verification_event_id")
    if not isinstance(event_id, str):
        return []
    try:
        event = ledger.get(event_id)
    except LedgerError:
        return []
    decisions = event.payload.get("decisions") if event is not None else None
    return [d for d in decisions or [] if isinstance(d, dict)]


def _same_reference(ref: Mapping[str, Any], decided: Mapping[str, Any]) -> bool:
    return all(ref.get(k) == v for k, v in decided.items())


def _holders(
    ref: Mapping[str, Any], decisions: list[dict[str, Any]], consent: Sequence[ConsentRecord]
) -> tuple[list[dict[str, Any]], bool, bool]:
    """The reference's holders with their consent versions, and whether all of them allow
    training and audio-level use in those versions; False when nothing is known."""
    versions: dict[str, int] = {}
    for d in decisions:
        if isinstance(d.get("reference"), dict) and _same_reference(ref, d["reference"]):
            versions = {str(h): int(v) for h, v in (d.get("consent_versions") or {}).items()}
            break
    now = datetime.now(UTC)
    by_key = {(c.song_id, c.holder_id, c.version): c for c in consent}
    train = infer = bool(versions)
    holders = []
    for holder, version in sorted(versions.items()):
        holders.append({"id": holder, "consent_version": version})
        rec = by_key.get((str(ref.get("song_id")), holder, version))
        if rec is None or rec.is_revoked(now):
            train = infer = False
            continue
        train = train and Permission.MODEL_TRAINING in rec.permissions
        infer = infer and Permission.AUDIO_INFERENCE in rec.permissions
    return holders, train, infer


def _use(allowed: bool) -> dict[str, str]:
    return {"use": "allowed" if allowed else "notAllowed"}


def build_manifest(
    record: Mapping[str, Any],
    ledger: Ledger,
    consent: Sequence[ConsentRecord],
    identity: SigningIdentity,
    title: str,
) -> dict[str, Any]:
    """The manifest definition for c2pa's Builder (see the module docstring)."""
    decisions = _decisions(record, ledger)
    refs, train_all, infer_all = [], True, True
    for ref in record.get("references") or []:
        if not isinstance(ref, Mapping):
            continue
        holders, train, infer = _holders(ref, decisions, consent)
        train_all, infer_all = train_all and train, infer_all and infer
        refs.append({**{k: ref.get(k) for k in _REF_FIELDS}, "holders": holders})
    if not refs:
        train_all = infer_all = False  # nothing consented to anything
    model = str(record.get("model") or "")
    attribution = {
        "export_event_id": record.get("export_event_id"),
        "record_sha256": record_digest(record),
        "generation_event_id": record.get("generation_event_id"),
        "verification_event_id": record.get("verification_event_id"),
        "use": record.get("use"),
        "engine": record.get("engine"),
        "model": model,
        "references": refs,
        "rights_holders": record.get("rights_holders") or [],
        "user_share": record.get("user_share"),
        "content": {k: record.get(k) for k in _CONTENT},
        "signer": identity.label,
    }
    action = {
        "action": "c2pa.created",
        "digitalSourceType": TRAINED if model else ALGORITHMIC,
        "softwareAgent": {"name": "musicapp", "version": __version__},
        "parameters": {"engine": record.get("engine"), "model": model},
    }
    training = {
        "cawg.ai_training": _use(train_all),
        "cawg.ai_generative_training": _use(train_all),
        "cawg.data_mining": _use(train_all),
        "cawg.ai_inference": _use(infer_all),
    }
    relationship = "inputTo" if model else "componentOf"
    ingredients = [
        {
            "title": str(ref.get("title") or ref.get("song_id")),
            "format": "application/octet-stream",
            "instance_id": f"musicapp:song:{ref.get('song_id')}",
            "relationship": relationship,
            "metadata": {INGREDIENT_METADATA: ref},
        }
        for ref in refs
    ]
    return {
        "claim_generator_info": [{"name": "musicapp", "version": __version__}],
        "title": title,
        "ingredients": ingredients,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [action]}},
            {"label": "cawg.training-mining", "data": {"entries": training}},
            {"label": ASSERTION, "data": attribution},
        ],
    }


@dataclass
class ManifestPlan:
    """One export's manifest, decided before its tags are written: ``record_note`` goes into
    the MUSICAPP_C2PA tag (so a removed manifest is noticed), ``sign`` runs after the tags."""

    request: ManifestRequest
    identity: SigningIdentity | None
    record_note: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        if self.identity is None:
            return UNAVAILABLE
        return f"C2PA manifest signed, {self.identity.label}"

    def sign(
        self, tmp: Path, fmt: str, record: Mapping[str, Any], ledger: Ledger, name: str
    ) -> None:
        """Sign ``tmp`` (audio and tags written) in place with the manifest for ``record``."""
        c2pa = c2pa_module()
        if self.identity is None or c2pa is None:
            return
        manifest = build_manifest(record, ledger, self.request.consent, self.identity, name)
        signed = tmp.with_name(f"{tmp.name}.c2pa-{uuid.uuid4().hex[:8]}")
        os.close(os.open(signed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        try:
            info = c2pa.C2paSignerInfo(
                alg=b"es256",
                sign_cert=self.identity.chain_pem,
                private_key=self.identity.key_pem,
                ta_url=None,
            )
            with (
                c2pa.Signer.from_info(info) as signer,
                c2pa.Builder(json.dumps(manifest)) as builder,
                open(tmp, "rb") as src,
                open(signed, "w+b") as dst,
            ):
                builder.sign(signer, MIME[fmt], src, dst)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(signed, tmp)
        except c2pa.C2paError as exc:
            raise ExportError(
                f"export {name}: the C2PA manifest could not be signed ({exc})"
            ) from exc
        finally:
            signed.unlink(missing_ok=True)


def plan_manifest(
    request: ManifestRequest | None, attribution: Mapping[str, Any], fmt: str = "wav"
) -> ManifestPlan | None:
    """None when no manifest was asked for (the record stays as before); else the plan, whose
    note says either who signs or that c2pa-python is missing."""
    if request is None or fmt not in SIGNED_FORMATS:
        return None
    if c2pa_module() is None:
        return ManifestPlan(request, None, {"manifest": False, "reason": UNAVAILABLE})
    identity = load_identity(request.data_dir)
    note = {"manifest": True, "signer": identity.label, "certificate_serial": identity.serial}
    return ManifestPlan(request, identity, note)


def note_tags(plan: ManifestPlan | None) -> dict[str, str]:
    """The tag that notes the manifest (none without a plan): a tag, not a record field, so
    the record stays the same for every format, signed or not."""
    return {} if plan is None else {NOTE_TAG: json.dumps(plan.record_note, sort_keys=True)}
