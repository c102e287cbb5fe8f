"""The Stems view: the job runs with progress and Cancel, the method is said plainly, and Solo,
Mute and Play decide exactly which stems one hears."""

import numpy as np
import soundfile as sf
from PySide6.QtCore import Qt
from ui_fakes import FakePlayer, FakeStudio

from musicapp.ui.job_runner import JobRunner
from musicapp.ui.stems_view import StemsView


def _view(qtbot, studio, player=None) -> StemsView:
    runner = JobRunner()
    view = StemsView(studio, runner, "s1", "Song 1 — Baroque A", player or FakePlayer())
    qtbot.addWidget(view)
    view.show()
    return view


def _open(qtbot, studio, player=None) -> StemsView:
    view = _view(qtbot, studio, player)
    view.start()
    qtbot.waitUntil(lambda: len(view.rows) == 3, timeout=5000)
    return view


def _file(view: StemsView, name: str) -> np.ndarray:
    data, _sr = sf.read(str(view.result.stems[name]), dtype="float32", always_2d=True)
    return data.T


def test_opening_for_a_song_lists_its_stems_with_the_method(qtbot, fake_studio):
    view = _open(qtbot, fake_studio)
    assert fake_studio.stems_calls == ["s1"]
    assert list(view.rows) == ["melody", "bass", "drums"]
    assert view.note.isVisible()
    assert "Rendered stems from the catalogue" in view.note.text()
    assert "Weights missing" not in view.note.text()
    assert not view.progress.isVisible() and not view.cancel_button.isVisible()
    assert view.hearing.text() == "Hearing: melody, bass, drums"


def test_solo_one_stem_then_play_plays_only_that_stem(qtbot, fake_studio):
    player = FakePlayer()
    view = _open(qtbot, fake_studio, player)
    qtbot.mouseClick(view.rows["bass"].solo, Qt.MouseButton.LeftButton)
    assert view.audible_names() == ["bass"]
    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    audio, rate = player.played[-1]
    assert rate == fake_studio.sample_rate
    np.testing.assert_array_equal(audio, _file(view, "bass"))
    assert view.play_button.text() == "Stop"

    # Soloing a second stem while playing carries on with both, from the same place.
    qtbot.mouseClick(view.rows["melody"].solo, Qt.MouseButton.LeftButton)
    audio, _ = player.played[-1]
    start = int(player.at_s * rate)
    both = _file(view, "melody") + _file(view, "bass")
    np.testing.assert_allclose(audio, both[:, start:], atol=1e-6)

    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    assert not player.playing and view.play_button.text() == "Play"


def test_a_soloed_and_muted_stem_is_not_heard(qtbot, fake_studio):
    player = FakePlayer()
    view = _open(qtbot, fake_studio, player)
    qtbot.mouseClick(view.rows["bass"].solo, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.rows["melody"].solo, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.rows["bass"].mute, Qt.MouseButton.LeftButton)
    assert view.audible_names() == ["melody"]
    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    audio, _rate = player.played[-1]
    np.testing.assert_array_equal(audio, _file(view, "melody"))
    assert "bass" not in view.hearing.text()


def test_mute_takes_a_stem_out_of_the_mix(qtbot, fake_studio):
    player = FakePlayer()
    view = _open(qtbot, fake_studio, player)
    qtbot.mouseClick(view.rows["drums"].mute, Qt.MouseButton.LeftButton)
    assert view.audible_names() == ["melody", "bass"]
    assert view.rows["drums"].wave.dimmed
    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    audio, _ = player.played[-1]
    np.testing.assert_allclose(audio, _file(view, "melody") + _file(view, "bass"), atol=1e-6)
    # Muting everything: nothing to play, and the view says so.
    for name in ("melody", "bass"):
        qtbot.mouseClick(view.rows[name].mute, Qt.MouseButton.LeftButton)
    assert not view.play_button.isChecked() and not view.play_button.isEnabled()
    assert "every stem is muted" in view.hearing.text()


def test_fallback_result_shows_the_missing_weights_note(qtbot):
    studio = FakeStudio(stems_method="fallback")
    view = _open(qtbot, studio)
    text = view.note.text()
    assert "Split by the DSP fallback" in text
    assert "Weights missing: htdemucs" in text
    assert "#fef3c7" in view.note.styleSheet()  # the yellow note
    assert view.again_button.isVisible()


def test_cancel_during_a_slow_separation_cancels_it(qtbot):
    studio = FakeStudio(stems_slow=True)
    view = _view(qtbot, studio)
    view.start()
    assert view.progress.isVisible() and view.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=5000)
    handle = view.handle
    with qtbot.waitSignal(handle.cancelled, timeout=5000):
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.handle is None)
    assert view.stage.text() == "Separation cancelled"
    assert not view.progress.isVisible() and not view.rows
    # The view stays usable: separating again works.
    studio.stems_slow = False
    qtbot.mouseClick(view.again_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(view.rows) == 3, timeout=5000)


def test_without_an_output_device_play_is_disabled_with_the_reason(qtbot, fake_studio):
    view = _open(qtbot, fake_studio, FakePlayer(available=False))
    assert not view.play_button.isEnabled()
    assert "PortAudio" in view.play_button.toolTip()


def test_use_as_my_stem_hands_over_the_file(qtbot, fake_studio):
    view = _open(qtbot, fake_studio)
    with qtbot.waitSignal(view.use_stem) as got:
        qtbot.mouseClick(view.rows["melody"].use, Qt.MouseButton.LeftButton)
    assert got.args[0] == view.result.stems["melody"]


def test_the_window_opens_a_real_songs_stems_from_the_browser(qtbot, context):
    """Over the real studio: the browser's Stems… on a demo song shows its rendered stems."""
    from musicapp.catalog.demo import PERMITTED_SONG_IDS
    from musicapp.ui.main_window import MainWindow

    window = MainWindow(context)
    qtbot.addWidget(window)
    window.browser.stems_requested.emit(PERMITTED_SONG_IDS[0])
    view = window.stems_view
    assert view is not None
    qtbot.waitUntil(lambda: len(view.rows) > 1, timeout=60_000)
    assert view.result.method == "catalogue"
    assert "Rendered stems from the catalogue" in view.note.text()
    window.close()
