"""A damaged ledger in the window: a banner says what and which commands; Generate, Tone match
Apply and Export are refused naming them; browsing goes on; Check again sees a repair."""

from pathlib import Path

import numpy as np
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from ui_fakes import FakePlayer, answer_export_dialog

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.core import GenerationRequest, Reference
from musicapp.jobs import CancelToken
from musicapp.ledger import Damage, Finding, Ledger
from musicapp.ui.audio_panel import AudioPanel
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.main_window import MainWindow
from musicapp.ui.result_widget import ResultWidget

A = PERMITTED_SONG_IDS[0]
DAMAGE = Damage(
    Path("/data/ledger.sqlite"),
    findings=(Finding("edited", 2, "hash:2:a:b", "event 2 (id x, generation): edited"),),
    rows=1,
    cli_args=" --data-dir /data",
)


def refusal(qtbot, parent) -> QMessageBox:
    qtbot.waitUntil(lambda: parent.findChild(QMessageBox, "errorBox") is not None, timeout=10_000)
    box = parent.findChild(QMessageBox, "errorBox")
    assert box.isVisible()
    return box


def test_the_window_shows_the_damage_refuses_generate_and_sees_a_repair(qtbot, damaged_context):
    window = MainWindow(damaged_context)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    banner = window.ledger_banner
    assert banner.isVisible()
    assert banner.what.text() == "Event 2 was edited."
    assert "musicapp ledger repair --data-dir" in banner.commands.text()

    # Browsing still works: the catalogue, the references, the live consent check.
    model = window.browser.tree_model
    qtbot.waitUntil(lambda: model.rowCount() > 0, timeout=10_000)
    window.add_reference(A)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared")
    window.settings_panel.duration.setValue(4)
    qtbot.mouseClick(window.generate_bar.generate_button, Qt.MouseButton.LeftButton)
    box = refusal(qtbot, window)
    assert box.windowTitle() == "Cannot generate"
    assert "nothing was recorded" in box.text() and "Event 2 was edited." in box.text()
    assert "musicapp ledger repair --data-dir" in box.text()
    qtbot.waitUntil(lambda: window.generation is None)
    assert window.result.take is None and damaged_context.ledger.count() == 3
    assert list(damaged_context.settings.takes_dir.iterdir()) == []
    box.close()

    # Repaired from a terminal (another process, here another Ledger on the same file).
    with Ledger(damaged_context.settings.ledger_path) as elsewhere:
        elsewhere.repair("checked the edit")
    assert banner.isVisible()  # the window does not know yet
    qtbot.mouseClick(banner.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10_000)
    # The banner may go first (it follows the ledger's state on a timer), the check's words
    # when the check job ends.
    qtbot.waitUntil(lambda: "intact" in window.statusBar().currentMessage(), timeout=10_000)


def test_tone_match_apply_and_export_are_refused_naming_the_commands(qtbot, fake_studio, tmp_path):
    t = np.arange(2 * 8000) / 8000
    stem = tmp_path / "guitar.wav"
    sf.write(stem, (0.4 * np.sin(2 * np.pi * 196 * t)).astype(np.float32), 8000)
    panel = AudioPanel(fake_studio, JobRunner(), tmp_path, None, None, FakePlayer())
    qtbot.addWidget(panel)
    panel.show()
    panel.stem.load(stem)
    qtbot.waitUntil(lambda: not panel.stem.loading(), timeout=5000)
    panel.add_song("s1")
    panel.refresh_check()
    assert panel.apply_button.isEnabled(), panel.check_label.text()

    fake_studio.ledger = DAMAGE
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    box = refusal(qtbot, panel)
    assert box.windowTitle() == "Cannot tone-match"
    assert "musicapp ledger repair --data-dir /data" in box.text()
    qtbot.waitUntil(lambda: panel.handle is None)
    assert panel.take is None
    box.close()

    # A take made before the damage was found cannot be exported either.
    fake_studio.ledger = None
    panel.apply()
    qtbot.waitUntil(lambda: panel.take is not None, timeout=5000)
    fake_studio.ledger = DAMAGE
    out = tmp_path / "out.wav"
    with qtbot.waitSignal(panel.export_to(out).done, timeout=5000):
        pass
    box = refusal(qtbot, panel)
    assert box.windowTitle() == "Cannot export" and "musicapp ledger verify" in box.text()
    assert not out.exists()


def test_the_take_panel_refuses_export_without_a_traceback(
    qtbot, fake_studio, tmp_path, monkeypatch
):
    request = GenerationRequest((Reference("s1"), Reference("s2")), duration_s=2.0)
    take = fake_studio.generate_job(request).run(lambda p: None, CancelToken())
    songs = {sid: fake_studio.song(sid) for sid in take.provenance.song_shares()}
    panel = ResultWidget(fake_studio, JobRunner(), tmp_path, FakePlayer())
    qtbot.addWidget(panel)
    panel.show()
    panel.show_take(take, songs)
    out = tmp_path / "take.wav"
    answer_export_dialog(monkeypatch, out)
    fake_studio.ledger = DAMAGE
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    box = refusal(qtbot, panel)
    assert box.windowTitle() == "Cannot export" and box.detailedText() == ""
    assert "Event 2 was edited." in box.text()
    assert not out.exists()
