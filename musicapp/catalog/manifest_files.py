"""Reading a manifest file's records strictly, each with the line it starts on (CSV or JSON).

A malformed record is returned as an error naming its line, never merged into its neighbours:
CSV goes through the csv module in strict mode one record at a time, and a record that runs
over a line break (an unclosed quote) is refused and reading resumes on the next line.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musicapp.core import InvalidInput

MAX_MANIFEST_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
_WHITESPACE = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True)
class Record:
    """One song of a manifest: where it is, and its fields or why they could not be read."""

    where: str  # "manifest.csv line 7" or "manifest.json song 3 (line 12)", for messages
    fields: dict[str, Any] | None
    error: str = ""


def read_records(path: Path) -> list[Record]:
    """The records of a .csv or .json manifest. Raises InvalidInput naming the file (and the
    line and column where it can) when the file as a whole cannot be used."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InvalidInput(f"manifest {path}: use a .csv or .json file")
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise InvalidInput(
                f"manifest {path}: {size / 1e6:.1f} MB, at most {MAX_MANIFEST_BYTES // 2**20} MB;"
                " split it into smaller manifests"
            )
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"manifest {path}: cannot be read ({exc})") from exc
    records = _csv_records(text, path) if suffix == ".csv" else _json_records(text, path)
    if len(records) > MAX_ROWS:
        raise InvalidInput(
            f"manifest {path}: {len(records)} songs ({records[MAX_ROWS].where} is the first "
            f"over the limit), at most {MAX_ROWS}; split it into smaller manifests"
        )
    return records


class _Lines:
    """The file's physical lines, consumed one at a time, so each csv reader stops where its
    record ends and the next one starts there."""

    def __init__(self, text: str) -> None:
        self.lines = io.StringIO(text, newline="").readlines()
        self.pos = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _csv_records(text: str, path: Path) -> list[Record]:
    # A field may be as long as the file; the limits on each field are checked by name later,
    # with a message that says which one. Raising the module's limit affects no other reader.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_MANIFEST_BYTES + 1))
    lines = _Lines(text)
    header: list[str] | None = None
    out: list[Record] = []
    while lines.pos < len(lines.lines):
        start = lines.pos + 1
        where = f"{path.name} line {start}"
        try:
            fields = next(csv.reader(lines, strict=True))
        except StopIteration:
            break
        except csv.Error as exc:
            problem, fields = f"not well-formed CSV ({exc})", None
        else:
            problem = ""
        # The record ran past its line, or the file ended inside quotes: a quote was left open.
        if lines.pos - start > 0 or "end of data" in problem:
            problem = (
                "a quoted field runs past the end of the line (an unclosed quote?); "
                'put the closing " on the same line'
            )
        if problem:
            if header is None:
                raise InvalidInput(f"manifest {path} line {start}: {problem}")
            out.append(Record(where, None, f"{where}: {problem}"))
            lines.pos = start  # go on with the next line, which the bad record swallowed
            continue
        assert fields is not None
        if not any(f.strip() for f in fields):
            continue
        if header is None:
            header = _header(fields, path)
            continue
        if len(fields) > len(header):
            out.append(
                Record(
                    where,
                    None,
                    f"{where}: {len(fields)} fields, but the header (line 1) names "
                    f"{len(header)} columns",
                )
            )
            continue
        out.append(Record(where, dict(zip(header, fields, strict=False))))
    if header is None:
        raise InvalidInput(f"manifest {path}: empty (no header line)")
    return out


def _header(fields: list[str], path: Path) -> list[str]:
    names = [f.strip() for f in fields]
    if any(not n for n in names):
        raise InvalidInput(f"manifest {path} line 1: column {names.index('') + 1} has no name")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidInput(f"manifest {path} line 1: column {dupes[0]!r} appears twice")
    return names


def _json_records(text: str, path: Path) -> list[Record]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"manifest {path} line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})"
        ) from None
    if isinstance(data, dict):
        extra = sorted(set(data) - {"songs"})
        if extra:
            raise InvalidInput(f"manifest {path}: unknown field {extra[0]!r} (expected 'songs')")
        songs = data.get("songs")
    else:
        songs = data
    if not isinstance(songs, list):
        raise InvalidInput(f"manifest {path}: expected a list of songs or {{'songs': [...]}}")
    newlines = [m.start() for m in re.finditer("\n", text)]
    out = []
    for n, (offset, song) in enumerate(zip(_element_offsets(text), songs, strict=False), start=1):
        line = bisect.bisect_left(newlines, offset) + 1
        where = f"{path.name} song {n} (line {line})"
        if isinstance(song, dict):
            out.append(Record(where, song))
        else:
            out.append(Record(where, None, f"{where}: not an object"))
    return out


def _element_offsets(text: str) -> list[int]:
    """Where each song of valid JSON starts: the elements of the top-level list, or of the
    top-level object's "songs" list."""
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        match = _WHITESPACE.match(text, i)
        return match.end() if match else i

    i = skip(0)
    if text[i] == "{":
        i = skip(i + 1)
        while text[i] != "}":
            key, i = decoder.raw_decode(text, i)
            i = skip(skip(i) + 1)  # past the colon
            if key == "songs":
                break
            _, i = decoder.raw_decode(text, i)
            i = skip(i)
            if text[i] == ",":
                i = skip(i + 1)
    offsets: list[int] = []
    i = skip(i + 1)  # past the opening bracket
    while text[i] != "]":
        offsets.append(i)
        _, i = decoder.raw_decode(text, i)
        i = skip(i)
        if text[i] == ",":
            i = skip(i + 1)
    return offsets
