"""Small files written all at once: no half file, no stray temporary, the mode asked for."""

import os
import stat

import pytest

from musicapp.files import write_atomic, write_once


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "ca.pem"
    write_atomic(target, b"old")
    write_atomic(target, b"new", mode=0o600)
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["ca.pem"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_write_once_keeps_the_first_writers_file(tmp_path):
    target = tmp_path / "key.pem"
    assert write_once(target, b"first") is True
    assert write_once(target, b"second") is False
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["key.pem"]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "crl.pem"
    write_atomic(target, b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["crl.pem"]
