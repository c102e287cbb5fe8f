"""The demo catalogue's recipe (resources/demo_catalog.json) as typed, checked values."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from musicapp.core import InvalidInput, RightsHolder, Split, check_splits

RECIPE_RESOURCE = "demo_catalog.json"
# Installed (wheel, frozen app) the recipe sits in the package; from a checkout (editable install,
# PYTHONPATH) it is in the repository's top-level resources/, which pyproject maps there.
_PACKAGED = resources.files("musicapp") / "resources"
_RESOURCES = _PACKAGED if _PACKAGED.is_dir() else Path(__file__).parents[2] / "resources"
HARMONY_STYLES = ("strum", "arpeggio", "block", "afterbeat", "drone", "fifths")
CONSENT_KINDS = (
    "full",
    "song_only",
    "no_audio",
    "non_commercial",
    "private_only",
    "one_refuses_commercial",
    "one_holder_silent",
    "opt_out",
    "opt_out_explicit",
    "revoked",
)


@dataclass(frozen=True)
class Voice:
    """One instrument of an arrangement: the stem it becomes and how it plays."""

    name: str
    program: int = 0  # General MIDI program, 0-127
    family: str = ""
    role: str = ""  # empty: decided by the voice's place in the arrangement
    style: str = ""  # harmony voices: one of HARMONY_STYLES
    kit: str = ""  # drum voices: a key of Recipe.kits
    transpose: int = 0  # semitones: a whistle or fife sounds an octave above the written tune


@dataclass(frozen=True)
class Kit:
    """A General MIDI drum kit and the keys it plays on the meter's downbeats, backbeats, pulse."""

    instrument: str
    preset: int
    downbeat: tuple[int, int]  # (key, velocity)
    backbeat: tuple[int, int]
    pulse: tuple[int, int]
    pulse_on_beats: bool


@dataclass(frozen=True)
class Arrangement:
    """Either one voice per score part (`parts`) or a band around a melody."""

    name: str
    parts: tuple[Voice, ...] = ()
    order: str = "pitch"  # match parts to voices highest first ("pitch") or as in the score
    melody: Voice | None = None
    harmony: tuple[Voice, ...] = ()
    bass: Voice | None = None
    drums: Voice | None = None


@dataclass(frozen=True)
class SongSpec:
    """One demo song: where its score is, how to arrange it, its metadata and its consent kind."""

    id: str
    source: str
    number: int | None
    tempo: float
    arrangement: str
    consent: str
    meta: dict[str, Any] = field(hash=False)  # Song fields: collection defaults + overrides
    splits: tuple[Split, ...] = ()


@dataclass(frozen=True)
class Recipe:
    min_s: float
    max_s: float
    tail_s: float
    consent_from: datetime
    revoked_at: datetime
    kits: dict[str, Kit]
    arrangements: dict[str, Arrangement]
    songs: tuple[SongSpec, ...]


_META_FIELDS = ("title", "artist", "album", "genre", "subgenre", "year", "era", "country", "region")


def load_recipe() -> Recipe:
    """Read and check the packaged recipe; InvalidInput names the song or entry that is wrong."""
    text = (_RESOURCES / RECIPE_RESOURCE).read_text("utf-8")
    return parse_recipe(json.loads(text))


def parse_recipe(data: dict[str, Any]) -> Recipe:
    holders = {hid: RightsHolder(hid, name, kind) for hid, (name, kind) in data["holders"].items()}
    kits = {
        name: Kit(
            k["instrument"],
            k["preset"],
            tuple(k["downbeat"]),
            tuple(k["backbeat"]),
            tuple(k["pulse"]),
            k["pulse_on_beats"],
        )
        for name, k in data["kits"].items()
    }
    arrangements = {name: _arrangement(name, a, kits) for name, a in data["arrangements"].items()}
    songs = []
    seen: set[str] = set()
    for s in data["songs"]:
        where = f"demo recipe, song {s.get('id')!r}"
        if s["id"] in seen:
            raise InvalidInput(f"{where}: the id is used twice")
        seen.add(s["id"])
        if s["arrangement"] not in arrangements:
            raise InvalidInput(f"{where}: unknown arrangement {s['arrangement']!r}")
        if s["consent"] not in CONSENT_KINDS:
            raise InvalidInput(f"{where}: unknown consent kind {s['consent']!r}")
        collection = data["collections"][s["collection"]]
        meta = {k: s.get(k, collection.get(k)) for k in _META_FIELDS}
        meta["moods"] = tuple(collection.get("moods", ())) + tuple(s.get("moods", ()))
        template = collection["splits"][s.get("splits", 0)]
        splits = tuple(Split(holders[hid], share) for hid, share in template)
        check_splits(s["id"], splits)
        if s["consent"] in ("one_refuses_commercial", "one_holder_silent") and len(splits) < 2:
            raise InvalidInput(f"{where}: consent {s['consent']} needs two rights holders")
        songs.append(
            SongSpec(
                s["id"],
                s["source"],
                s.get("number"),
                float(s["tempo"]),
                s["arrangement"],
                s["consent"],
                meta,
                splits,
            )
        )
    return Recipe(
        min_s=float(data["min_s"]),
        max_s=float(data["max_s"]),
        tail_s=float(data["tail_s"]),
        consent_from=datetime.fromisoformat(data["consent_from"]),
        revoked_at=datetime.fromisoformat(data["revoked_at"]),
        kits=kits,
        arrangements=arrangements,
        songs=tuple(songs),
    )


def _voice(d: dict[str, Any]) -> Voice:
    return Voice(
        d["name"],
        d.get("program", 0),
        d.get("family", "drums"),
        d.get("role", ""),
        d.get("style", ""),
        d.get("kit", ""),
        d.get("transpose", 0),
    )


def _arrangement(name: str, a: dict[str, Any], kits: dict[str, Kit]) -> Arrangement:
    arr = Arrangement(
        name=name,
        parts=tuple(_voice(v) for v in a.get("parts", ())),
        order=a.get("order", "pitch"),
        melody=_voice(a["melody"]) if "melody" in a else None,
        harmony=tuple(_voice(v) for v in a.get("harmony", ())),
        bass=_voice(a["bass"]) if "bass" in a else None,
        drums=_voice(a["drums"]) if "drums" in a else None,
    )
    if bool(arr.parts) == bool(arr.melody):
        raise InvalidInput(f"demo recipe, arrangement {name!r}: give either parts or a melody")
    for v in arr.harmony:
        if v.style not in HARMONY_STYLES:
            raise InvalidInput(f"demo recipe, arrangement {name!r}: unknown style {v.style!r}")
    if arr.drums is not None and arr.drums.kit not in kits:
        raise InvalidInput(f"demo recipe, arrangement {name!r}: unknown kit {arr.drums.kit!r}")
    names = [v.name for v in (*arr.parts, arr.melody, *arr.harmony, arr.bass, arr.drums) if v]
    if len(set(names)) != len(names):
        raise InvalidInput(f"demo recipe, arrangement {name!r}: two voices share a stem name")
    return arr
