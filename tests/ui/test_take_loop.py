"""Looping a range of the take (issue 19: "no … looped range playback"): Loop shows a range on
the waveform whose edges snap to the take's steps; Play plays that range over and over with the
playhead going round inside it; switching Loop off while playing plays the whole take on."""

from __future__ import annotations

import numpy as np
import pytest

from musicapp.core import GenerationRequest, Reference
from musicapp.jobs import CancelToken
from musicapp.ui.take_loop import LOOP_S


@pytest.fixture
def panel(take_panel, fake_studio):
    widget, player = take_panel
    request = GenerationRequest((Reference("s1"), Reference("s2")), duration_s=8.0)
    take = fake_studio.generate_job(request).run(lambda _p: None, CancelToken())
    widget.show_take(take, fake_studio.songs)  # its timeline: eight 1 s steps
    return widget, player, fake_studio.audio[take.id], take.sample_rate


def drag(loop, start: float, end: float) -> None:
    """What a drag of the range's edges ends with."""
    loop.region.setRegion((start, end))
    loop.region.sigRegionChangeFinished.emit(loop.region)


def test_loop_plays_the_range_over_and_over_with_the_playhead_inside_it(panel) -> None:
    widget, player, audio, sr = panel
    loop = widget.loop
    assert loop.button.isEnabled() and not loop.region.isVisible()
    loop.button.click()
    assert loop.region.isVisible()
    drag(loop, 2.3, 4.6)
    assert loop.span() == (2.0, 5.0)  # snapped to the take's steps
    widget.play_button.click()
    played, rate = player.played[-1]
    part = audio[:, 2 * sr : 5 * sr]
    assert rate == sr and played.shape[1] == part.shape[1] * int(LOOP_S / 3.0)
    np.testing.assert_array_equal(played[:, : part.shape[1]], part)
    np.testing.assert_array_equal(played[:, part.shape[1] : 2 * part.shape[1]], part)
    player.at_s = 7.5  # two and a half times round
    widget._tick()
    assert widget.waveform.playhead.value() == pytest.approx(3.5)


def test_switching_loop_off_while_playing_plays_the_whole_take_on(panel) -> None:
    widget, player, audio, _sr = panel
    widget.loop.button.click()
    widget.play_button.click()
    assert player.played[-1][0].shape[1] != audio.shape[1]
    widget.loop.button.click()  # off
    assert widget.play_button.isChecked() and player.playing
    np.testing.assert_array_equal(player.played[-1][0], audio)
    player.at_s = 6.0
    widget._tick()
    assert widget.waveform.playhead.value() == pytest.approx(6.0)


def test_a_range_is_never_shorter_than_a_step_nor_outside_the_take(panel) -> None:
    loop = panel[0].loop
    loop.button.click()
    drag(loop, 3.1, 3.2)
    start, end = loop.span()
    assert start == 3.0 and end == 4.0
    drag(loop, -5.0, 99.0)
    assert loop.span() == (0.0, 8.0)
