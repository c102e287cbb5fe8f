"""Previews: the selected song's 15 seconds load off the GUI thread and play through the
injected player; Stop stops; without an output device a message says why."""

import numpy as np
from PySide6.QtCore import Qt

from musicapp.ui.browser_widget import BrowserWidget


class FakePlayer:
    """Records what it is asked to play; `position_s` says playing until `stop`."""

    def __init__(self, available: bool = True, fail: bool = False) -> None:
        self.available = available
        self.unavailable_reason = "" if available else "PortAudio library not found"
        self.fail = fail
        self.played: list[tuple[np.ndarray, int]] = []
        self.stops = 0
        self.playing = False

    def play(self, audio: np.ndarray, sample_rate: int) -> None:
        if self.fail:
            raise RuntimeError("device busy")
        self.played.append((audio, sample_rate))
        self.playing = True

    def stop(self) -> None:
        self.stops += 1
        self.playing = False

    @property
    def position_s(self) -> float | None:
        return 0.1 if self.playing else None


def _browser(qtbot, studio, player) -> BrowserWidget:
    browser = BrowserWidget(studio, player=player)
    qtbot.addWidget(browser)
    browser.show()
    return browser


def _select_result(browser: BrowserWidget, text: str) -> None:
    browser.search_box.setText(text)
    browser.run_search()
    browser.results.setFocus()
    browser.results.setCurrentIndex(browser.results_model.index(0))


def test_preview_plays_the_selected_song_names_it_and_stop_stops(qtbot, fake_studio):
    player = FakePlayer()
    browser = _browser(qtbot, fake_studio, player)
    assert not browser.preview_button.isEnabled()  # nothing selected yet
    _select_result(browser, "Song 4")
    assert browser.preview_button.isEnabled()

    with qtbot.waitSignal(browser.preview.started, timeout=5000) as started:
        qtbot.mouseClick(browser.preview_button, Qt.MouseButton.LeftButton)
    assert fake_studio.preview_calls == ["s4"]
    assert started.args == ["Song 4 — Baroque B"]
    audio, rate = player.played[-1]
    assert audio.shape[0] == 2 and audio.dtype == np.float32 and rate == fake_studio.sample_rate
    assert browser.preview_bar.isVisible()
    assert browser.preview_bar.label.text() == "Previewing: Song 4 — Baroque B"
    assert browser.preview_bar.stop_button.isEnabled()

    with qtbot.waitSignal(browser.preview.stopped):
        qtbot.mouseClick(browser.preview_bar.stop_button, Qt.MouseButton.LeftButton)
    assert not player.playing
    assert not browser.preview_bar.isVisible()
    assert browser.preview.playing_id is None


def test_space_on_a_tree_song_previews_it_and_a_second_preview_replaces_the_first(
    qtbot, fake_studio
):
    player = FakePlayer()
    browser = _browser(qtbot, fake_studio, player)
    tree, model = browser.tree, browser.tree_model
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    index = model.index(0, 0)
    for _ in range(3):  # genre → artist → album → song
        tree.expand(index)
        qtbot.waitUntil(lambda i=index: model.rowCount(i) > 0)
        index = model.index(0, 0, index)
    tree.setFocus()
    tree.setCurrentIndex(index)
    with qtbot.waitSignal(browser.preview.started, timeout=5000):
        qtbot.keyClick(tree, Qt.Key.Key_Space)
    assert fake_studio.preview_calls == ["s1"]

    stops = player.stops
    _select_result(browser, "Song 9")
    with qtbot.waitSignal(browser.preview.started, timeout=5000) as started:
        qtbot.keyClick(browser.results, Qt.Key.Key_Space)
    assert started.args == ["Song 9 — Romantic A"]
    assert player.stops > stops  # the first preview was stopped before the second played
    assert len(player.played) == 2
    assert browser.preview.playing_id == "s9"


def test_the_end_of_a_preview_resets_the_bar(qtbot, fake_studio):
    player = FakePlayer()
    browser = _browser(qtbot, fake_studio, player)
    _select_result(browser, "Song 2")
    with qtbot.waitSignal(browser.preview.started, timeout=5000):
        browser.preview_selected()
    with qtbot.waitSignal(browser.status, timeout=5000) as status:
        player.playing = False  # the 15 seconds ran out
    assert status.args == ["Preview ended: Song 2 — Baroque A"]
    qtbot.waitUntil(lambda: not browser.preview_bar.isVisible())


def test_without_an_output_device_a_message_says_so_and_nothing_loads(qtbot, fake_studio):
    player = FakePlayer(available=False)
    browser = _browser(qtbot, fake_studio, player)
    _select_result(browser, "Song 1")
    with qtbot.waitSignal(browser.status) as status:
        qtbot.mouseClick(browser.preview_button, Qt.MouseButton.LeftButton)
    assert status.args[0] == "Previews cannot play: PortAudio library not found."
    assert "PortAudio library not found" in browser.preview_bar.label.text()
    assert browser.preview_bar.isVisible() and not browser.preview_bar.stop_button.isEnabled()
    assert fake_studio.preview_calls == []
    assert browser.preview.playing_id is None


def test_a_player_that_fails_and_a_preview_that_fails_leave_messages(qtbot, fake_studio):
    player = FakePlayer(fail=True)
    browser = _browser(qtbot, fake_studio, player)
    _select_result(browser, "Song 1")
    browser.preview_selected()
    qtbot.waitUntil(lambda: "device busy" in browser.preview_bar.label.text(), timeout=5000)
    assert browser.preview.playing_id is None

    player.fail = False
    browser.preview.preview("nope")  # not in the catalogue: studio.preview raises
    qtbot.waitUntil(lambda: "could not be loaded" in browser.preview_bar.label.text(), timeout=5000)
    assert not browser.preview_bar.stop_button.isEnabled()
