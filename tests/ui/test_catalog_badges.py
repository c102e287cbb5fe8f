"""Catalogue rows (issue 19: "no consent badges in the catalogue rows, and no BPM, key or
duration"): beside each song its length, tempo and key, and whether its consent allows the take
settings' use (or the filters' level and use); the badge follows those as they change."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt

from musicapp.core import Level, Use
from musicapp.ui.catalog_model import CLEARED_ROLE, DETAILS_ROLE
from musicapp.ui.main_window import MainWindow


def songs_of_first_album(model):
    model.fetchMore(QModelIndex())
    genre = model.index(0, 0)
    model.fetchMore(genre)
    artist = model.index(0, 0, genre)
    model.fetchMore(artist)
    album = model.index(0, 0, artist)
    model.fetchMore(album)
    return album


def row(model, album, r):
    index = model.index(r, 0, album)
    return (index.data(), index.data(DETAILS_ROLE))


def test_song_rows_show_length_tempo_key_and_a_badge_that_follows_the_use(qtbot, fake_context):
    window = MainWindow(fake_context)
    qtbot.addWidget(window)
    window.show()
    model = window.browser.tree_model
    album = songs_of_first_album(model)
    assert [row(model, album, r) for r in range(3)] == [
        ("Song 1", "✓ 0:31 · 91 BPM · D"),
        ("Song 2", "✓ 0:32 · 92 BPM · Bm"),
        ("Song 3", "✓ 0:33 · 93 BPM · D"),
    ]
    # Song 3's holders allow no commercial use: choosing it in the take settings says so.
    window.settings_panel.set_use(Use.COMMERCIAL)
    window.refresh_check()
    assert row(model, album, 2)[1] == "✕ 0:33 · 93 BPM · D"
    assert row(model, album, 0)[1].startswith("✓")
    song3 = model.index(2, 0, album)
    assert song3.data(CLEARED_ROLE) is False and model.index(0, 0, album).data(CLEARED_ROLE)
    tip = song3.data(Qt.ItemDataRole.ToolTipRole)
    assert "0:33 · 93 BPM · D major" in tip
    assert "Not cleared for commercial distribution at song level" in tip
    assert "Not cleared" in song3.data(Qt.ItemDataRole.AccessibleDescriptionRole)
    # A use chosen in the filters wins over the take settings'.
    window.browser.filter_bar.use_box.setCurrentIndex(
        window.browser.filter_bar.use_box.findData(Use.PRIVATE.value)
    )
    assert row(model, album, 2)[1].startswith("✓")
    assert fake_context.studio.row_calls[-1][1:] == (Level.SONG, Use.PRIVATE)


def test_badges_are_read_once_per_page_not_per_row(qtbot, fake_context):
    window = MainWindow(fake_context)
    qtbot.addWidget(window)
    model = window.browser.tree_model
    album = songs_of_first_album(model)
    calls = fake_context.studio.row_calls
    assert calls[-1][0] == ("s1", "s2", "s3")
    before = len(calls)
    for r in range(3):
        model.index(r, 0, album).data(DETAILS_ROLE)
    assert len(calls) == before
