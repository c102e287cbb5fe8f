"""The range of a temporal reference (issue 19: "ranges do not snap to bars and cannot be
auditioned"): whole bars from the song's tempo and meter, and the range played, once or looped."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from ui_fakes import FakePlayer

from musicapp.ui.job_runner import JobRunner
from musicapp.ui.range_dialog import RangeDialog

RATE = 8000


def dialog_for(qtbot, song, player=None):
    dialog = RangeDialog(song, None, None, player or FakePlayer())
    qtbot.addWidget(dialog)
    return dialog


def test_the_range_snaps_to_whole_bars_and_says_which(qtbot, fake_studio):
    song = replace(fake_studio.songs["s1"], tempo_bpm=120.0, beats_per_bar=4, duration_s=30.0)
    dialog = dialog_for(qtbot, song)  # a bar is 2 s
    assert dialog.snap.isChecked() and dialog.snap.isEnabled()
    dialog.set_range(3.1, 9.4)
    assert (dialog.start.value(), dialog.end.value()) == (4.0, 10.0)
    assert "bars 3–5" in dialog.summary.text()
    dialog.snap.setChecked(False)
    dialog.set_range(3.1, 9.4)
    assert (dialog.start.value(), dialog.end.value()) == (3.1, 9.4)
    unknown = dialog_for(qtbot, replace(song, tempo_bpm=None))
    assert not unknown.snap.isEnabled() and not unknown.snap.isChecked()
    assert "tempo is not known" in unknown.snap.toolTip()


def test_the_range_is_played_once_or_looped(qtbot, fake_studio):
    song = replace(fake_studio.songs["s1"], tempo_bpm=120.0, beats_per_bar=4, duration_s=30.0)
    player = FakePlayer()
    dialog = dialog_for(qtbot, song, player)
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 30 * RATE)).astype(np.float32)
    runner = JobRunner()
    assert not dialog.play_button.isEnabled()  # nothing to hear before the audio is here
    dialog.load_audio(runner, lambda: audio, RATE)
    qtbot.waitUntil(dialog.play_button.isEnabled, timeout=5000)
    dialog.set_range(4.0, 10.0)
    dialog.play_button.click()
    played, rate = player.played[-1]
    assert rate == RATE and np.array_equal(played, audio[:, 4 * RATE : 10 * RATE])
    assert dialog.play_button.text() == "■ Stop"
    dialog.play_button.click()
    assert not player.playing
    dialog.loop.setChecked(True)
    dialog.play_button.click()
    looped, _ = player.played[-1]
    assert looped.shape[1] == 10 * 6 * RATE  # the 6 s range ten times: about a minute
    dialog.reject()
    assert not player.playing  # closing the dialog stops the sound
