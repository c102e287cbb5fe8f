"""What other programs see in an export: each reader runs in a fresh interpreter importing only
its own library (c2pa-python, mutagen, beets' mediafile), or is the ``c2patool`` binary.

Nothing of musicapp is imported by a reader, so a pass means a stranger's program reads the
file, not that our own code reads back what it wrote. Each reader prints JSON; ``read`` returns
it parsed. Used by tests/integration/test_interop.py and packaging/make_samples.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

# The manifest store as c2pa-python's Reader gives it, cut to what a person checks: the
# validation state and codes, who signed, and each assertion of the active manifest; or, for a
# file with no manifest at all, ``manifest_found`` false and the reader's own words.
C2PA_READER = r"""
import json, sys
import c2pa
try:
    with c2pa.Reader(sys.argv[1]) as reader:
        store = json.loads(reader.json())
except Exception as exc:
    if "ManifestNotFound" not in type(exc).__name__:
        raise
    print(json.dumps({"manifest_found": False, "error": f"{type(exc).__name__}: {exc}"}))
    sys.exit(0)
active = store["manifests"][store["active_manifest"]]
print(json.dumps({
    "manifest_found": True,
    "validation_state": store.get("validation_state"),
    "validation_status": [s["code"] for s in store.get("validation_status") or []],
    "manifests": len(store["manifests"]),
    "title": active.get("title"),
    "claim_generator_info": active.get("claim_generator_info"),
    "signature_info": active.get("signature_info"),
    "assertions": {a["label"]: a.get("data") for a in active.get("assertions", [])},
}))
"""

# mutagen's own view: every tag as the format names it (ID3 frame keys, Vorbis field names).
MUTAGEN_READER = r"""
import json, sys
import mutagen
f = mutagen.File(sys.argv[1])
tags = {}
for key, value in (f.tags.items() if f.tags is not None else []):
    text = getattr(value, "text", None)
    if text is None and hasattr(value, "people"):
        text = [f"{r}: {n}" for r, n in value.people]
    if text is None and hasattr(value, "data"):  # UFID, or a binary frame (GEOB, PRIV)
        raw = bytes(value.data)
        try:
            text = [raw.decode("utf-8")] if len(raw) <= 200 else None
        except UnicodeDecodeError:
            text = None
        if text is None:
            kind = getattr(value, "mime", "") or getattr(value, "desc", "")
            text = [f"<{len(raw):,} bytes of binary data{', ' + kind if kind else ''}>"]
    if text is None:
        text = value if isinstance(value, list) else [repr(value)]
    tags[str(key)] = [str(t) for t in text]
print(json.dumps({"type": type(f).__name__, "mime": f.mime[0],
                  "length_s": round(f.info.length, 3), "sample_rate": f.info.sample_rate,
                  "channels": f.info.channels, "tags": tags}))
"""

# beets' tag library: the fields a music library would show.
MEDIAFILE_READER = r"""
import json, sys
import mediafile
m = mediafile.MediaFile(sys.argv[1])
print(json.dumps({"type": m.type, "title": m.title, "artist": m.artist, "comments": m.comments,
                  "length_s": round(m.length, 3), "samplerate": m.samplerate,
                  "channels": m.channels, "bitdepth": m.bitdepth, "bitrate": m.bitrate}))
"""

READERS = {"c2pa": C2PA_READER, "mutagen": MUTAGEN_READER, "mediafile": MEDIAFILE_READER}
IMPORTS = {"c2pa": "c2pa", "mutagen": "mutagen", "mediafile": "mediafile"}


class ReaderFailed(RuntimeError):
    """A reader exited with an error: its message says which reader, which file and why."""


def available(reader: str) -> bool:
    """Whether ``reader``'s library imports in a fresh interpreter of this Python."""
    probe = subprocess.run(
        [sys.executable, "-c", f"import {IMPORTS[reader]}"], capture_output=True, text=True
    )
    return probe.returncode == 0


def read(reader: str, path: Path) -> dict[str, Any]:
    """What ``reader`` (a key of READERS) prints for ``path``, parsed from its JSON."""
    out = subprocess.run(
        [sys.executable, "-c", READERS[reader], str(path)], capture_output=True, text=True
    )
    if out.returncode != 0:
        last = out.stderr.strip().splitlines()[-1:] or ["no message"]
        raise ReaderFailed(f"{reader} could not read {path}: {last[0]}")
    found: dict[str, Any] = json.loads(out.stdout)
    return found


def c2patool() -> str | None:
    """The ``c2patool`` binary on PATH, if one is installed (none could be here: see
    docs/samples/README.md for what was tried)."""
    return shutil.which("c2patool")


def run_c2patool(path: Path) -> str:
    """``c2patool <file>``'s report, as it printed it."""
    tool = c2patool()
    if tool is None:
        raise ReaderFailed("c2patool is not installed")
    out = subprocess.run([tool, str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        raise ReaderFailed(f"c2patool could not read {path}: {out.stderr.strip()}")
    return out.stdout


def tag_text(tags: dict[str, list[str]], *names: str) -> str | None:
    """The first of ``names`` present in mutagen's tags (any case), as one string."""
    lowered = {k.lower(): v for k, v in tags.items()}
    for name in names:
        if name.lower() in lowered:
            return "\n".join(lowered[name.lower()])
    return None
