"""Plain-dict forms of requests and verifications, for the ledger, sidecars and `--json` output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from musicapp.core.consent import Decision, Verification
from musicapp.core.model import (
    GenerationRequest,
    InvalidInput,
    Level,
    Reference,
    Role,
    Song,
    TimeRange,
    Use,
)


def song_to_dict(song: Song) -> dict[str, Any]:
    """A song's catalogue facts, for `--json` output and reports."""
    return {
        "id": song.id,
        "title": song.title,
        "artist": song.artist,
        "album": song.album,
        "genre": song.genre,
        "subgenre": song.subgenre,
        "year": song.year,
        "era": song.era,
        "country": song.country,
        "instruments": list(song.instruments),
        "moods": list(song.moods),
        "duration_s": round(song.duration_s, 2),
        "tempo_bpm": song.tempo_bpm,
        "beats_per_bar": song.beats_per_bar,
        "key": song.key,
        "stems": [{"name": s.name, "instrument": s.instrument, "role": s.role} for s in song.stems],
        "rights_holders": [
            {"id": s.holder.id, "name": s.holder.name, "kind": s.holder.kind, "split": s.share}
            for s in song.splits
        ],
    }


def reference_to_dict(ref: Reference) -> dict[str, Any]:
    return {
        "song_id": ref.song_id,
        "level": ref.level.value,
        "role": ref.role.value if ref.role else None,
        "time_range": [ref.time_range.start_s, ref.time_range.end_s] if ref.time_range else None,
        "weight": ref.weight,
        **({"via": ref.via} if ref.via else {}),
        **({"part": ref.part} if ref.part else {}),
    }


def _enum(cls: Any, value: Any, field: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        known = ", ".join(m.value for m in cls)
        raise InvalidInput(f"{field}: {value!r} is not one of {known}") from None


def reference_from_dict(data: Mapping[str, Any]) -> Reference:
    rng = data.get("time_range")
    role = data.get("role")
    return Reference(
        song_id=str(data["song_id"]),
        level=_enum(Level, data.get("level", "song"), "level"),
        role=_enum(Role, role, "role") if role else None,
        time_range=TimeRange(float(rng[0]), float(rng[1])) if rng else None,
        weight=float(data.get("weight", 1.0)),
        via=str(data.get("via") or ""),
        part=str(data.get("part") or ""),
    )


def request_to_dict(req: GenerationRequest) -> dict[str, Any]:
    return {
        "references": [reference_to_dict(r) for r in req.references],
        "use": req.use.value,
        "duration_s": req.duration_s,
        "seed": req.seed,
        "engine": req.engine,
        "prompt": req.prompt,
        "user_audio": req.user_audio,
        "user_range": [req.user_range.start_s, req.user_range.end_s] if req.user_range else None,
        "options": dict(req.options),
        # Only a choice other than the default is written, so requests logged before (and the
        # hashes over them) read the same; a reader takes its absence as "refuse".
        **({"on_undeclared": req.on_undeclared} if req.on_undeclared != "refuse" else {}),
    }


def request_from_dict(data: Mapping[str, Any]) -> GenerationRequest:
    return GenerationRequest(
        references=tuple(reference_from_dict(r) for r in data["references"]),
        use=_enum(Use, data.get("use", "private"), "use"),
        duration_s=float(data.get("duration_s", 20.0)),
        seed=int(data.get("seed", 0)),
        engine=str(data.get("engine", "concat")),
        prompt=str(data.get("prompt", "")),
        user_audio=data.get("user_audio"),
        user_range=TimeRange(*map(float, data["user_range"])) if data.get("user_range") else None,
        options={str(k): str(v) for k, v in (data.get("options") or {}).items()},
        on_undeclared=str(data.get("on_undeclared") or "refuse"),
    )


def decision_to_dict(d: Decision) -> dict[str, Any]:
    return {
        "reference": reference_to_dict(d.reference),
        "allowed": d.allowed,
        "reasons": list(d.reasons),
        "consent_versions": {holder: version for holder, version in d.consent_versions},
        "alternatives": list(d.alternatives),
    }


def verification_to_dict(v: Verification) -> dict[str, Any]:
    return {
        "use": v.use.value,
        "allowed": v.allowed,
        "decisions": [decision_to_dict(d) for d in v.decisions],
    }
