"""The content index: built once, then brought up to date from the last event it read; rebuilt
when it is gone, damaged, or from another ledger; the ledger itself never touched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from musicapp.export import export_audio, find_by_content
from musicapp.export.index import INDEX_NAME, ContentIndex, default_index_path
from musicapp.ledger import Ledger
from musicapp.testing.exports import stereo_music, strip_tags


def export(ledger: Ledger, folder: Path, seed: int, bits: int = 24):
    audio = stereo_music(2.0, 48000, seed=seed)
    return export_audio(audio, 48000, folder / f"e{seed}.flac", {"seed": seed}, ledger, bits=bits)


def filler(ledger: Ledger, n: int) -> None:
    ledger.append_many([("verification", {"n": i}) for i in range(n)])


def update(index_path: Path, ledger: Ledger):
    with ContentIndex(index_path) as index:
        return index.update(ledger)


def test_it_reads_only_the_events_it_has_not_seen(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    filler(ledger, 50)
    export(ledger, tmp_path, 1)
    first = update(path, ledger)
    assert (first.read, first.rebuilt, first.last_seq) == (51, True, 51)
    assert first.added == 4  # file, 24-bit samples, 16-bit read, 16-bit rounded
    again = update(path, ledger)
    assert (again.read, again.added, again.rebuilt) == (0, 0, False)
    filler(ledger, 7)
    export(ledger, tmp_path, 2, bits=16)
    later = update(path, ledger)
    assert (later.read, later.added, later.rebuilt, later.last_seq) == (8, 2, False, 59)


def test_lookups_see_exports_made_after_the_index(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    first = export(ledger, tmp_path, 1)
    strip_tags(first.path)
    assert find_by_content(first.path, ledger, path).event_id == first.event_id
    second = export(ledger, tmp_path, 2)
    strip_tags(second.path)
    assert find_by_content(second.path, ledger, path).event_id == second.event_id
    assert update(path, ledger).read == 0  # the lookup brought it up to date


def test_a_deleted_index_is_rebuilt(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    result = export(ledger, tmp_path, 1)
    filler(ledger, 3)
    update(path, ledger)
    path.unlink()
    rebuilt = update(path, ledger)
    assert (rebuilt.rebuilt, rebuilt.read) == (True, 4)
    strip_tags(result.path)
    assert find_by_content(result.path, ledger, path).event_id == result.event_id


def test_a_damaged_index_is_thrown_away_and_rebuilt(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    result = export(ledger, tmp_path, 1)
    path.write_bytes(b"not a database at all" * 300)
    strip_tags(result.path)
    assert find_by_content(result.path, ledger, path).event_id == result.event_id
    assert update(path, ledger).read == 0


def test_an_index_of_another_ledger_starts_over(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    ours = export(ledger, tmp_path, 1)
    update(path, ledger)
    with Ledger(tmp_path / "other" / "ledger.sqlite") as other:
        theirs = export(other, tmp_path, 2)
        filler(other, 2)
        moved = update(path, other)
        assert (moved.rebuilt, moved.read) == (True, 3)
        strip_tags(ours.path)
        strip_tags(theirs.path)
        assert find_by_content(ours.path, other, path) is None
        assert find_by_content(theirs.path, other, path).event_id == theirs.event_id


def test_the_ledger_is_not_changed_and_the_index_sits_beside_it(
    ledger: Ledger, tmp_path: Path
) -> None:
    result = export(ledger, tmp_path, 1)
    strip_tags(result.path)

    def schema_and_rows() -> tuple[list, int]:
        with sqlite3.connect(ledger.path) as db:
            schema = db.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY name"
            ).fetchall()
            return schema, db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    before = schema_and_rows()
    assert find_by_content(result.path, ledger, None).event_id == result.event_id
    assert schema_and_rows() == before
    assert default_index_path(ledger) == tmp_path / INDEX_NAME
    assert (tmp_path / INDEX_NAME).is_file()
    assert ledger.verify().ok


def test_an_index_that_cannot_be_written_is_done_without(ledger: Ledger, tmp_path: Path) -> None:
    result = export(ledger, tmp_path, 1)
    strip_tags(result.path)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # chmod cannot stop root; a file in the path can
    match = find_by_content(result.path, ledger, blocker / "content-index.sqlite")
    assert match is not None and match.event_id == result.event_id
