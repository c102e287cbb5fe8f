"""The vector index's file: a checked header, then faiss' own serialisation, written atomically.

A 4 KiB header (magic, JSON with the payload's length and sha256, and the index's settings)
precedes the faiss bytes. The payload is streamed (a 1M-vector index is ~0.6 GB: no copy in
memory) into a temp file beside the target, hashed as it goes, and renamed into place, so a
crash leaves the old file or the new one, never half of one. Reading checks the length and the
hash before faiss parses anything, so a damaged file is refused with its name, not mis-read.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from musicapp.core import InvalidInput

MAGIC = b"musicapp vector index 1\n"
HEADER = 4096
_CHUNK = 16 << 20


def faiss_module() -> Any:
    """faiss, imported on first use (starting the CLI does not pay for it); untyped, as its
    SWIG classes are mostly unknown to mypy."""
    import faiss

    return faiss


def write(path: Path, index: Any, meta: dict[str, Any]) -> None:
    """Write `index` with `meta` to `path` atomically."""
    faiss = faiss_module()

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(b"\0" * HEADER)
            digest = hashlib.sha256()
            length = 0

            def sink(chunk: bytes) -> None:
                nonlocal length
                f.write(chunk)
                digest.update(chunk)
                length += len(chunk)

            faiss.write_index(index, faiss.PyCallbackIOWriter(sink))
            head = {**meta, "bytes": length, "sha256": digest.hexdigest()}
            text = MAGIC + json.dumps(head, sort_keys=True).encode() + b"\n"
            if len(text) > HEADER:
                raise InvalidInput(f"{path}: index settings too long for the header")
            f.seek(0)
            f.write(text.ljust(HEADER, b" "))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: Path) -> tuple[Any, dict[str, Any]]:
    """The index and its settings from `path`; InvalidInput naming the file if it is damaged."""
    faiss = faiss_module()

    def bad(why: str) -> InvalidInput:
        return InvalidInput(f"{path}: not a usable vector index ({why})", path=str(path))

    try:
        f = open(path, "rb")  # noqa: SIM115 (closed below, after faiss has read it)
    except OSError as e:
        detail = f"{path}: cannot open the vector index ({e.strerror})"
        raise InvalidInput(detail, path=str(path)) from None
    with f:
        head = f.read(HEADER)
        if len(head) < HEADER or not head.startswith(MAGIC):
            raise bad("no header")
        try:
            meta = json.loads(head[len(MAGIC) :].decode())
            length, expected = int(meta["bytes"]), str(meta["sha256"])
        except (ValueError, KeyError, TypeError) as e:
            raise bad(f"header unreadable: {e}") from None
        if os.fstat(f.fileno()).st_size != HEADER + length:
            raise bad("truncated or extended")
        digest = hashlib.sha256()
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
        if digest.hexdigest() != expected:
            raise bad("checksum mismatch")
        f.seek(HEADER)
        try:
            index = faiss.read_index(faiss.PyCallbackIOReader(f.read))
        except RuntimeError as e:
            raise bad(f"faiss: {str(e).splitlines()[0]}") from None
    if not isinstance(index, faiss.IndexIDMap2 | faiss.IndexIVFScalarQuantizer):
        raise bad(f"unexpected index type {type(index).__name__}")
    return index, meta


def stored_ids(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every id the faiss index holds (flat with an id map, or IVF), unsorted, and its list
    (0 on a flat index)."""
    faiss = faiss_module()
    if isinstance(index, faiss.IndexIDMap2):
        ids = faiss.vector_to_array(index.id_map).astype(np.int64)
        return ids, np.zeros(len(ids), np.int32)
    lists = index.invlists
    sizes = np.array([lists.list_size(i) for i in range(index.nlist)], np.int64)
    parts = [
        faiss.rev_swig_ptr(lists.get_ids(i), int(size)).copy()
        for i, size in enumerate(sizes)
        if size
    ]
    ids = np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)
    return ids, np.repeat(np.arange(index.nlist, dtype=np.int32), sizes)
