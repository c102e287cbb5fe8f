"""Import manifests (CSV or JSON): per file, metadata, rights holders and splits, consent, stems."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from musicapp.core import InvalidInput, Permission, RightsHolder, Split, Use, check_splits

# The manifest's names for the paper's Table 1 flags; the enum values are accepted too.
PERMISSION_NAMES = {
    "song_level": Permission.SONG_INFERENCE,
    "parameter_level": Permission.PARAMETER_INFERENCE,
    "audio_level": Permission.AUDIO_INFERENCE,
    "model_training": Permission.MODEL_TRAINING,
    **{p.value: p for p in Permission},
}
USE_NAMES = {**{u.value: u for u in Use}, "non-commercial": Use.NON_COMMERCIAL}
_TEXT_FIELDS = ("title", "artist", "album", "genre", "subgenre", "era", "country", "region")
_LIST_FIELDS = ("instruments", "moods")
# Stem names that say their musical role; anything else is taken as harmony.
_ROLE_OF_NAME = {
    "melody": "melody",
    "vocals": "melody",
    "voice": "melody",
    "lead": "melody",
    "harmony": "harmony",
    "bass": "bass",
    "rhythm": "rhythm",
    "drums": "rhythm",
    "percussion": "rhythm",
}
_FAMILY_OF_NAME = {"vocals": "voice", "voice": "voice", "drums": "drums", "bass": "bass"}


@dataclass(frozen=True)
class StemSpec:
    """One stem file a manifest names for a song."""

    name: str
    path: Path
    role: str
    instrument: str
    family: str


@dataclass(frozen=True)
class Grant:
    """The Table 1 flags and Table 2 uses one rights holder grants for one song."""

    permissions: frozenset[Permission]
    uses: frozenset[Use]


@dataclass(frozen=True)
class Entry:
    """One manifest row: the file it describes and what it says about it."""

    where: str  # "manifest row 7", for messages
    path: Path
    fields: dict[str, Any]
    splits: tuple[Split, ...]
    grants: dict[str, Grant]  # by holder id; a holder missing here has given no consent
    stems: tuple[StemSpec, ...] = ()
    errors: tuple[str, ...] = field(default=())


def slug(text: str) -> str:
    """Lower-case ASCII letters, digits and '-', e.g. "Café Müller" -> "cafe-muller"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def read_manifest(path: Path) -> list[Entry]:
    """Read a CSV or JSON manifest; a row that cannot be used is returned with its errors.

    Raises InvalidInput when the file as a whole cannot be read.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"manifest {path}: cannot be read ({exc})") from exc
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records: Any = [dict(r) for r in csv.DictReader(text.splitlines())]
        first = 2  # row 1 is the header
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"manifest {path}: not valid JSON ({exc})") from exc
        records = data.get("songs") if isinstance(data, dict) else data
        if not isinstance(records, list):
            raise InvalidInput(f"manifest {path}: expected a list of songs or {{'songs': [...]}}")
        first = 1
    else:
        raise InvalidInput(f"manifest {path}: use a .csv or .json file")
    return [_entry(r, f"manifest row {first + i}", path.parent) for i, r in enumerate(records)]


def _entry(raw: Any, where: str, base: Path) -> Entry:
    if not isinstance(raw, dict):
        return Entry(where, base, {}, (), {}, errors=(f"{where}: not an object",))
    row = {_key(k): v for k, v in raw.items() if k is not None}
    errors: list[str] = []
    file = str(row.get("file") or "").strip()
    if not file:
        errors.append(f"{where}: no file")
    fields: dict[str, Any] = {}
    for name in _TEXT_FIELDS:
        value = str(row.get(name) or "").strip()
        if value:
            fields[name] = value
    for name in _LIST_FIELDS:
        items = _items(row.get(name))
        if items:
            fields[name] = tuple(items)
    year = str(row.get("year") or "").strip()
    if year:
        try:
            fields["year"] = int(year)
        except ValueError:
            errors.append(f"{where}: year {year!r} is not a whole number")
    splits: tuple[Split, ...] = ()
    grants: dict[str, Grant] = {}
    stems: tuple[StemSpec, ...] = ()
    try:
        song_grant = _grant(row.get("permissions"), row.get("uses"), where)
        splits, grants = _holders(row.get("rights_holders"), song_grant, where)
        stems = _stems(row.get("stems"), base, where)
    except InvalidInput as exc:
        errors.append(str(exc))
    return Entry(where, base / file, fields, splits, grants, stems, tuple(errors))


def _key(name: str) -> str:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return {"splits": "rights_holders", "holders": "rights_holders"}.get(key, key)


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in re.split(r"[;,]", str(value)) if v.strip()]


def _grant(permissions: Any, uses: Any, where: str) -> Grant | None:
    perms, use_names = _items(permissions), _items(uses)
    if not perms and not use_names:
        return None
    try:
        granted = frozenset(PERMISSION_NAMES[p.lower()] for p in perms)
    except KeyError as exc:
        raise InvalidInput(
            f"{where}: unknown consent flag {exc.args[0]!r} (use "
            "song_level, parameter_level, audio_level, model_training)"
        ) from None
    try:
        allowed = frozenset(USE_NAMES[u.lower()] for u in use_names)
    except KeyError as exc:
        raise InvalidInput(
            f"{where}: unknown use {exc.args[0]!r} (use private, non_commercial, commercial)"
        ) from None
    return Grant(granted, allowed)


def _holders(
    value: Any, song_grant: Grant | None, where: str
) -> tuple[tuple[Split, ...], dict[str, Grant]]:
    specs: list[dict[str, Any]] = []
    if isinstance(value, list):
        specs = [h if isinstance(h, dict) else {"name": str(h)} for h in value]
    elif value:
        for part in _items_semicolon(str(value)):
            name, sep, amount = part.rpartition(":")
            if not sep:
                raise InvalidInput(f"{where}: rights holder {part!r} needs a share (Name:0.5)")
            specs.append({"name": name, "share": amount})
    splits: list[Split] = []
    grants: dict[str, Grant] = {}
    for spec in specs:
        name = str(spec.get("name") or "").strip()
        if not name:
            raise InvalidInput(f"{where}: a rights holder has no name")
        try:
            share = float(spec.get("share", 1.0 if len(specs) == 1 else "missing"))
        except (TypeError, ValueError):
            raise InvalidInput(f"{where}: rights holder {name!r} has no numeric share") from None
        holder = RightsHolder(
            str(spec.get("id") or f"holder-{slug(name) or 'unnamed'}"),
            name,
            str(spec.get("kind") or "composer"),
        )
        splits.append(Split(holder, share))
        grant = _grant(spec.get("permissions"), spec.get("uses"), where) or song_grant
        if grant is not None:
            grants[holder.id] = grant
    if splits:
        total = sum(s.share for s in splits)
        try:
            check_splits(where, tuple(splits))
        except InvalidInput:
            if len({s.holder.id for s in splits}) != len(splits):
                raise InvalidInput(f"{where}: a rights holder appears twice") from None
            raise InvalidInput(f"{where}: splits add up to {total:g}, not 1") from None
    return tuple(splits), grants


def _items_semicolon(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]


def _stems(value: Any, base: Path, where: str) -> tuple[StemSpec, ...]:
    specs: list[dict[str, Any]]
    if isinstance(value, dict):
        specs = [{"name": k, "file": v} for k, v in value.items()]
    elif isinstance(value, list):
        specs = [s for s in value if isinstance(s, dict)]
    elif value:
        specs = []
        for part in _items_semicolon(str(value)):
            name, sep, file = part.partition("=")
            if not sep:
                raise InvalidInput(f"{where}: stem {part!r} should be name=path")
            specs.append({"name": name.strip(), "file": file.strip()})
    else:
        return ()
    out = []
    for spec in specs:
        name = str(spec.get("name") or "").strip()
        file = str(spec.get("file") or spec.get("path") or "").strip()
        if not name or not file:
            raise InvalidInput(f"{where}: a stem needs a name and a file")
        key = slug(name)
        out.append(
            StemSpec(
                name=key or name,
                path=base / file,
                role=str(spec.get("role") or _ROLE_OF_NAME.get(key, "harmony")),
                instrument=str(spec.get("instrument") or name),
                family=str(spec.get("family") or _FAMILY_OF_NAME.get(key, key)),
            )
        )
    return tuple(out)
