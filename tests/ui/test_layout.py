"""The window on a small screen (issue 19): once a take with long titles is shown, the minimum
width stayed 1,304-1,488 px, so the window did not fit a 1,280 px screen, let alone 1,024."""

from __future__ import annotations

from dataclasses import replace

import pytest

from musicapp.core import GenerationRequest, Reference
from musicapp.jobs import CancelToken
from musicapp.ui.labels import ElidedLabel
from musicapp.ui.main_window import MainWindow

LONG = "The Very Long Title of a Traditional Tune as It Was Collected in the Nineteenth Century"


@pytest.fixture
def window(qtbot, fake_context, fake_studio):
    for sid in ("s1", "s2"):
        song = fake_studio.songs[sid]
        fake_studio.songs[sid] = replace(
            song, title=f"{LONG} ({sid})", artist="A Fiddler With a Long Name"
        )
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.resize(1024, 640)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def test_the_window_fits_a_1024_by_640_screen_after_a_take_with_long_titles(
    qtbot, window, fake_studio
):
    window.add_reference("s1")
    window.add_reference("s2")
    request = GenerationRequest((Reference("s1"), Reference("s2")), duration_s=4.0)
    take = fake_studio.generate_job(request).run(lambda _p: None, CancelToken())
    window.result.show_take(take, fake_studio.songs)
    window.result.history_button.setText("History (999)")  # a studio used for months
    qtbot.wait(100)
    assert window.minimumSizeHint().width() <= 1024
    assert window.minimumSizeHint().height() <= 640
    assert (window.width(), window.height()) == (1024, 640)  # no jump when the take appears
    # the legend keeps each whole title for screen readers (it ends in "…" on screen)
    names = {lab.accessibleName() for lab in window.result.legend.findChildren(ElidedLabel)}
    assert {f"{LONG} (s1) — A Fiddler With a Long Name"} <= names
