"""Import manifests (CSV or JSON): per song, metadata, rights holders and splits, consent, stems.

Each row describes one song: its full mix (`file`) and/or its stems, an optional `id`, what it
is, who holds its rights and what they consent to. Rows are checked strictly: unknown columns
or fields are named, every field has a length limit, and a row that breaks a rule is returned
with its errors (the importer reports and skips it) while the others go on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from musicapp.catalog.manifest_files import read_records
from musicapp.catalog.song_files import MAX_TEXT, SAFE_NAME
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
MAX_ID = 100  # song ids, holder ids and stem names
MAX_ITEMS = 50  # instruments, moods, rights holders, stems, flags and uses of one song
MAX_ITEM = 100  # one instrument or mood
MAX_PATH = 1000
TEXT_FIELDS = ("title", "artist", "album", "genre", "subgenre", "era", "country", "region")
LIST_FIELDS = ("instruments", "moods")
SONG_FIELDS = frozenset(
    {"file", "id", "year", "rights_holders", "permissions", "uses", "stems"}
    | set(TEXT_FIELDS)
    | set(LIST_FIELDS)
)
HOLDER_FIELDS = frozenset({"name", "share", "id", "kind", "permissions", "uses"})
STEM_FIELDS = frozenset({"name", "file", "path", "role", "instrument", "family"})
ROLES = ("melody", "harmony", "bass", "rhythm")
_ALIASES = {"splits": "rights_holders", "holders": "rights_holders"}
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
    """One manifest row: the files it describes and what it says about them."""

    where: str  # "manifest.csv line 7", for messages
    path: Path | None  # the song's full mix; None when the row gives only stems
    fields: dict[str, Any]
    splits: tuple[Split, ...]
    grants: dict[str, Grant]  # by holder id; a holder missing here has given no consent
    stems: tuple[StemSpec, ...] = ()
    errors: tuple[str, ...] = field(default=())
    song_id: str | None = None  # the row's own id for the song, when it gives one
    manifest: Path | None = None
    readable: bool = True  # False: the row could not be read, so its files are unknown

    @property
    def files(self) -> list[Path]:
        """Every file the row names: its full mix, then its stems."""
        return [*([self.path] if self.path else []), *(s.path for s in self.stems)]


def slug(text: str) -> str:
    """Lower-case ASCII letters, digits and '-', e.g. "Café Müller" -> "cafe-muller"."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def read_manifest(path: Path) -> list[Entry]:
    """Read a CSV or JSON manifest; a row that cannot be used is returned with its errors.

    Raises InvalidInput when the file as a whole cannot be read or names an unknown column.
    """
    path = Path(path)
    records = read_records(path)
    if path.suffix.lower() == ".csv" and records:
        columns = {c for r in records if r.fields for c in r.fields}
        unknown = sorted(c for c in columns if _key(c) not in SONG_FIELDS)
        if unknown:
            raise InvalidInput(
                f"manifest {path} line 1: unknown column {unknown[0]!r} "
                f"(known: {', '.join(sorted(SONG_FIELDS))})"
            )
    entries = []
    for r in records:
        if r.fields is None:
            entries.append(
                Entry(r.where, None, {}, (), {}, errors=(r.error,), manifest=path, readable=False)
            )
        else:
            entries.append(replace(_entry(r.fields, r.where, path.parent), manifest=path))
    return _check_repeats(entries)


def _entry(raw: dict[str, Any], where: str, base: Path) -> Entry:
    errors: list[str] = []
    row: dict[str, Any] = {}
    for k, v in raw.items():
        key = _key(str(k))
        if key not in SONG_FIELDS:
            errors.append(f"{where}: unknown field {k!r} (known: {', '.join(sorted(SONG_FIELDS))})")
        else:
            row[key] = v
    fields: dict[str, Any] = {}
    splits: tuple[Split, ...] = ()
    grants: dict[str, Grant] = {}
    stems: tuple[StemSpec, ...] = ()
    file = song_id = ""
    # The files first, each on its own: a row with other errors still says which files are
    # its, so the folder walk does not import them as songs of their own.
    try:
        file = _text(row.get("file"), "file", MAX_PATH, where)
    except InvalidInput as exc:
        errors.append(str(exc))
    try:
        stems = _stems(row.get("stems"), base, where)
    except InvalidInput as exc:
        errors.append(str(exc))
    try:
        song_id = _text(row.get("id"), "id", MAX_ID, where)
        if song_id and not SAFE_NAME.match(song_id):
            raise InvalidInput(f"{where}: id {song_id!r}: use letters, digits, '.', '-' or '_'")
        for name in TEXT_FIELDS:
            value = _text(row.get(name), name, MAX_TEXT, where)
            if value:
                fields[name] = value
        for name in LIST_FIELDS:
            items = _items(row.get(name), name, where)
            if items:
                fields[name] = tuple(items)
        year = _text(row.get("year"), "year", 10, where)
        if year:
            if not year.isdigit() or not 1 <= int(year) <= 9999:
                raise InvalidInput(f"{where}: year {year!r} is not a year (a whole number)")
            fields["year"] = int(year)
        song_grant = _grant(row.get("permissions"), row.get("uses"), where)
        splits, grants = _holders(row.get("rights_holders"), song_grant, where)
    except InvalidInput as exc:
        errors.append(str(exc))
    if not file and not stems and not errors:
        errors.append(f"{where}: no file (the song's full mix) and no stems")
    return Entry(
        where,
        base / file if file else None,
        fields,
        splits,
        grants,
        stems,
        tuple(errors),
        song_id or None,
    )


def _check_repeats(entries: list[Entry]) -> list[Entry]:
    """A file or an id described by two rows: the later row is an error naming the first."""
    files: dict[Path, str] = {}
    ids: dict[str, str] = {}
    out = []
    for e in entries:
        problems = []
        for f in e.files:
            first = files.setdefault(f.resolve(), e.where)
            if first != e.where:
                problems.append(f"{e.where}: {f} is already named by {first}")
        if e.song_id:
            first = ids.setdefault(e.song_id, e.where)
            if first != e.where:
                problems.append(f"{e.where}: id {e.song_id} is already given by {first}")
        if len({f.resolve() for f in e.files}) < len(e.files):
            problems.append(f"{e.where}: names one file twice")
        out.append(replace(e, errors=(*e.errors, *problems)) if problems else e)
    return out


def _key(name: str) -> str:
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    return _ALIASES.get(key, key)


def _text(value: Any, name: str, limit: int, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise InvalidInput(f"{where}: {name} must be text, not a {type(value).__name__}")
    text = str(value).strip()
    if len(text) > limit:
        raise InvalidInput(f"{where}: {name} is {len(text):,} characters, at most {limit}")
    return text


def _items(value: Any, name: str, where: str, sep: str = ";,", limit: int = MAX_ITEM) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        items = [str(v).strip() for v in value if str(v).strip()]
    elif isinstance(value, dict):
        raise InvalidInput(f"{where}: {name} must be a list, not an object")
    else:
        items = [v.strip() for v in re.split(f"[{sep}]", str(value)) if v.strip()]
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"{where}: {name} has {len(items)} items, at most {MAX_ITEMS}")
    for item in items:
        if len(item) > limit:
            raise InvalidInput(
                f"{where}: an item of {name} is {len(item):,} characters, at most {limit}"
            )
    return items


def _grant(permissions: Any, uses: Any, where: str) -> Grant | None:
    perms, use_names = _items(permissions, "permissions", where), _items(uses, "uses", where)
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
    elif isinstance(value, dict):
        raise InvalidInput(f"{where}: rights_holders must be a list")
    elif value:
        for part in _items(value, "rights_holders", where, sep=";", limit=MAX_TEXT + 30):
            name, sep, amount = part.rpartition(":")
            if not sep:
                raise InvalidInput(f"{where}: rights holder {part!r} needs a share (Name:0.5)")
            specs.append({"name": name, "share": amount})
    if len(specs) > MAX_ITEMS:
        raise InvalidInput(f"{where}: rights_holders has {len(specs)} items, at most {MAX_ITEMS}")
    splits: list[Split] = []
    grants: dict[str, Grant] = {}
    for spec in specs:
        unknown = sorted(set(map(str, spec)) - HOLDER_FIELDS)
        if unknown:
            raise InvalidInput(
                f"{where}: unknown rights holder field {unknown[0]!r} "
                f"(known: {', '.join(sorted(HOLDER_FIELDS))})"
            )
        name = _text(spec.get("name"), "rights holder name", MAX_TEXT, where)
        if not name:
            raise InvalidInput(f"{where}: a rights holder has no name")
        try:
            share = float(spec.get("share", 1.0 if len(specs) == 1 else "missing"))
        except (TypeError, ValueError):
            raise InvalidInput(f"{where}: rights holder {name!r} has no numeric share") from None
        holder_id = _text(spec.get("id"), "rights holder id", MAX_ID, where)
        holder = RightsHolder(
            holder_id or f"holder-{slug(name)[: MAX_ID - 7] or 'unnamed'}",
            name,
            _text(spec.get("kind"), "rights holder kind", MAX_ITEM, where) or "composer",
        )
        try:
            splits.append(Split(holder, share))
        except InvalidInput as exc:
            raise InvalidInput(f"{where}: {exc}") from None
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


def _stems(value: Any, base: Path, where: str) -> tuple[StemSpec, ...]:
    specs: list[dict[str, Any]]
    if isinstance(value, dict):
        specs = [{"name": k, "file": v} for k, v in value.items()]
    elif isinstance(value, list):
        if not all(isinstance(s, dict) for s in value):
            raise InvalidInput(f"{where}: each stem must be an object with a name and a file")
        specs = value
    elif value:
        specs = []
        for part in _items(value, "stems", where, sep=";", limit=MAX_ID + MAX_PATH + 1):
            name, sep, file = part.partition("=")
            if not sep:
                raise InvalidInput(f"{where}: stem {part!r} should be name=path")
            specs.append({"name": name.strip(), "file": file.strip()})
    else:
        return ()
    if len(specs) > MAX_ITEMS:
        raise InvalidInput(f"{where}: stems has {len(specs)} items, at most {MAX_ITEMS}")
    out = []
    for spec in specs:
        unknown = sorted(set(map(str, spec)) - STEM_FIELDS)
        if unknown:
            raise InvalidInput(
                f"{where}: unknown stem field {unknown[0]!r} "
                f"(known: {', '.join(sorted(STEM_FIELDS))})"
            )
        name = _text(spec.get("name"), "stem name", MAX_ID, where)
        file = _text(spec.get("file") or spec.get("path"), "stem file", MAX_PATH, where)
        if not name or not file:
            raise InvalidInput(f"{where}: a stem needs a name and a file")
        key = slug(name)
        if not key:
            raise InvalidInput(f"{where}: stem name {name!r} has no letters or digits")
        role = _text(spec.get("role"), "stem role", MAX_ITEM, where) or _ROLE_OF_NAME.get(
            key, "harmony"
        )
        if role not in ROLES:
            raise InvalidInput(
                f"{where}: stem {name}: role {role!r} is not one of {', '.join(ROLES)}"
            )
        out.append(
            StemSpec(
                name=key,
                path=base / file,
                role=role,
                instrument=_text(spec.get("instrument"), "stem instrument", MAX_ITEM, where)
                or name,
                family=_text(spec.get("family"), "stem family", MAX_ITEM, where)
                or _FAMILY_OF_NAME.get(key, key),
            )
        )
    if len({s.name for s in out}) < len(out):
        raise InvalidInput(f"{where}: two stems have the same name")
    return tuple(out)
