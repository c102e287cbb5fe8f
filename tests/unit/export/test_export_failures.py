"""Exports that cannot be made: a clear ExportError, no file left behind, the ledger told the truth."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from musicapp.core import InvalidInput
from musicapp.export import ExportError, export_audio
from musicapp.export import writer as writer_module
from musicapp.ledger import Ledger

ATTRIBUTION = {"references": [{"title": "Song A", "artist": "X", "share": 1.0}], "use": "private"}


@pytest.fixture
def ledger(tmp_path: Path):
    with Ledger(tmp_path / "ledger" / "ledger.sqlite") as led:
        yield led


@pytest.fixture
def audio() -> np.ndarray:
    return np.zeros((2, 3200), dtype=np.float32)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("take.ogg", "cannot write .ogg files"),
        ("take", "the name has no suffix"),
        ("take.wav.txt", "cannot write .txt files"),
    ],
)
def test_unknown_suffix(
    out_dir: Path, ledger: Ledger, audio: np.ndarray, name: str, what: str
) -> None:
    with pytest.raises(ExportError, match=re.escape(f"{what}; use .wav, .flac or .mp3")):
        export_audio(audio, 32000, out_dir / name, ATTRIBUTION, ledger)
    assert leftovers(out_dir) == [] and ledger.count() == 0


def test_folder_that_is_really_a_file(tmp_path: Path, ledger: Ledger, audio: np.ndarray) -> None:
    # chmod cannot stop root, so the unwritable folder is a path under a regular file.
    blocker = tmp_path / "notes.txt"
    blocker.write_text("I am a file")
    target = blocker / "take.wav"
    with pytest.raises(ExportError, match=rf"export {target}: {blocker} is a file, not a folder"):
        export_audio(audio, 32000, target, ATTRIBUTION, ledger)
    assert ledger.count() == 0
    assert blocker.read_text() == "I am a file"


def test_folder_that_does_not_exist(tmp_path: Path, ledger: Ledger, audio: np.ndarray) -> None:
    target = tmp_path / "no" / "such" / "take.flac"
    with pytest.raises(ExportError, match=f"folder {target.parent} does not exist"):
        export_audio(audio, 32000, target, ATTRIBUTION, ledger)
    assert ledger.count() == 0 and not (tmp_path / "no").exists()


def test_path_that_is_a_folder(out_dir: Path, ledger: Ledger, audio: np.ndarray) -> None:
    (out_dir / "take.wav").mkdir()
    with pytest.raises(ExportError, match="is a folder, not a file name"):
        export_audio(audio, 32000, out_dir / "take.wav", ATTRIBUTION, ledger)
    assert ledger.count() == 0 and leftovers(out_dir) == ["take.wav"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.zeros((3200, 2), dtype=np.float32), r"3200 channels .* Pass audio\.T"),
        (np.zeros(3200, dtype=np.float32), r"shaped \(channels, samples\)"),
        (np.zeros((2, 0), dtype=np.float32), "empty"),
        (np.full((1, 10), np.nan, dtype=np.float32), "NaN"),
        (np.zeros((1, 10), dtype=np.int16), "float samples"),
    ],
)
def test_bad_audio(out_dir: Path, ledger: Ledger, bad: np.ndarray, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        export_audio(bad, 32000, out_dir / "take.wav", ATTRIBUTION, ledger)
    assert leftovers(out_dir) == [] and ledger.count() == 0


def test_bad_sample_rate(out_dir: Path, ledger: Ledger, audio: np.ndarray) -> None:
    with pytest.raises(ExportError, match="sample rate"):
        export_audio(audio, 0, out_dir / "take.wav", ATTRIBUTION, ledger)
    with pytest.raises(ExportError, match="sample rate"):
        export_audio(audio, 32000.0, out_dir / "take.wav", ATTRIBUTION, ledger)  # type: ignore[arg-type]


def test_bad_attribution(out_dir: Path, ledger: Ledger, audio: np.ndarray) -> None:
    when = {"references": [], "made": datetime.now(UTC)}
    with pytest.raises(ExportError, match=r"attribution\.made: a value of type datetime"):
        export_audio(audio, 32000, out_dir / "take.wav", when, ledger)
    with pytest.raises(ExportError, match="audio_sha256, format cannot be given"):
        export_audio(
            audio, 32000, out_dir / "take.wav", {"format": "x", "audio_sha256": "y"}, ledger
        )
    assert leftovers(out_dir) == [] and ledger.count() == 0
    assert issubclass(ExportError, InvalidInput)


def test_failure_before_the_ledger_leaves_nothing(
    out_dir: Path, ledger: Ledger, audio: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer_module, "write_tags", broken)
    with pytest.raises(ExportError, match="failed while writing the tags.*No space left"):
        export_audio(audio, 32000, out_dir / "take.flac", ATTRIBUTION, ledger)
    assert leftovers(out_dir) == [] and ledger.count() == 0


def test_ledger_that_refuses(out_dir: Path, ledger: Ledger, audio: np.ndarray) -> None:
    ledger.close()
    with pytest.raises(ExportError, match="recording the export in the ledger.*closed"):
        export_audio(audio, 32000, out_dir / "take.wav", ATTRIBUTION, ledger)
    assert leftovers(out_dir) == []


def test_failure_after_the_ledger_is_recorded_as_a_new_event(
    out_dir: Path, ledger: Ledger, audio: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(writer_module, "_write_sidecar_temp", broken)
    with pytest.raises(ExportError, match="failed while writing the sidecar"):
        export_audio(audio, 32000, out_dir / "take.wav", ATTRIBUTION, ledger)
    assert leftovers(out_dir) == []
    export, failure = list(ledger.events())
    assert export.kind == "export" and failure.kind == "export_failed"
    assert failure.payload["export_event_id"] == export.id
    assert failure.payload["stage"] == "writing the sidecar"
    assert "Input/output error" in failure.payload["error"]
    assert ledger.verify().ok


def test_sidecar_rename_failing_takes_the_audio_back(
    out_dir: Path, ledger: Ledger, audio: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = writer_module.os.replace
    calls = []

    def replace(src: object, dst: object) -> None:
        calls.append(dst)
        if str(dst).endswith(".attribution.json"):
            raise PermissionError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(writer_module.os, "replace", replace)
    with pytest.raises(ExportError, match="Permission denied"):
        export_audio(audio, 32000, out_dir / "take.flac", ATTRIBUTION, ledger)
    assert len(calls) == 2  # the audio went into place, then came back out
    assert leftovers(out_dir) == []
    assert [e.kind for e in ledger.events()] == ["export", "export_failed"]


def test_interrupt_after_the_ledger_is_recorded_and_re_raised(
    out_dir: Path, ledger: Ledger, audio: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(writer_module, "_write_sidecar_temp", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_audio(audio, 32000, out_dir / "take.wav", ATTRIBUTION, ledger)
    assert leftovers(out_dir) == []
    assert [e.kind for e in ledger.events()] == ["export", "export_failed"]


def test_folder_without_write_permission(
    out_dir: Path, ledger: Ledger, audio: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What chmod 0o500 gives a normal user; faked because root ignores the mode bits.
    monkeypatch.setattr(writer_module.os, "access", lambda path, mode: False)
    with pytest.raises(ExportError, match=f"folder {out_dir} is not writable"):
        export_audio(audio, 32000, out_dir / "take.wav", ATTRIBUTION, ledger)
    assert leftovers(out_dir) == [] and ledger.count() == 0


def test_folder_that_refuses_the_temp_file(
    out_dir: Path, ledger: Ledger, audio: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = writer_module.os.open

    def refuse(path: object, flags: int, mode: int = 0o777) -> int:
        if ".tmp-" in str(path):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, mode)

    monkeypatch.setattr(writer_module.os, "open", refuse)
    with pytest.raises(ExportError, match=f"cannot write in folder {out_dir} \\(Permission denied"):
        export_audio(audio, 32000, out_dir / "take.wav", ATTRIBUTION, ledger)
    assert leftovers(out_dir) == [] and ledger.count() == 0
