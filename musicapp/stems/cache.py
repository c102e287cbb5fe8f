"""Separated stems on disk, keyed by (audio content hash, method or model, settings).

Separation takes minutes; asking again for the same audio with the same model must be instant.
An entry is built in a staging folder and renamed into place with its `meta.json` written last,
so a crash or a cancel never leaves an entry that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

META = "meta.json"


@dataclass(frozen=True)
class CacheKey:
    content_hash: str
    method: str  # the Demucs model name, or "hpss" for the fallback
    settings: str = ""

    def folder_name(self) -> str:
        text = f"{self.content_hash}|{self.method}|{self.settings}"
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CachedStems:
    folder: Path
    stems: dict[str, Path]
    sample_rate: int


class StemCache:
    """The stems cache under `Settings().data_dir / "stems"`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def get(self, key: CacheKey) -> CachedStems | None:
        """The cached stems, or None when absent or incomplete (a damaged entry is ignored and
        rebuilt by the next `put`)."""
        folder = self.root / key.folder_name()
        try:
            meta = json.loads((folder / META).read_text(encoding="utf-8"))
            stems = {name: folder / f"{name}.flac" for name in meta["stems"]}
            rate = int(meta["sample_rate"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not all(p.is_file() for p in stems.values()):
            return None
        return CachedStems(folder, stems, rate)

    def put(
        self, key: CacheKey, build: Callable[[Path], tuple[dict[str, Path], int]]
    ) -> CachedStems:
        """Run `build(staging_dir)` (which writes `<stem>.flac` files and returns them with their
        sample rate) and move the result into the cache. On error or cancel nothing is kept."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            stems, rate = build(staging)
            meta = {
                "content_hash": key.content_hash,
                "method": key.method,
                "settings": key.settings,
                "stems": list(stems),
                "sample_rate": rate,
            }
            (staging / META).write_text(json.dumps(meta, indent=2), encoding="utf-8")
            folder = self.root / key.folder_name()
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return CachedStems(folder, {n: folder / f"{n}.flac" for n in stems}, rate)
