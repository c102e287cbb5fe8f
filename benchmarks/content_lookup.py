"""Times finding an export by its audio (musicapp verify FILE without tags) on a long ledger.

Run: .venv/bin/python benchmarks/content_lookup.py [--events N] [--seconds S] [--dir FOLDER]
The ledger holds N events (default 100,000): verifications, generations and exports in the
proportions a busy studio makes them (one export in three takes), each take and export with its
content digests, and one real export of S seconds (default 30) of 48 kHz stereo at 24 bits
whose tags are then stripped. Rows:

- digests: decoding the file and hashing it (every depth it is exactly, and its bytes).
- index build: the first lookup on a ledger with no index: every event read once.
- lookup: a lookup with the index up to date (digests + one indexed query + two ledger gets).
- incremental: the index brought up to date after 10 more events (only those are read).
- scan: for comparison, the same lookup without an index: every export and generation payload
  parsed and compared.
Goal (issue 11): a lookup on 100,000+ events that costs about what decoding the file costs.
"""

from __future__ import annotations

import argparse
import json
import secrets
import tempfile
import time
from pathlib import Path

from ledger_appends import PAYLOAD

from musicapp.export import export_audio, file_digests, find_by_content
from musicapp.export.index import ContentIndex
from musicapp.ledger import Ledger
from musicapp.testing.exports import stereo_music, strip_tags


def _digest() -> str:
    return secrets.token_hex(32)


def fill(ledger: Ledger, events: int) -> None:
    """``events`` events: verification, generation, and every third take an export."""
    batch: list[tuple[str, dict]] = []
    n = 0
    while n < events:
        gen = {**PAYLOAD, "pcm_format": "f32le", "pcm_sha256": _digest(), "file_sha256": _digest()}
        batch += [("verification", {"allowed": True}), ("generation", gen)]
        n += 2
        if n % 3 == 2 and n < events:
            record = {
                "references": PAYLOAD["request"]["references"],
                "rights_holders": [
                    {"id": f"h{i}", "name": f"Holder {i}", "share": 0.2} for i in range(5)
                ],
                "audio_sha256": _digest(),
                "pcm_format": "s24le",
                "pcm_sha256": _digest(),
                "pcm16_rounded_sha256": _digest(),
            }
            # As an export records it: the record again inside its tags.
            tags = {"TITLE": "After song-0", "MUSICAPP_ATTRIBUTION": json.dumps(record)}
            export = {**record, "tags": tags, "file_sha256": _digest()}
            batch.append(("export", export))
            n += 1
        if len(batch) >= 2000:
            ledger.append_many(batch)
            batch = []
    if batch:
        ledger.append_many(batch)


def scan(ledger: Ledger, wanted: set[str]) -> list[str]:
    """The lookup without an index: every export and generation payload read and compared (all
    of them: a lookup ranks every match, the same take may have been exported twice)."""
    found = []
    for kind in ("export", "generation"):
        for event in ledger.stored_events(kind=kind):
            payload = json.loads(event.payload_json)
            if wanted & {str(v) for k, v in payload.items() if k.endswith("sha256")}:
                found.append(event.id)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        index_path = folder / "content-index.sqlite"
        with Ledger(folder / "ledger.sqlite") as ledger:
            fill(ledger, args.events)
            audio = stereo_music(args.seconds, 48000)
            result = export_audio(audio, 48000, folder / "song.flac", {"n": 1}, ledger)
            strip_tags(result.path)
            total = ledger.count()

            start = time.perf_counter()
            digests = file_digests(result.path)
            digests_s = time.perf_counter() - start

            start = time.perf_counter()
            with ContentIndex(index_path) as index:
                built = index.update(ledger)
            build_s = time.perf_counter() - start

            start = time.perf_counter()
            match = find_by_content(result.path, ledger, index_path)
            lookup_s = time.perf_counter() - start
            assert match is not None and match.event_id == result.event_id

            ledger.append_many([("verification", {"n": i}) for i in range(10)])
            start = time.perf_counter()
            with ContentIndex(index_path) as index:
                later = index.update(ledger)
            incremental_s = time.perf_counter() - start

            start = time.perf_counter()
            found = scan(ledger, set(digests.exact.values()))
            scan_s = time.perf_counter() - start
            assert found == [result.event_id]
            size_mb = index_path.stat().st_size / 1e6
    print(f"ledger       {total} events, index {size_mb:.1f} MB")
    print(f"digests      {digests_s:6.3f} s   ({args.seconds:g} s of 48 kHz stereo, 24-bit FLAC)")
    print(f"index build  {build_s:6.3f} s   ({built.read} events read, {built.added} digests)")
    print(f"lookup       {lookup_s:6.3f} s   (index up to date: digests + query)")
    print(f"incremental  {incremental_s:6.3f} s   ({later.read} new events read)")
    print(f"scan         {scan_s:6.3f} s   (no index: every take and export payload parsed)")


if __name__ == "__main__":
    main()
