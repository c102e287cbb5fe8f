"""Prompt, device, engine, the user's own audio and temporal ranges, over the real services."""

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.core import USER_SOURCE, Level, Provenance, SourceShare, TimelineSlot, TimeRange
from musicapp.generation import registry
from musicapp.ui.main_window import MainWindow
from musicapp.ui.waveform_widget import USER_COLOUR, USER_LABEL, LegendWidget, source_colours

A, B = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]
TAKE_TIMEOUT_MS = 180_000
SR = 32_000


@pytest.fixture
def make_window(qtbot, context):
    made = []

    def make():
        w = MainWindow(context)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def user_wav(tmp_path):
    """Six seconds of a stereo chord: the user's own recording."""
    t = np.arange(6 * SR) / SR
    mono = 0.3 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 277 * t)) * np.sin(np.pi * t / 6)
    path = tmp_path / "my song.wav"
    sf.write(path, np.stack([mono, mono * 0.8]).T.astype(np.float32), SR)
    return path


def load(qtbot, window, path, monkeypatch):
    """Load through the Load audio… button, the way a user would."""
    monkeypatch.setattr(
        "musicapp.ui.user_audio_widget.QFileDialog.getOpenFileName",
        lambda *a, **k: (str(path), "Audio files"),
    )
    qtbot.mouseClick(window.user_audio.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.user_audio.loading(), timeout=20_000)


def test_prompt_device_and_engine_reach_the_request(qtbot, make_window, monkeypatch):
    monkeypatch.setattr(
        registry,
        "unavailable_engines",
        lambda *a: {"musicgen": "weights missing: models/musicgen-melody"},
        raising=False,
    )
    window = make_window()
    panel = window.settings_panel
    combo = panel.engine
    index = combo.findData("musicgen")
    assert index >= 0 and not combo.model().item(index).isEnabled()
    assert "weights missing" in combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert combo.currentData() == "concat"

    window.add_reference(A)
    # The weight-free engine takes no words: the box says so instead of ignoring them.
    assert not panel.prompt.isEnabled()
    assert "takes no words" in panel.prompt.placeholderText()
    assert window.current_request().prompt == ""
    # An engine that reads words opens the box, and its words reach the request.
    from musicapp.ui import generate_widget

    monkeypatch.setattr(generate_widget, "TEXT_ENGINES", frozenset({"concat"}))
    panel._update_prompt()
    assert panel.prompt.isEnabled()
    qtbot.keyClicks(panel.prompt, "gentle, for a wedding")
    panel.set_device("cuda")
    request = window.current_request()
    assert request.prompt == "gentle, for a wedding"
    assert request.options["device"] == "cuda"
    assert request.engine == "concat"
    labels = [panel.device.itemText(i) for i in range(panel.device.count())]
    assert labels == ["Auto", "CPU", "CUDA", "MPS"]
    panel.set_device("auto")
    assert window.current_request().options["device"] == "auto"


def test_loading_user_audio_and_selecting_a_range_sets_user_range(
    qtbot, window, user_wav, monkeypatch
):
    window.add_reference(A)
    load(qtbot, window, user_wav, monkeypatch)
    panel = window.user_audio
    assert panel.path() == str(user_wav)
    assert panel.duration_s() == pytest.approx(6.0)
    assert "my song.wav" in panel.info.text() and "6.0 s" in panel.info.text()
    assert panel.plot.isVisible() and panel.plot._wave  # the waveform is drawn
    assert panel.user_range() is None  # all of it, until a part is chosen
    assert window.current_request().user_audio == str(user_wav)

    panel.set_range(1.5, 4.0)
    assert panel.user_range() == TimeRange(1.5, 4.0)
    assert "1.5–4.0 s" in panel.range_label.text()
    assert window.current_request().user_range == TimeRange(1.5, 4.0)

    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    request = window.current_request()
    assert request.user_audio is None and request.user_range is None


def test_temporal_reference_takes_its_range_from_the_dialog(qtbot, window, user_wav, monkeypatch):
    window.add_reference(A)
    tray = window.references
    tray.set_level(0, Level.TEMPORAL)
    qtbot.waitUntil(lambda: window.verification.verdict() == "NotReady")
    assert "choose the range" in window.verification.summary.text()
    assert not window.generate_bar.generate_button.isEnabled()

    button = tray._rows[0].range_button
    assert button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = window.range_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: bool(dialog.plot._wave), timeout=20_000)  # the song's waveform
    assert dialog.snap.isChecked()  # the demo song's tempo is known: whole bars by default
    dialog.snap.setChecked(False)  # off the grid, and kept so for the next range
    dialog.plot.region.setRegion((2.0, 6.5))
    assert dialog.start.value() == pytest.approx(2.0) and dialog.end.value() == pytest.approx(6.5)
    dialog.accept()

    assert tray.time_range(0) == TimeRange(2.0, 6.5)
    assert button.text() == "2.0–6.5 s"

    # A drag that ends between tenths: the label, the spin boxes and the range agree (the label
    # once read 13.3 s beside a spin box reading 13.4 s).
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = window.range_dialog
    assert not dialog.snap.isChecked()
    dialog.plot.region.setRegion((3.3449, 13.3501))
    chosen = dialog.time_range()
    assert chosen == TimeRange(dialog.start.value(), dialog.end.value())
    assert dialog.start.text() == "3.3 s" and dialog.end.text() == "13.4 s"
    assert dialog.summary.text() == "3.3–13.4 s"
    dialog.accept()
    assert tray.time_range(0) == TimeRange(3.3, 13.4) and button.text() == "3.3–13.4 s"
    tray.set_time_range(0, TimeRange(2.0, 6.5))
    load(qtbot, window, user_wav, monkeypatch)
    window.user_audio.set_range(1.0, 3.0)
    request = window.current_request()
    (ref,) = request.references
    assert ref.level is Level.TEMPORAL and ref.time_range == TimeRange(2.0, 6.5)
    assert request.user_range == TimeRange(1.0, 3.0)


def test_audio_level_without_user_audio_is_not_ready(qtbot, window, user_wav, monkeypatch):
    window.add_reference(A)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared")
    window.references.set_level(0, Level.AUDIO)
    qtbot.waitUntil(lambda: window.verification.verdict() == "NotReady")
    summary = window.verification.summary.text()
    assert "give an audio file" in summary and "Load audio" in summary
    title = window.studio.song(A).title
    assert title in summary  # the song by name, not its id
    button = window.generate_bar.generate_button
    assert not button.isEnabled() and "give an audio file" in button.toolTip()

    load(qtbot, window, user_wav, monkeypatch)
    qtbot.waitUntil(lambda: "give an audio file" not in window.verification.summary.text())


def test_a_broken_audio_file_shows_an_error_and_the_window_stays_usable(
    qtbot, window, tmp_path, user_wav, monkeypatch
):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio" * 10)
    window.add_reference(A)
    load(qtbot, window, broken, monkeypatch)
    panel = window.user_audio
    assert panel.path() is None
    assert "broken.wav" in panel.error() and "cannot be read" in panel.error()
    assert "cannot be read" in panel.info.text()
    assert not panel.plot.isVisible()
    assert panel.load_button.isEnabled()
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared")
    assert window.generate_bar.generate_button.isEnabled()

    load(qtbot, window, user_wav, monkeypatch)  # a good file afterwards works
    assert panel.path() == str(user_wav) and panel.error() == ""


def test_user_audio_in_the_timeline_is_grey_and_named_without_a_share(qtbot, context):
    prov = Provenance(
        (SourceShare(0, A, 1.0),),
        (
            TimelineSlot(0.0, 2.0, ((USER_SOURCE, 1.0),)),
            TimelineSlot(2.0, 4.0, ((A, 1.0),)),
        ),
    )
    assert source_colours(prov)[USER_SOURCE] == USER_COLOUR
    legend = LegendWidget()
    qtbot.addWidget(legend)
    song = context.studio.song(A)
    legend.show_shares(prov, {A: song})
    assert legend.entries[0].startswith(song.title) and "100.0 %" in legend.entries[0]
    assert legend.entries[-1].startswith(USER_LABEL)


def test_a_temporal_take_end_to_end(qtbot, window, user_wav, monkeypatch):
    if Level.TEMPORAL not in registry.get_engine("concat").levels:
        pytest.skip("the concatenative engine does not do temporal references yet")
    window.add_reference(A)
    window.references.set_level(0, Level.TEMPORAL)
    window.references.set_time_range(0, TimeRange(2.0, 6.0))
    load(qtbot, window, user_wav, monkeypatch)
    window.user_audio.set_range(1.0, 4.0)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared", timeout=10_000)
    qtbot.mouseClick(window.generate_bar.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=TAKE_TIMEOUT_MS)
    take = window.result.take
    assert take.request.user_range == TimeRange(1.0, 4.0)
    sources = {sid for slot in take.provenance.timeline for sid, _f in slot.sources}
    assert A in sources
    assert USER_SOURCE in sources
    # 3 s of the user's 6 s are left as they were: heard, and shown with their share
    assert take.provenance.user_share > 0.1
    assert any(e.startswith(USER_LABEL) for e in window.result.legend.entries)
    audio = window.studio.take_audio(take)
    assert audio.shape[1] / take.sample_rate == pytest.approx(6.0, abs=0.05)


def test_user_audio_and_levels_that_do_not_fit_are_not_ready(qtbot, window, user_wav, monkeypatch):
    window.add_reference(A)
    load(qtbot, window, user_wav, monkeypatch)
    qtbot.waitUntil(lambda: window.verification.verdict() == "NotReady")
    assert "no reference reshapes it" in window.verification.summary.text()
    window.add_reference(B)
    window.references.set_level(0, Level.AUDIO)
    qtbot.waitUntil(lambda: "cannot be combined" in window.verification.summary.text())
    window.references.set_level(1, Level.AUDIO)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared")
    assert window.current_request().user_range is None  # audio level: all of it
    duration = window.settings_panel.duration
    assert not duration.isEnabled() and duration.value() == 6  # as long as the user's audio
    window.references.set_level(0, Level.SONG)
    window.references.set_level(1, Level.SONG)
    window.user_audio.clear()
    qtbot.waitUntil(duration.isEnabled)
    # The user's own length is back.
    assert window.verification.verdict() == "Cleared" and duration.value() == 15


def test_a_temporal_reference_with_all_of_the_audio_selected_sends_the_whole_range(
    qtbot, window, user_wav, monkeypatch
):
    window.add_reference(A)
    window.references.set_level(0, Level.TEMPORAL)
    window.references.set_time_range(0, TimeRange(2.0, 6.0))
    load(qtbot, window, user_wav, monkeypatch)
    assert window.user_audio.user_range() is None
    assert window.current_request().user_range == TimeRange(0.0, 6.0)


def test_levels_that_cannot_be_combined_get_one_click_fixes(qtbot, window, user_wav, monkeypatch):
    """Temporal beside whole-song references used to be a raw "cannot be combined" line."""
    window.add_reference(A)
    window.add_reference(PERMITTED_SONG_IDS[1])
    load(qtbot, window, user_wav, monkeypatch)
    tray = window.references
    tray.set_level(0, Level.AUDIO)
    window.refresh_check()
    qtbot.waitUntil(lambda: window.verification.verdict() == "NotReady")
    assert "cannot be combined" in window.verification.summary.text()
    fixes = window.verification.fix_labels()
    assert fixes == [
        "Make every reference audio-level",
        "Make every reference a whole song (without your audio)",
    ]
    buttons = window.verification.fixes.findChildren(QPushButton)
    whole = next(b for b in buttons if b.text() == fixes[1])
    qtbot.mouseClick(whole, Qt.MouseButton.LeftButton)
    window.refresh_check()
    assert tray.levels() == {Level.SONG} and window.user_audio.path() is None
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared")
    assert window.verification.fix_labels() == []
