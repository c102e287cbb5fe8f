"""The ledger's vocabulary: each event kind, the payload it carries, and the builders that make one.

A payload is stored as canonical JSON and hashed into the chain, and the rights server reads
the same text, so its shape is defined here once: the app builds payloads with these
functions, and the verifier and the server read them through these TypedDicts. Events already
logged are never rebuilt, so changing a builder changes new events only; a field whose meaning
changes gets a new name, and readers keep accepting the old one (``docs/architecture.md``,
"Ledger vocabulary").

Digests, one definition per name:

- ``audio_sha256`` (export events): ``export.fingerprint``'s ``s16le`` digest of the file read
  as 16-bit (a ``pcm_s16le:...`` header line, then samples scaled by 32768).
- ``pcm_format`` / ``pcm_sha256`` / ``file_sha256`` (export and generation events): the file's
  samples at its own depth, and its bytes (``export.fingerprint``).
- ``user_audio_sha256`` (generation events): the *memory digest* of the user's audio as the
  engine got it (stereo, its own rate): samples × 32767 rounded to int16, interleaved, no
  header (``takes.audio_digest``). It identifies no file.
- ``LEGACY_TAKE_DIGEST`` (``audio_sha256`` in generation events logged before this module):
  the memory digest of the take. New generation events do not write it: the take file's
  ``pcm_sha256`` identifies it, and ``audio_sha256`` keeps one meaning.
- ``request.user_audio``: ``"sha256:<hex>"``, the sha256 of the user's audio file's bytes, never
  its path (a path names the user's home folder, and sync sends events to the rights server).
  Events logged before this hold the absolute path; they are hashed, so they stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Any, Final, Literal, NotRequired, TypedDict, cast

from musicapp.core.codec import request_to_dict, verification_to_dict
from musicapp.core.consent import Verification
from musicapp.core.model import GenerationRequest
from musicapp.core.provenance import Provenance

VerificationKind = Literal["verification"]
GenerationKind = Literal["generation"]
ExportKind = Literal["export"]
ExportFailedKind = Literal["export_failed"]
CatalogRightsKind = Literal["catalog_rights"]
RepairKind = Literal["ledger_repair"]
ReanchorKind = Literal["ledger_reanchor"]
LegacyReanchorKind = Literal["anchor_reset"]  # what Ledger.reanchor() wrote before
AuditKind = Literal["audit"]
AuditOverrideKind = Literal["audit_override"]
TrainingKind = Literal["training"]
ModelMarkedKind = Literal["model_marked"]
ModelInstalledKind = Literal["model_installed"]
TakeDeletedKind = Literal["take_deleted"]
EventKind = Literal[
    "verification",
    "generation",
    "export",
    "export_failed",
    "catalog_rights",
    "ledger_repair",
    "ledger_reanchor",
    "anchor_reset",
    "audit",
    "audit_override",
    "training",
    "model_marked",
    "model_installed",
    "take_deleted",
]

VERIFICATION: Final[VerificationKind] = "verification"
GENERATION: Final[GenerationKind] = "generation"
EXPORT: Final[ExportKind] = "export"
EXPORT_FAILED: Final[ExportFailedKind] = "export_failed"
CATALOG_RIGHTS: Final[CatalogRightsKind] = "catalog_rights"
LEDGER_REPAIR: Final[RepairKind] = "ledger_repair"
LEDGER_REANCHOR: Final[ReanchorKind] = "ledger_reanchor"
ANCHOR_RESET: Final[LegacyReanchorKind] = "anchor_reset"
AUDIT: Final[AuditKind] = "audit"
AUDIT_OVERRIDE: Final[AuditOverrideKind] = "audit_override"
TRAINING: Final[TrainingKind] = "training"
MODEL_MARKED: Final[ModelMarkedKind] = "model_marked"
MODEL_INSTALLED: Final[ModelInstalledKind] = "model_installed"
TAKE_DELETED: Final[TakeDeletedKind] = "take_deleted"
# The payloads of the three model kinds, and their builders, are in ledger/training_kinds.py.

# What an audit event is about, and what became of catalogue material found in the user's audio.
AuditSubject = Literal["take", "user_audio"]
AuditDecision = Literal["refused", "added", "overridden", "clean"]
AUDIT_DECISIONS: Final = ("refused", "added", "overridden", "clean")
# An audit event keeps each segment's best few candidates: enough to show the timeline, and a
# 10-minute take's event stays well under the server's payload bound (server/payloads.py).
AUDIT_TOP_CANDIDATES: Final = 3

# The field of old generation events that held the take's memory digest (module docstring).
LEGACY_TAKE_DIGEST: Final = "audio_sha256"
# How request.user_audio names the user's file in a payload: by the sha256 of its bytes.
CONTENT_REF_PREFIX: Final = "sha256:"


class ReferencePayload(TypedDict):
    """One reference of a request (``core.codec.reference_to_dict``)."""

    song_id: str
    level: str
    role: str | None
    time_range: list[float] | None
    weight: float
    via: NotRequired[str]
    part: NotRequired[str]


class RequestPayload(TypedDict):
    """A generation request as logged; ``user_audio`` is a content reference (or, in events
    logged before, the path the user picked)."""

    references: list[ReferencePayload]
    use: str
    duration_s: float
    seed: int
    engine: str
    prompt: str
    user_audio: str | None
    user_range: list[float] | None
    options: dict[str, str]
    on_undeclared: NotRequired[str]  # absent: "refuse" (core.model.UNDECLARED_CHOICES)


class DecisionPayload(TypedDict):
    reference: ReferencePayload
    allowed: bool
    reasons: list[str]
    consent_versions: dict[str, int]
    alternatives: list[str]


class VerificationPayload(TypedDict):
    """``verification``: the decision on a request, and the consent cache it relied on."""

    request: RequestPayload
    use: str
    allowed: bool
    decisions: list[DecisionPayload]
    consent_cache: NotRequired[dict[str, Any]]


class GenerationPayload(TypedDict):
    """``generation``: one take. ``audio_sha256`` only in events logged before this module."""

    request: RequestPayload
    verification_event_id: str
    provenance: dict[str, Any]
    royalties: dict[str, float]
    sample_rate: int
    duration_s: float
    user_audio_sha256: str | None
    pcm_format: NotRequired[str | None]
    pcm_sha256: NotRequired[str | None]
    file_sha256: NotRequired[str | None]
    audio_sha256: NotRequired[str]  # LEGACY_TAKE_DIGEST: old events only


class ExportPayload(TypedDict, total=False):
    """``export``: the embedded record (the caller's attribution fields, any names, plus the
    fields below) and what the ledger adds on top (``export.record``)."""

    export_event_id: str
    format: str
    exported_at: str
    audio_sha256: str
    pcm_format: str | None
    pcm_sha256: str | None
    pcm16_rounded_sha256: str | None
    sample_rate: int
    channels: int
    references: list[dict[str, Any]]
    rights_holders: list[dict[str, Any]]
    generation_event_id: str | None
    verification_event_id: str | None
    tags: dict[str, Any]
    file_name: str
    file_sha256: str
    # what the export did to the take's sound (export/master.py), when anything
    mastering: dict[str, Any]
    # a stem written with its mix: the stem's name, and the mix's export event
    stem: str
    part_of_export: str


class ExportFailedPayload(TypedDict):
    """``export_failed``: an export whose event was logged but whose file never appeared."""

    export_event_id: str
    file_name: str
    stage: str
    error: str


class TakeDeletedPayload(TypedDict):
    """``take_deleted``: the user deleted a take's audio from this machine (Take history). Its
    ``generation`` event stays, and what it earned; this says why its file is gone."""

    generation_event_id: str
    file_sha256: str | None  # the deleted file's bytes, as the generation event recorded them


class CatalogRightsPayload(TypedDict, total=False):
    """``catalog_rights``: rights an import gave or changed (``catalog.import_rights``).
    ``manifest`` and ``file`` are file names; events logged before hold full paths."""

    song_id: str
    new_song: bool
    manifest: str
    row: str
    file: str
    holders: list[dict[str, Any]]
    splits: dict[str, Any] | None
    consent_added: list[dict[str, Any]]
    changes: list[str]


class AuditComparisonPayload(TypedDict):
    """The audit beside the by-design shares, in short (``attribution.compare``)."""

    missed: list[str]
    undeclared: list[str]
    share_l1: float
    agrees: bool


class AuditPayload(TypedDict):
    """``audit``: one audit of a take (``take_event_id``; the by-design song shares and the
    comparison beside it) or of the user's audio before a take (``user_audio``, named by
    content; what was found and the ``decision`` taken on it). ``result`` is
    ``AuditResult.to_dict()`` with each segment's candidates cut to ``AUDIT_TOP_CANDIDATES``."""

    subject: AuditSubject
    result: dict[str, Any]
    take_event_id: NotRequired[str]
    by_design: NotRequired[dict[str, float]]
    comparison: NotRequired[AuditComparisonPayload]
    user_audio: NotRequired[str]
    user_range: NotRequired[list[float] | None]
    use: NotRequired[str]
    undeclared: NotRequired[list[str]]
    decision: NotRequired[AuditDecision]


class AuditOverridePayload(TypedDict):
    """``audit_override``: the user chose to make a take although the audit found catalogue
    recordings in their audio that no reference declares; logged before the engine runs."""

    findings: list[dict[str, Any]]
    song_ids: list[str]
    request: RequestPayload
    use: str
    audit_event_id: str


# -- builders ------------------------------------------------------------------------------------


def content_ref(file_sha256: str) -> str:
    """How a payload names a local file: by the sha256 of its bytes, never by its path."""
    return CONTENT_REF_PREFIX + file_sha256


def is_content_ref(value: object) -> bool:
    return isinstance(value, str) and value.startswith(CONTENT_REF_PREFIX)


def file_name_only(value: str | PurePath | None) -> str:
    """The last part of a path ("" for none): what may be logged of a local file's location."""
    if not value:
        return ""
    return PureWindowsPath(PurePosixPath(str(value)).name).name


def strip_folder(text: str, folder: str | PurePath) -> str:
    """``text`` with ``folder`` (and the separator after it) taken out of every path in it, so
    a message about a file in the data folder names the file, not the user's home."""
    base = str(folder).rstrip("/\\")
    if not base:
        return text
    for sep in ("/", "\\"):
        text = text.replace(base + sep, "")
    return text.replace(base, ".")


def request_payload(
    request: GenerationRequest, user_audio_file_sha256: str | None
) -> RequestPayload:
    """The request as logged: the user's audio named by ``content_ref(user_audio_file_sha256)``
    (the sha256 of the file's bytes), never by its path."""
    data = request_to_dict(request)
    if request.user_audio:
        if not user_audio_file_sha256:
            raise ValueError("a request with user audio is logged with its file's sha256")
        data["user_audio"] = content_ref(user_audio_file_sha256)
    return cast(RequestPayload, data)


def verification_payload(
    request: GenerationRequest,
    verification: Verification,
    consent_cache: Mapping[str, Any],
    user_audio_file_sha256: str | None,
) -> VerificationPayload:
    """``verification``: the request, the decision, and the consent cache it relied on (its
    age, the TTL, the server)."""
    decided = verification_to_dict(verification)
    return {
        "request": request_payload(request, user_audio_file_sha256),
        "use": decided["use"],
        "allowed": decided["allowed"],
        "decisions": decided["decisions"],
        "consent_cache": dict(consent_cache),
    }


def generation_payload(
    *,
    request: GenerationRequest,
    user_audio_file_sha256: str | None,
    verification_event_id: str,
    provenance: Provenance,
    royalties: Mapping[str, float],
    sample_rate: int,
    duration_s: float,
    user_audio_memory_digest: str | None,
    take_content: Mapping[str, str | None],
) -> GenerationPayload:
    """``generation``: ``user_audio_file_sha256`` is the sha256 of the user's file's bytes
    (the request names the file by it), ``user_audio_memory_digest`` the memory digest of its
    decoded audio (logged as ``user_audio_sha256``: what the user brought, so the record shows
    what was reshaped), and ``take_content`` the take file's ``pcm_format``, ``pcm_sha256``
    and ``file_sha256``."""
    payload: GenerationPayload = {
        "request": request_payload(request, user_audio_file_sha256),
        "verification_event_id": verification_event_id,
        "provenance": provenance.to_dict(),
        "royalties": {h: round(s, 9) for h, s in royalties.items()},
        "sample_rate": sample_rate,
        "duration_s": duration_s,
        "user_audio_sha256": user_audio_memory_digest,
    }
    for field in ("pcm_format", "pcm_sha256", "file_sha256"):
        payload[field] = take_content.get(field)
    return payload


def export_payload(
    record: Mapping[str, Any], tags: Mapping[str, Any], file_name: str, file_sha256: str
) -> ExportPayload:
    """``export``: the embedded record plus the tags read back, the file's name (the caller
    passes ``Path.name``: never its folder) and the sha256 of its bytes."""
    payload = cast(ExportPayload, {**record, "tags": dict(tags)})
    payload["file_name"] = file_name
    payload["file_sha256"] = file_sha256
    return payload


def take_deleted_payload(generation_event_id: str, file_sha256: str | None) -> TakeDeletedPayload:
    """``take_deleted``, logged before the take's file is removed."""
    return {"generation_event_id": generation_event_id, "file_sha256": file_sha256}


def export_failed_payload(
    export_event_id: str, file_name: str, stage: str, error: str
) -> ExportFailedPayload:
    return {
        "export_event_id": export_event_id,
        "file_name": file_name,
        "stage": stage,
        "error": error,
    }


def _trimmed(result: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(result)
    out["segments"] = [
        {**seg, "candidates": list(seg.get("candidates", ()))[:AUDIT_TOP_CANDIDATES]}
        for seg in result.get("segments", ())
    ]
    return out


def take_audit_payload(
    take_event_id: str,
    result: Mapping[str, Any],
    by_design: Mapping[str, float],
    comparison: AuditComparisonPayload,
) -> AuditPayload:
    """``audit`` of a take: ``result`` is ``AuditResult.to_dict()``, ``by_design`` the take's
    song shares (``Provenance.song_shares()``)."""
    return {
        "subject": "take",
        "take_event_id": take_event_id,
        "result": _trimmed(result),
        "by_design": {k: round(v, 9) for k, v in by_design.items()},
        "comparison": comparison,
    }


def user_audio_audit_payload(
    request: GenerationRequest,
    user_audio_file_sha256: str,
    result: Mapping[str, Any],
    undeclared: list[str],
    decision: AuditDecision,
) -> AuditPayload:
    """``audit`` of the user's audio before a take: named by ``content_ref`` (never its path),
    the range the request uses, what was found, which of it no reference declares, and what
    the user chose (``decision``)."""
    if decision not in AUDIT_DECISIONS:
        raise ValueError(f"audit decision {decision!r} is not one of {AUDIT_DECISIONS}")
    rng = request.user_range
    return {
        "subject": "user_audio",
        "user_audio": content_ref(user_audio_file_sha256),
        "user_range": [rng.start_s, rng.end_s] if rng is not None else None,
        "use": request.use.value,
        "result": _trimmed(result),
        "undeclared": list(undeclared),
        "decision": decision,
    }


def audit_override_payload(
    request: GenerationRequest,
    user_audio_file_sha256: str | None,
    findings: list[dict[str, Any]],
    audit_event_id: str,
) -> AuditOverridePayload:
    """``audit_override``: ``findings`` are the undeclared ``Finding.to_dict()``s."""
    return {
        "findings": list(findings),
        "song_ids": sorted({str(f["song_id"]) for f in findings}),
        "request": request_payload(request, user_audio_file_sha256),
        "use": request.use.value,
        "audit_event_id": audit_event_id,
    }


def catalog_rights_payload(payload: Mapping[str, Any]) -> CatalogRightsPayload:
    """``catalog_rights`` as the import made it, with its manifest and audio file reduced to
    their names: the folders they came from stay on this machine."""
    out = cast(CatalogRightsPayload, dict(payload))
    for field in ("manifest", "file"):
        if field in payload:
            out[field] = file_name_only(str(payload[field] or ""))
    return out


# -- readers -------------------------------------------------------------------------------------


def user_audio_ref(request: Mapping[str, Any]) -> str | None:
    """The logged request's ``user_audio``: a content reference, or (events logged before)
    the path the user picked; None without user audio."""
    value = request.get("user_audio")
    return value if isinstance(value, str) and value else None
