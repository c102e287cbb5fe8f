"""The take's levels (issue 19: "no … meters"): integrated loudness and true peak of the take
shown, and a peak bar per channel that follows the playhead while it plays."""

from __future__ import annotations

import numpy as np
import pytest

from musicapp.audio.loudness import integrated_lufs, true_peak_dbtp
from musicapp.core import GenerationRequest, Reference
from musicapp.jobs import CancelToken
from musicapp.ui import theme


@pytest.fixture
def panel(take_panel):
    return take_panel


def take_of(fake_studio):
    request = GenerationRequest((Reference("s1"),), duration_s=4.0)
    return fake_studio.generate_job(request).run(lambda _p: None, CancelToken())


def test_the_take_s_loudness_and_true_peak_are_shown(qtbot, panel, fake_studio):
    widget, _ = panel
    take = take_of(fake_studio)
    widget.show_take(take, fake_studio.songs)
    audio = fake_studio.audio[take.id]
    lufs = integrated_lufs(audio, take.sample_rate)
    peak = true_peak_dbtp(audio, take.sample_rate)
    qtbot.waitUntil(lambda: "LUFS" in widget.meter.summary.text(), timeout=5000)
    assert widget.meter.summary.text() == f"{lufs:.1f} LUFS · true peak {peak:.1f} dBTP"


def test_a_take_over_the_ceiling_is_said_in_red(qtbot, panel, fake_studio):
    widget, _ = panel
    take = take_of(fake_studio)
    fake_studio.audio[take.id] = fake_studio.audio[take.id] * 2.2  # peaks over 0 dBFS
    widget.show_take(take, fake_studio.songs)
    qtbot.waitUntil(lambda: "LUFS" in widget.meter.summary.text(), timeout=5000)
    assert theme.colour("bad") in widget.meter.summary.styleSheet()


def test_the_peak_bars_follow_the_playhead_and_rest_when_stopped(qtbot, panel, fake_studio):
    widget, player = panel
    take = take_of(fake_studio)
    audio = fake_studio.audio[take.id]
    widget.show_take(take, fake_studio.songs)
    assert widget.meter.bars.levels_db == []  # at rest before playing
    widget.play_button.click()
    player.at_s = 2.0
    widget._tick()
    sr = take.sample_rate
    block = audio[:, int(1.9 * sr) : int(2.0 * sr)]
    expected = [20 * np.log10(np.max(np.abs(c))) for c in block]
    assert widget.meter.bars.levels_db == pytest.approx(expected)
    widget.play_button.click()  # stop
    assert widget.meter.bars.levels_db == []


def test_momentary_and_short_term_loudness_follow_the_playhead(qtbot, panel, fake_studio):
    """EBU R128 meters while playing: M (400 ms), S (3 s) and I at the playhead, in the
    summary's place (the panel keeps its width); the summary again at rest."""
    from musicapp.audio.loudness import LoudnessTrack

    widget, player = panel
    take = take_of(fake_studio)
    audio = fake_studio.audio[take.id]
    widget.show_take(take, fake_studio.songs)
    qtbot.waitUntil(lambda: "LUFS" in widget.meter.summary.text(), timeout=5000)
    at_rest = widget.meter.summary.text()
    assert at_rest.endswith("dBTP")
    widget.play_button.click()
    player.at_s = 3.5
    widget._tick()
    track = LoudnessTrack(audio, take.sample_rate)
    integrated = at_rest.split(" LUFS")[0]
    assert widget.meter.summary.text() == (
        f"M {track.at(3.5):.1f} · S {track.at(3.5, 3.0):.1f} · I {integrated} LUFS"
    )
    widget.play_button.click()  # stop
    assert widget.meter.summary.text() == at_rest
