"""The main window over the real services and the small demo catalogue."""

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication
from ui_fakes import answer_export_dialog

from musicapp.catalog.demo import (
    NON_COMMERCIAL_SONG_ID,
    OPTED_OUT_SONG_ID,
    PERMITTED_SONG_IDS,
)
from musicapp.core import GenerationRequest, Reference, Use
from musicapp.ui.catalog_model import PATH_ROLE, SONG_ID_ROLE
from musicapp.ui.main_window import MainWindow
from musicapp.ui.waveform_widget import PEAK_BINS

A, B = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]
TAKE_TIMEOUT_MS = 180_000


@pytest.fixture
def window(qtbot, context):
    w = MainWindow(context)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    yield w
    w.close()


def child_with(model, parent, role, value):
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        if index.data(role) == value:
            return index
    raise AssertionError(f"no child with {value!r} under {parent.data()!r}")


def find_in_tree(qtbot, window, song_id):
    """Expand genre → artist → album the way a user would and return the song's index."""
    song = window.studio.song(song_id)
    tree, model = window.browser.tree, window.browser.tree_model
    parent = QModelIndex()
    path = ()
    for label in (song.genre, song.artist, song.album):
        path = (*path, label)
        qtbot.waitUntil(lambda p=parent: model.rowCount(p) > 0)
        parent = child_with(model, parent, PATH_ROLE, path)
        tree.expand(parent)
    qtbot.waitUntil(lambda: model.rowCount(parent) > 0)
    return child_with(model, parent, SONG_ID_ROLE, song_id)


def choose_row(qtbot, view, index):
    """Choose a row the way a double-click does (``activated``), by its keyboard twin, Enter:
    synthetic double-clicks depend on the previous test's click times and the expand
    animation, and were flaky on a loaded machine. The key goes to the view itself, so it does not
    wait for keyboard focus, which another test's window may still hold on a loaded machine."""
    view.setAnimated(False)
    view.scrollTo(index)
    view.setCurrentIndex(index)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Return)


def test_select_generate_export(qtbot, window, monkeypatch, tmp_path):
    # A through the hierarchy (Enter on the row), B through search (select, then "Add").
    choose_row(qtbot, window.browser.tree, find_in_tree(qtbot, window, A))
    qtbot.waitUntil(lambda: window.references.count() == 1)
    title_b = window.studio.song(B).title
    qtbot.keyClicks(window.browser.search_box, title_b)
    browser = window.browser
    qtbot.waitUntil(lambda: browser.pages.currentIndex() == browser.PAGE_RESULTS, timeout=3000)
    assert browser.results_model.song_at(0).id == B
    qtbot.mouseClick(browser.add_button, Qt.MouseButton.LeftButton)
    assert [r.song_id for r in window.references.references()] == [A, B]

    window.references._rows[0].weight.setValue(3.0)
    window.references._rows[1].weight.setValue(1.0)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared")
    window.settings_panel.duration.setValue(8)
    button = window.generate_bar.generate_button
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=TAKE_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.generation is None)

    take = window.result.take
    assert 0 < window.result.waveform.point_count <= PEAK_BINS
    legend = " | ".join(window.result.legend.entries)
    for sid in (A, B):
        assert window.studio.song(sid).title in legend
    shares = take.provenance.song_shares()
    assert f"{shares[A] * 100:.1f} %" in legend and shares[A] > shares[B]
    # the royalty table: each song heard, then the holders paid for it, summing to the logged
    table = window.result.royalty_table
    rows = [[table.item(r, c).text() for c in range(3)] for r in range(table.rowCount())]
    assert [r[0] for r in rows if r[1] == "song"] == [window.studio.song(s).title for s in (A, B)]
    logged = {h.name: s for h, s in window.studio.royalties(take)}
    paid: dict[str, float] = {}
    for name, kind, share in rows:
        if kind != "song":
            paid[name.strip()] = paid.get(name.strip(), 0.0) + float(share.rstrip(" %")) / 100
    assert paid.keys() == logged.keys()
    assert all(abs(paid[n] - logged[n]) < 0.002 for n in logged)

    out = tmp_path / "exported" / "my take"
    out.parent.mkdir()
    answer_export_dialog(monkeypatch, out.with_suffix(".flac"))
    with qtbot.waitSignal(window.result.exported, timeout=60_000) as exported:
        qtbot.mouseClick(window.result.export_button, Qt.MouseButton.LeftButton)
    result = exported.args[0]
    assert result.path == out.with_suffix(".flac") and result.path.is_file()
    assert result.sidecar_path.is_file()
    assert result.event_id in window.statusBar().currentMessage()
    assert str(result.path) in window.result.export_label.text()


def test_refused_song_for_commercial_use_disables_generate(qtbot, window):
    window.add_reference(A)
    window.add_reference(NON_COMMERCIAL_SONG_ID)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared")
    commercial = window.settings_panel._use_group.button(2)
    qtbot.mouseClick(commercial, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Refused")

    verdict = window.studio.check(
        GenerationRequest((Reference(A), Reference(NON_COMMERCIAL_SONG_ID)), use=Use.COMMERCIAL)
    )
    (refused,) = verdict.refused
    text = window.verification.details_text()
    assert window.studio.song(NON_COMMERCIAL_SONG_ID).title in text
    for reason in refused.reasons:
        assert reason in text
    assert "Allowed instead" in text
    button = window.generate_bar.generate_button
    assert not button.isEnabled()
    assert "Refused" in button.toolTip() and refused.reasons[0] in button.toolTip()
    # The refused reference is marked in the references table itself, with why.
    table = window.references.table
    assert window.references.refused_rows == [1]
    assert table.item(1, 0).text().startswith("✗ ")
    assert table.item(1, 0).toolTip().startswith(f"Refused: {refused.reasons[0]}")
    assert not table.item(0, 0).text().startswith("✗ ")

    # Back to private use clears it again.
    qtbot.mouseClick(window.settings_panel._use_group.button(0), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Cleared")
    assert button.isEnabled()
    assert window.references.refused_rows == []
    assert not table.item(1, 0).text().startswith("✗ ")


def test_an_opted_out_song_is_refused_even_for_private_use(qtbot, window):
    window.add_reference(OPTED_OUT_SONG_ID)
    qtbot.waitUntil(lambda: window.verification.verdict() == "Refused")
    assert "default deny" in window.verification.details_text()
    assert not window.generate_bar.generate_button.isEnabled()


def test_cancel_during_generation_leaves_the_window_usable(qtbot, window, context):
    window.add_reference(A)
    window.add_reference(B)
    window.settings_panel.duration.setValue(300)  # long enough to be caught midway
    qtbot.waitUntil(lambda: window.generate_bar.generate_button.isEnabled())
    qtbot.mouseClick(window.generate_bar.generate_button, Qt.MouseButton.LeftButton)
    handle = window.generation
    assert handle is not None
    qtbot.waitUntil(lambda: handle.last_progress is not None, timeout=TAKE_TIMEOUT_MS)
    with qtbot.waitSignal(handle.cancelled, timeout=TAKE_TIMEOUT_MS):
        qtbot.mouseClick(window.generate_bar.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.generation is None)

    assert window.result.take is None
    assert not list(context.settings.takes_dir.glob("*.wav"))  # nothing half-made left behind
    assert "cancelled" in window.statusBar().currentMessage().lower()
    assert window.generate_bar.generate_button.isVisible()
    assert window.references._rows[0].weight.isEnabled()
    assert window.settings_panel.duration.isEnabled()

    # Still usable: edit the references and make a short take.
    window.references.remove_row(1)
    window.settings_panel.duration.setValue(4)
    qtbot.waitUntil(lambda: window.generate_bar.generate_button.isEnabled())
    qtbot.mouseClick(window.generate_bar.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=TAKE_TIMEOUT_MS)
    assert window.result.take.duration_s == pytest.approx(4.0, abs=0.05)


def test_the_tree_fetches_children_only_on_expand(qtbot, context):
    calls = []
    real = context.studio.catalogue_children

    def spy(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    context.studio.catalogue_children = spy
    w = MainWindow(context)
    qtbot.addWidget(w)
    w.show()
    model, tree = w.browser.tree_model, w.browser.tree
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    assert calls == [()]
    genres = [model.index(r, 0) for r in range(model.rowCount())]
    assert all(model.hasChildren(g) and model.rowCount(g) == 0 for g in genres)
    label = genres[0].data()
    assert label.endswith(")") and "(" in label  # "Baroque (2)"

    tree.expand(genres[0])
    qtbot.waitUntil(lambda: model.rowCount(genres[0]) > 0)
    assert calls == [(), genres[0].data(PATH_ROLE)]
    assert not model.is_fetched(genres[1].data(PATH_ROLE))
    QApplication.processEvents()
    assert len(calls) == 2
    w.close()


def test_the_engine_menu_offers_no_tool_engines(qtbot, window):
    """Tone match has its own window (Tools → Tone match…); it used to be offered beside the
    engines that make a take from references too."""
    combo = window.settings_panel.engine
    names = [combo.itemData(i) for i in range(combo.count())]
    assert "concat" in names and "tonematch" not in names
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert not any("Tone match" in label for label in labels)
