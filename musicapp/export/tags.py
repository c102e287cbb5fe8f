"""Tags in and out of WAV (an ID3 chunk), MP3 (an ID3v2.4 tag) and FLAC (Vorbis comments),
under one set of names.

Both formats are read into the same canonical dict ``{name: value}``: the value is a string, or
a list of strings for a tag given more than once. Our tags have the same names in both formats
(TITLE, ARTIST, COMMENT, MUSICAPP_ATTRIBUTION, MUSICAPP_EVENT_ID); in ID3 they are TIT2, TPE1,
COMM (language eng, no description) and TXXX frames. Any other tag keeps its own name (the ID3
frame key, or the upper-cased Vorbis field name), so a tag added later shows up by name.

An MP3 also gets what ID3v2.4 has a frame for: the export event id as a UFID owned by
"musicapp" (read back as ``UFID:musicapp``, its id as text), and the rights holders in TIPL
(read back as ``TIPL``, one "role: name" string per person).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mutagen.flac import FLAC
from mutagen.id3 import COMM, GEOB, ID3, TIPL, TIT2, TPE1, TXXX, UFID, Frame, ID3NoHeaderError
from mutagen.wave import WAVE

from musicapp.export.record import ARTIST, COMMENT, TITLE

TagValue = str | list[str]

# ID3v2.3 rather than 2.4: many players and file browsers read only 2.3 inside WAV files.
ID3_VERSION = 3
_ID3_TEXT = {TITLE: TIT2, ARTIST: TPE1}
_ID3_NAMES = {"TIT2": TITLE, "TPE1": ARTIST, "COMM::eng": COMMENT}
_UTF16 = 1  # ID3v2.3 has no UTF-8; mutagen would convert anyway
# MP3 files have no such readers to please: ID3v2.4, whose TIPL frame and UTF-8 text 2.3 lacks.
MP3_ID3_VERSION = 4
_UTF8 = 3
UFID_OWNER = "musicapp"


def _value(texts: list[str]) -> TagValue:
    return texts[0] if len(texts) == 1 else texts


def _frame(name: str, text: str, encoding: int) -> Frame:
    if name in _ID3_TEXT:
        return _ID3_TEXT[name](encoding=encoding, text=[text])
    if name == COMMENT:
        return COMM(encoding=encoding, lang="eng", desc="", text=[text])
    return TXXX(encoding=encoding, desc=name, text=[text])


def write_mp3_tags(
    path: Path,
    tags: Mapping[str, str],
    *,
    event_id: str = "",
    people: Sequence[tuple[str, str]] = (),
) -> None:
    """Write ``tags`` into the MP3's ID3v2.4 tag, with the UFID and TIPL frames (the module's
    docstring) when ``event_id`` and ``people`` are given; other frames are kept."""
    try:
        id3 = ID3(path)
    except ID3NoHeaderError:
        id3 = ID3()
    frames = [_frame(name, text, _UTF8) for name, text in tags.items()]
    if event_id:
        frames.append(UFID(owner=UFID_OWNER, data=event_id.encode("ascii")))
    if people:
        frames.append(TIPL(encoding=_UTF8, people=[[role, name] for role, name in people]))
    for frame in frames:
        id3[frame.HashKey] = frame
    id3.save(path, v2_version=MP3_ID3_VERSION)


def write_tags(path: Path, fmt: str, tags: Mapping[str, str]) -> None:
    """Write ``tags`` (name -> text) into the file; other tags already there are kept."""
    if fmt == "mp3":
        write_mp3_tags(path, tags)
    elif fmt == "wav":
        wave = WAVE(path)
        if wave.tags is None:
            wave.add_tags()
        id3: Any = wave.tags
        for name, text in tags.items():
            frame = _frame(name, text, _UTF16)
            id3[frame.HashKey] = frame
        wave.save(v2_version=ID3_VERSION)
    elif fmt == "flac":
        flac = FLAC(path)
        if flac.tags is None:
            flac.add_tags()
        for name, text in tags.items():
            flac[name] = [text]
        flac.save()
    else:
        raise ValueError(f"no tag writer for {fmt!r}")


def _id3_name(key: str) -> str:
    if key in _ID3_NAMES:
        return _ID3_NAMES[key]
    if key.startswith("TXXX:"):
        desc = key[len("TXXX:") :]
        if desc.startswith("MUSICAPP_"):
            return desc
    return key


def _id3_value(frame: Frame) -> TagValue:
    found: Any = frame  # mutagen's frames declare their fields at run time only
    if isinstance(frame, UFID):
        return bytes(found.data).decode("utf-8", "replace")
    if isinstance(frame, TIPL):
        return _value([f"{role}: {name}" for role, name in found.people] or [""])
    texts = getattr(frame, "text", None)
    if isinstance(texts, list):
        return _value([str(t) for t in texts])
    # Pictures and other binary frames: enough to tell whether they changed.
    return "sha256:" + hashlib.sha256(repr(frame).encode("utf-8", "replace")).hexdigest()


def _is_c2pa(frame: Frame) -> bool:
    """The GEOB frame c2pa keeps an MP3's manifest store in: the manifest, not a tag (the
    ``c2pa`` check reads it; it is added after the tags are recorded)."""
    found: Any = frame
    return isinstance(frame, GEOB) and str(getattr(found, "mime", "")) == "application/c2pa"


def read_tags(path: Path, fmt: str) -> dict[str, TagValue]:
    """Every tag in the file as ``{name: value}``; mutagen errors pass to the caller."""
    out: dict[str, TagValue] = {}
    if fmt in ("wav", "mp3"):
        id3: Any = WAVE(path).tags if fmt == "wav" else _mp3_id3(path)
        for key, frame in (id3 or {}).items():
            if not _is_c2pa(frame):
                out[_id3_name(key)] = _id3_value(frame)
        return out
    if fmt == "flac":
        grouped: dict[str, list[str]] = {}
        comments: Any = FLAC(path).tags
        for key, text in comments or []:
            grouped.setdefault(key.upper(), []).append(text)
        return {name: _value(texts) for name, texts in grouped.items()}
    raise ValueError(f"no tag reader for {fmt!r}")


def _mp3_id3(path: Path) -> ID3 | None:
    try:
        return ID3(path)
    except ID3NoHeaderError:
        return None
