"""The Export dialog (issue 19): format, depth and dither, sample rate, channels, loudness under a
true-peak ceiling, stems, folder and a file-name template with a live preview; the choices are
kept; the result names every file and what was done to the sound, with Reveal in folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from ui_fakes import answer_export_dialog

from musicapp.rooms.exports import ExportPlan
from musicapp.ui.export_dialog import ExportDialog
from musicapp.ui.main_window import MainWindow

TAKE_MS = 10_000


@pytest.fixture
def window(qtbot, fake_context):
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture
def take(qtbot, window):
    window.add_reference("s1")
    window.start_generation()
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=TAKE_MS)
    return window.result.take


def dialog_for(qtbot, window, take, folder: Path) -> ExportDialog:
    dialog = ExportDialog(window.studio.exports, take, folder, window)
    qtbot.addWidget(dialog)
    return dialog


def choose(box, data) -> None:
    box.setCurrentIndex(box.findData(data))


def test_an_mp3_needs_a_rate_mp3_can_carry_and_the_dialog_says_so(
    qtbot, window, take, tmp_path: Path
) -> None:
    dialog = dialog_for(qtbot, window, take, tmp_path)
    assert [dialog.format.itemText(i) for i in range(dialog.format.count())] == [
        "WAV",
        "FLAC",
        "MP3",
    ]
    choose(dialog.format, ".mp3")  # the fake's takes are 8 kHz
    assert not dialog.export_button.isEnabled()
    assert "32, 44.1 or 48 kHz" in dialog.preview.text()
    assert not dialog.bits.isEnabled() and dialog.bitrate.isEnabled()
    choose(dialog.rate, 48000)
    assert dialog.export_button.isEnabled()
    plan = dialog.plan()
    assert (plan.suffix, plan.bitrate) == (".mp3", 320)
    assert plan.mastering is not None and plan.mastering.sample_rate == 48000


def test_the_file_name_preview_follows_the_template_and_refuses_clashes(
    qtbot, window, take, tmp_path: Path
) -> None:
    dialog = dialog_for(qtbot, window, take, tmp_path)
    dialog.template.setText("{title} - {take}")
    assert dialog.preview.text() == f"Writes After fake - {take.id[:8]}.wav"
    dialog.template.setText("{artist}")
    assert not dialog.export_button.isEnabled()
    assert "unknown field {artist}" in dialog.preview.text()
    (tmp_path / "mine.wav").write_bytes(b"x")
    dialog.template.setText("mine")
    assert not dialog.export_button.isEnabled()
    assert "mine.wav is already in that folder" in dialog.preview.text()
    dialog.folder.setText(str(tmp_path / "missing"))
    assert "does not exist" in dialog.preview.text()


def test_loudness_and_16_bit_choices_make_the_plan_and_are_kept(
    qtbot, window, take, tmp_path: Path
) -> None:
    dialog = dialog_for(qtbot, window, take, tmp_path)
    assert not dialog.lufs.isEnabled()
    choose(dialog.format, ".flac")
    choose(dialog.bits, 16)
    choose(dialog.channels, 1)
    dialog.normalise.setChecked(True)
    assert dialog.lufs.isEnabled() and dialog.ceiling.isEnabled()
    dialog.lufs.setValue(-16.0)
    dialog.ceiling.setValue(-2.0)
    dialog.stems.setChecked(True)
    plan = dialog.plan()
    assert (plan.suffix, plan.bits, plan.stems) == (".flac", 16, True)
    m = plan.mastering
    assert m is not None and (m.channels, m.target_lufs, m.ceiling_dbtp, m.dither) == (
        1,
        -16.0,
        -2.0,
        True,
    )
    dialog.accept()
    again = dialog_for(qtbot, window, take, tmp_path)
    assert again.plan() == plan


def test_a_16_bit_export_of_an_unchanged_take_is_dithered_unless_turned_off(
    qtbot, window, take, tmp_path: Path
) -> None:
    dialog = dialog_for(qtbot, window, take, tmp_path)
    assert dialog.plan().mastering is None  # 24-bit as made: the take's samples as they are
    choose(dialog.bits, 16)
    assert dialog.plan().mastering is not None and dialog.plan().mastering.dither
    dialog.dither.setChecked(False)
    assert dialog.plan().mastering is not None and not dialog.plan().mastering.dither


def test_export_through_the_real_dialog_writes_the_file_named_by_the_template(
    qtbot, window, take, fake_studio, tmp_path: Path
) -> None:
    def fill_and_export() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ExportDialog)
        dialog.folder.setText(str(tmp_path))
        dialog.template.setText("song for {take}")
        choose(dialog.format, ".flac")
        dialog.export_button.click()

    QTimer.singleShot(0, fill_and_export)
    with qtbot.waitSignal(window.result.exported, timeout=TAKE_MS) as exported:
        window.result.export_take()
    assert exported.args[0].path == tmp_path / f"song for {take.id[:8]}.flac"
    assert exported.args[0].path.is_file()
    assert fake_studio.exports.plans[0].suffix == ".flac"


def test_the_result_names_the_stems_and_the_mastering_and_reveals_the_folder(
    qtbot, window, take, tmp_path: Path, monkeypatch
) -> None:
    from musicapp.rooms.exports import Mastering

    plan = ExportPlan(tmp_path, "mix", ".wav", mastering=Mastering(sample_rate=48000), stems=True)
    monkeypatch.setattr("musicapp.ui.export_dialog.ask_export_plan", lambda *a: plan)
    with qtbot.waitSignal(window.result.exported, timeout=TAKE_MS):
        window.result.export_take()
    text = window.result.export_label.text()
    assert str(tmp_path / "mix.wav") in text
    assert "and 2 stems (fake stems)" in text and "48 kHz from 8 kHz" in text
    assert (tmp_path / "mix - drums.wav").is_file()
    opened: list[str] = []
    monkeypatch.setattr(
        "musicapp.ui.result_widget.QDesktopServices.openUrl",
        lambda url: opened.append(url.toLocalFile()),
    )
    assert window.result.reveal_button.isVisible()
    window.result.reveal_button.click()
    assert opened == [str(tmp_path)]


def test_cancelling_the_dialog_exports_nothing(qtbot, window, take, fake_studio, monkeypatch):
    answer_export_dialog(monkeypatch, None)
    window.result.export_take()
    assert fake_studio.exports.plans == []
    assert window.result.export_button.isEnabled()
