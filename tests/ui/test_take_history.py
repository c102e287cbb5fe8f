"""Take history (issue 19: "each Generate replaces the last; no history to compare, name or
undo"): a dock listing every take, newest first; open, rename, export, delete, and an A/B at
matched loudness that switches in place; the dock stays where the user left it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox
from ui_fakes import FakePlayer, answer_export_dialog

from musicapp.ui.main_window import MainWindow

TAKE_MS = 10_000


@pytest.fixture
def player() -> FakePlayer:
    return FakePlayer()


@pytest.fixture
def window(qtbot, fake_context, player):
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.result._player = player
    w.history_ui.widget._player = player
    w.show()
    return w


def generate(qtbot, window, *song_ids: str):
    for sid in song_ids:
        window.add_reference(sid)
    before = window.result.take
    window.start_generation()
    qtbot.waitUntil(
        lambda: window.generation is None and window.result.take not in (None, before),
        timeout=TAKE_MS,
    )
    take = window.result.take
    for _ in song_ids:
        window.references.remove_row(0)
    return take


@pytest.fixture
def two_takes(qtbot, window):
    first = generate(qtbot, window, "s1")
    second = generate(qtbot, window, "s2", "s4")
    return first, second


def select_rows(widget, *rows: int) -> None:
    widget.table.clearSelection()
    model = widget.table.selectionModel()
    for row in rows:
        index = widget.table.model().index(row, 0)
        model.select(index, model.SelectionFlag.Select | model.SelectionFlag.Rows)


def test_every_take_is_listed_newest_first_and_a_new_one_does_not_replace_the_last(
    qtbot, window, two_takes, fake_studio
) -> None:
    first, second = two_takes
    history = window.history_ui.widget
    assert not window.history_ui.dock.isVisible()
    assert window.result.history_button.text() == "History (2)"
    window.result.history_button.click()
    assert window.history_ui.dock.isVisible()
    assert [history.table.item(r, 0).data(256) for r in range(2)] == [second.id, first.id]
    titles = ", ".join(fake_studio.songs[s].title for s in ("s2", "s4"))
    assert history.table.item(0, 2).text() == titles
    assert second.id in history.table.item(0, 0).toolTip()  # its ledger event
    assert history.selected_ids() == [second.id]  # the new take, selected


def test_opening_an_older_take_shows_it_in_the_take_panel(qtbot, window, two_takes) -> None:
    first, _second = two_takes
    history = window.history_ui.widget
    select_rows(history, 1)
    history.open_button.click()
    assert window.result.take.id == first.id
    assert window.export_action.isEnabled()


def test_a_take_is_renamed_and_the_list_says_so(qtbot, window, two_takes, monkeypatch) -> None:
    _first, second = two_takes
    history = window.history_ui.widget
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("chorus idea", True))
    select_rows(history, 0)
    history.rename_button.click()
    assert history.table.item(0, 0).text() == "chorus idea"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("x" * 121, True))
    shown: list[str] = []
    monkeypatch.setattr(
        "musicapp.ui.take_history.show_error", lambda _w, title, text, *a: shown.append(text)
    )
    history.rename_button.click()
    assert shown == ["take name: 121 characters, at most 120"]
    assert history.table.item(0, 0).text() == "chorus idea"


def test_deleting_the_shown_take_clears_the_panel_and_keeps_the_other(
    qtbot, window, two_takes, fake_studio, monkeypatch
) -> None:
    first, second = two_takes
    history = window.history_ui.widget
    asked: list[str] = []

    def confirm(_parent, title, text, *_a):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", confirm)
    select_rows(history, 0)
    history.delete_button.click()
    assert "records the deletion" in asked[0]
    assert fake_studio.history.deleted == [second.id]
    assert history.table.rowCount() == 1 and history.selected_ids() == []
    assert window.result.take is None and window.result.pages.currentIndex() == 0
    assert not window.export_action.isEnabled()
    assert window.result.history_button.text() == "History (1)"
    assert history.table.item(0, 0).data(256) == first.id


def test_cancelling_a_delete_keeps_the_take(qtbot, window, two_takes, fake_studio, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Cancel)
    history = window.history_ui.widget
    select_rows(history, 0)
    history.delete_button.click()
    assert fake_studio.history.deleted == [] and history.table.rowCount() == 2


def test_ab_plays_both_at_matched_loudness_and_switches_in_place(
    qtbot, window, two_takes, fake_studio, player
) -> None:
    first, second = two_takes
    fake_studio.audio[first.id] = fake_studio.audio[first.id] * 0.25  # 12 dB quieter
    history = window.history_ui.widget
    window.result.history_button.click()
    select_rows(history, 0)
    assert not history.ab_button.isEnabled()
    assert "Select two takes" in history.ab_button.toolTip()
    select_rows(history, 0, 1)
    assert history.ab_button.isEnabled()
    history.ab_button.click()
    qtbot.waitUntil(lambda: history.ab_side == "A", timeout=TAKE_MS)
    assert history.ab_bar.isVisible()
    a_played, _rate = player.played[-1]
    # A is the newer (louder) take, turned down to the quieter one's level: -12 dB
    expected = fake_studio.audio[second.id] * 0.25
    assert np.allclose(a_played, expected, atol=1e-6)
    assert "(-12.0 dB)" in history.ab_label.text() and "(+0.0 dB)" in history.ab_label.text()
    player.at_s = 0.5  # half a second into A
    history.play_b.click()
    b_played, rate = player.played[-1]
    start = int(0.5 * rate)
    assert history.ab_side == "B"
    assert np.allclose(b_played, fake_studio.audio[first.id][:, start:], atol=1e-6)
    history.stop_ab.click()
    assert not player.playing and history.ab_side == ""


def test_export_from_the_history_opens_that_take_and_exports_it(
    qtbot, window, two_takes, monkeypatch, tmp_path
) -> None:
    first, _second = two_takes
    history = window.history_ui.widget
    answer_export_dialog(monkeypatch, tmp_path / "older.wav")
    select_rows(history, 1)
    with qtbot.waitSignal(window.result.exported, timeout=TAKE_MS):
        history.export_button.click()
    assert window.result.take.id == first.id
    assert (tmp_path / "older.wav").is_file()


def test_the_dock_and_the_panels_are_as_the_user_left_them_in_the_next_session(
    qtbot, fake_context
) -> None:
    first = MainWindow(fake_context)
    qtbot.addWidget(first)
    first.show()
    first.history_ui.action.trigger()
    assert first.history_ui.dock.isVisible()
    first.resize(1300, 800)
    first.splitter.setSizes([400, 450, 450])
    widths = first.splitter.sizes()
    first.close()
    again = MainWindow(fake_context)
    qtbot.addWidget(again)
    again.show()
    assert again.history_ui.dock.isVisible()
    assert again.history_ui.action.isChecked()
    again.resize(1300, 800)
    assert again.splitter.sizes()[0] == widths[0]  # the catalogue as wide as it was left
