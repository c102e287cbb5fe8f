"""The Audio panel: bad files get a clear message and the panel stays usable; weights become
the shares shown; a refused reference blocks Apply with its reason; A/B swaps the audio the
player gets; Export writes the file."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea
from ui_fakes import FakePlayer

from musicapp.core import Use
from musicapp.ui.audio_panel import AudioPanel
from musicapp.ui.job_runner import JobRunner

RATE = 8000


def _tone(path: Path, seconds: float = 2.5, channels: int = 1, rate: int = RATE) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    mono = (0.4 * np.sin(2 * np.pi * 196 * t)).astype(np.float32)
    sf.write(path, np.stack([mono] * channels).T, rate, "FLOAT")
    return path


def _panel(qtbot, studio, tmp_path, player=None, selection=None, tray=None) -> AudioPanel:
    panel = AudioPanel(
        studio, JobRunner(), tmp_path / "exports", selection, tray, player or FakePlayer()
    )
    qtbot.addWidget(panel)
    panel.show()
    return panel


def _load(qtbot, panel: AudioPanel, path: Path) -> None:
    panel.stem.load(path)
    qtbot.waitUntil(lambda: not panel.stem.loading(), timeout=5000)


def _ready(qtbot, studio, tmp_path, player=None) -> AudioPanel:
    """A loaded stem and two references at weights 3 and 1."""
    panel = _panel(qtbot, studio, tmp_path, player)
    _load(qtbot, panel, _tone(tmp_path / "di guitar.wav"))
    panel.add_song("s1")
    panel.add_song("s2")
    panel.references.set_weight(0, 3.0)
    panel.references.set_weight(1, 1.0)
    panel.refresh_check()
    return panel


def _apply(qtbot, panel: AudioPanel) -> None:
    assert panel.apply_button.isEnabled(), panel.check_label.text()
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.handle is None and panel.take is not None, timeout=5000)


def test_a_text_file_named_wav_gets_a_clear_message_and_a_good_file_loads_after(
    qtbot, fake_studio, tmp_path
):
    panel = _panel(qtbot, fake_studio, tmp_path)
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio at all")
    _load(qtbot, panel, bad)
    assert "notes.wav" in panel.stem.error()
    assert "cannot be read" in panel.stem.error()
    assert "notes.wav" in panel.check_label.text()
    assert not panel.apply_button.isEnabled()

    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    _load(qtbot, panel, empty)
    assert "empty" in panel.stem.error() and "0 bytes" in panel.stem.error()

    _load(qtbot, panel, _tone(tmp_path / "good.wav", channels=6))
    assert panel.stem.error() == ""
    assert panel.stem.path().endswith("good.wav")
    assert "6 ch" in panel.stem.info.text() and "8 kHz" in panel.stem.info.text()
    assert panel.check_label.text().startswith("Add at least one reference")


def test_a_file_over_the_length_limit_is_refused_before_decoding(qtbot, fake_studio, tmp_path):
    panel = _panel(qtbot, fake_studio, tmp_path)
    panel.stem.max_s = 2.0  # the real limit is 20 minutes; same check, smaller file
    _load(qtbot, panel, _tone(tmp_path / "long.wav", seconds=3.0))
    assert "long.wav" in panel.stem.error() and "longer than" in panel.stem.error()


def test_weights_3_and_1_give_shares_of_75_and_25_percent(qtbot, fake_studio, tmp_path):
    panel = _ready(qtbot, fake_studio, tmp_path)
    assert panel.check_label.text().startswith("✓ Cleared")
    _apply(qtbot, panel)
    assert panel.share_lines() == ["Song 1 — Baroque A 75.0 %", "Song 2 — Baroque A 25.0 %"]
    request = panel.take.request
    assert request.engine == "tonematch"
    assert [r.weight for r in request.references] == [3.0, 1.0]
    assert request.user_audio.endswith("di guitar.wav")
    assert request.options == {"wet": "0.8", "drive": "on", "dynamics": "on"}
    assert request.duration_s == 2.5
    assert panel.export_button.isEnabled()


def test_role_range_and_switches_reach_the_request(qtbot, fake_studio, tmp_path):
    from musicapp.core import Role, TimeRange

    panel = _ready(qtbot, fake_studio, tmp_path)
    panel.references.set_role(0, Role.MELODY)
    panel.references.set_time_range(1, TimeRange(2.0, 10.0))
    panel.wet.setValue(50)
    panel.drive.setChecked(False)
    panel.stem.set_range(0.5, 1.5)
    request = panel.request()
    # One stem plays the melody: that stem is the target.
    assert (request.references[0].role, request.references[0].part) == (None, "lead")
    # Two play the harmony: the role targets both; "Whole mix" targets neither.
    panel.references.set_role(1, Role.HARMONY)
    assert panel.request().references[1].role is Role.HARMONY
    labels = [panel.references.rows[1].role.itemText(i) for i in range(4)]
    assert labels[:2] == ["Whole mix", "Lead stem (Violin)"]
    panel.references.set_role(1, None)
    assert (panel.request().references[1].role, panel.request().references[1].part) == (None, "")
    assert request.references[1].time_range == TimeRange(2.0, 10.0)
    assert panel.references.rows[1].range_button.text() == "2.0–10.0 s"
    assert request.options == {"wet": "0.5", "drive": "off", "dynamics": "on"}
    assert request.user_range == TimeRange(0.5, 1.5)


def test_a_refused_reference_disables_apply_and_shows_the_reason(qtbot, fake_studio, tmp_path):
    panel = _ready(qtbot, fake_studio, tmp_path)
    panel.add_song("s3")  # no commercial use
    panel.use_box.setCurrentIndex(panel.use_box.findData(Use.COMMERCIAL))
    qtbot.waitUntil(lambda: not panel.apply_button.isEnabled())
    text = panel.check_label.text()
    assert text.startswith("Refused for commercial distribution")
    assert "Song 3" in text and "non-commercial distribution only" in text
    # Removing it clears the way again.
    panel.references.remove_row(2)
    qtbot.waitUntil(lambda: panel.apply_button.isEnabled())


def test_ab_switch_swaps_original_and_processed_at_the_same_place_and_loudness(
    qtbot, fake_studio, tmp_path
):
    """A/B at the same place and at the same loudness (issue 19: "loudness-matched A/B"): the
    fake tone match returns the stem 6 dB down, so the original is played 6 dB down too (the
    louder side is lowered, nothing is raised), and its button says so."""
    player = FakePlayer()
    panel = _ready(qtbot, fake_studio, tmp_path, player)
    _apply(qtbot, panel)
    original, _ = sf.read(str(tmp_path / "di guitar.wav"), dtype="float32", always_2d=True)
    stereo = np.repeat(original.T, 2, axis=0)
    assert panel.ab.side() == "B"
    qtbot.mouseClick(panel.ab.play_button, Qt.MouseButton.LeftButton)
    audio, rate = player.played[-1]
    assert rate == RATE
    np.testing.assert_allclose(audio, 0.5 * stereo, atol=1e-6)  # B: processed

    qtbot.mouseClick(panel.ab.a_button, Qt.MouseButton.LeftButton)
    audio, _ = player.played[-1]
    start = int(player.at_s * RATE)
    # A, from the same place, as loud as B
    np.testing.assert_allclose(audio, 0.5 * stereo[:, start:], atol=1e-5)
    assert "-6.0 dB down to the result's loudness" in panel.ab.a_button.toolTip()
    qtbot.mouseClick(panel.ab.play_button, Qt.MouseButton.LeftButton)
    assert not player.playing


def test_export_writes_the_file(qtbot, fake_studio, tmp_path, monkeypatch):
    panel = _ready(qtbot, fake_studio, tmp_path)
    _apply(qtbot, panel)
    out = tmp_path / "matched.flac"
    monkeypatch.setattr(
        "musicapp.ui.audio_panel.QFileDialog.getSaveFileName",
        lambda *a, **k: (str(out), "FLAC audio (*.flac)"),
    )
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Exported to" in panel.export_label.text(), timeout=5000)
    assert out.is_file() and sf.info(str(out)).frames > 0
    assert "evt-123" in panel.export_label.text()


def test_add_from_selection_and_tray_and_cancel(qtbot, fake_studio, tmp_path):
    fake_studio.step_s = 0.2
    panel = AudioPanel(
        fake_studio, JobRunner(), tmp_path, lambda: "s4", lambda: ["s1", "s4"], FakePlayer()
    )
    qtbot.addWidget(panel)
    _load(qtbot, panel, _tone(tmp_path / "stem.wav"))
    qtbot.mouseClick(panel.add_selected_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.add_tray_button, Qt.MouseButton.LeftButton)
    assert list(panel.references.songs()) == ["s4", "s1"]  # s4 not twice
    panel.refresh_check()
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    assert panel.cancel_button.isVisible() or panel.cancel_button.isEnabled()
    with qtbot.waitSignal(panel.handle.cancelled, timeout=5000):
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.handle is None)
    assert panel.take is None and panel.result_info.text() == "Tone match cancelled."
    assert panel.apply_button.isEnabled()


def test_separate_opens_the_stems_of_the_loaded_file_and_use_loads_one(
    qtbot, fake_studio, tmp_path
):
    panel = _panel(qtbot, fake_studio, tmp_path)
    path = _tone(tmp_path / "full mix.wav")
    _load(qtbot, panel, path)
    view = panel.open_stems()
    qtbot.waitUntil(lambda: len(view.rows) == 3, timeout=5000)
    assert fake_studio.stems_calls == [str(path)]
    qtbot.mouseClick(view.rows["bass"].use, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (panel.stem.path() or "").endswith("bass.wav"), timeout=5000)


def test_real_studio_tone_match_is_logged_with_shares_from_the_weights(qtbot, context, tmp_path):
    """Over the real studio and demo catalogue: Tools → Tone match…, weights 3 and 1."""
    from musicapp.catalog.demo import PERMITTED_SONG_IDS
    from musicapp.ui.main_window import MainWindow

    window = MainWindow(context)
    qtbot.addWidget(window)
    window.tone_action.trigger()
    panel = window.audio_panel
    assert panel is not None and panel.isVisible()
    _load(qtbot, panel, _tone(tmp_path / "di.wav", seconds=3.0, rate=32000))
    for song_id, weight in zip(PERMITTED_SONG_IDS[:2], (3.0, 1.0), strict=True):
        assert panel.add_song(song_id)
        panel.references.set_weight(len(panel.references.rows) - 1, weight)
    panel.refresh_check()
    assert panel.apply_button.isEnabled(), panel.check_label.text()
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.handle is None, timeout=120_000)
    assert panel.take is not None, panel.result_info.text()
    lines = panel.share_lines()
    shares = [float(line.rsplit(" ", 2)[-2]) for line in lines]
    # What the chain changed is the references', split 3:1; the rest is the user's own audio.
    assert shares[0] == pytest.approx(3 * shares[1], abs=0.2)
    assert lines[-1].startswith("Your audio") and sum(shares) == pytest.approx(100, abs=0.2)
    assert panel.take.provenance.engine == "tonematch"
    window.close()


def test_on_a_1024_by_640_screen_the_references_keep_three_rows_and_the_rest_scrolls(
    qtbot, fake_studio, tmp_path
):
    """Issue 19: "the Tone match references table shrinks to 1.5 rows", and the panel asked for
    720 px of height, more than a 1024 × 640 screen has."""
    panel = _ready(qtbot, fake_studio, tmp_path)
    panel.add_song("s3")
    panel.add_song("s4")
    _apply(qtbot, panel)
    assert panel.minimumSize().height() <= 600 and panel.minimumSize().width() <= 1024
    panel.resize(1000, 560)  # what is left of 640 px under a title bar and a top panel
    table = panel.references
    qtbot.waitUntil(lambda: panel.height() == 560)
    rows = [table.rowHeight(r) for r in range(table.rowCount())]
    assert len(rows) == 4 and table.viewport().height() >= sum(rows[:3])
    # Everything below the table is still there, a scroll away, not squeezed over each other.
    scroll = panel.findChild(QScrollArea)
    assert scroll.verticalScrollBar().maximum() > 0
    scroll.ensureWidgetVisible(panel.export_button)
    qtbot.waitUntil(lambda: not panel.export_button.visibleRegion().isEmpty())
