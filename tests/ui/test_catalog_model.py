"""The catalogue tree is lazy: a level is fetched only when its parent is expanded."""

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QTreeView

from musicapp.ui.catalog_model import SONG_ID_ROLE, CatalogTreeModel


def test_children_are_fetched_only_on_expand(qtbot, fake_studio):
    model = CatalogTreeModel(fake_studio)
    view = QTreeView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.show()
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    assert fake_studio.calls == [()]  # only the genres
    baroque = model.index(0, 0)
    assert baroque.data() == "Baroque (6)"
    assert model.hasChildren(baroque)  # an expander without fetching
    assert model.rowCount(baroque) == 0

    view.expand(baroque)
    qtbot.waitUntil(lambda: model.rowCount(baroque) == 2)
    assert fake_studio.calls == [(), ("Baroque",)]
    assert model.is_fetched(("Baroque",)) and not model.is_fetched(("Romantic",))

    artist = model.index(0, 0, baroque)
    view.expand(artist)
    qtbot.waitUntil(lambda: model.rowCount(artist) == 1)
    album = model.index(0, 0, artist)
    view.expand(album)
    qtbot.waitUntil(lambda: model.rowCount(album) == 3)
    song = model.index(0, 0, album)
    assert song.data(SONG_ID_ROLE) == "s1"
    assert song.data() == "Song 1"  # songs show no count
    assert not model.hasChildren(song)
    assert model.parent(song) == album and model.parent(baroque) == QModelIndex()
    assert len(fake_studio.calls) == 4


def test_reload_forgets_what_was_fetched(qtbot, fake_studio):
    model = CatalogTreeModel(fake_studio)
    model.fetchMore(QModelIndex())
    model.fetchMore(model.index(0, 0))
    model.reload()
    assert model.rowCount() == 0 and model.canFetchMore(QModelIndex())
    assert model.data(QModelIndex(), Qt.ItemDataRole.DisplayRole) is None


def test_a_wide_node_is_fetched_one_page_at_a_time(qtbot):
    from ui_fakes import FakeStudio

    from musicapp.ui.catalog_model import PAGE_SIZE

    studio = FakeStudio(wide=450)
    model = CatalogTreeModel(studio)
    view = QTreeView()
    qtbot.addWidget(view)
    view.resize(300, 400)
    view.setModel(model)
    view.show()
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    wide = model.index(2, 0)
    assert wide.data() == "Wide (450)"  # the count stays in the label
    studio.page_calls.clear()

    view.expand(wide)
    qtbot.waitUntil(lambda: model.rowCount(wide) > 0)
    QApplication.processEvents()
    assert model.rowCount(wide) == PAGE_SIZE == 200
    assert studio.page_calls == [(("Wide",), "genre", 0, 200)]  # exactly one batch
    assert model.canFetchMore(wide)

    QApplication.processEvents()  # one page per node per event-loop turn
    model.fetchMore(wide)
    assert model.rowCount(wide) == 400 and len(studio.page_calls) == 2
    assert studio.page_calls[-1] == (("Wide",), "genre", 200, 200)
    QApplication.processEvents()
    model.fetchMore(wide)
    assert model.rowCount(wide) == 450 and not model.canFetchMore(wide)
    last = model.index(449, 0, wide)
    assert last.data(SONG_ID_ROLE) == "w449" and model.parent(last) == wide
    model.fetchMore(wide)  # nothing more to ask for
    assert len(studio.page_calls) == 3


def test_a_model_reads_the_hierarchy_it_is_given(qtbot, fake_studio):
    model = CatalogTreeModel(fake_studio, hierarchy="decade", level_names=("Decade", "Year"))
    model.fetchMore(QModelIndex())
    assert fake_studio.page_calls[-1] == ((), "decade", 0, 200)
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["1700s (9)", "1710s (3)"]
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole).startswith("Decade: 1700s")
    model.set_hierarchy("genre")
    assert model.rowCount() == 0 and model.canFetchMore(QModelIndex())


def test_the_hierarchy_switcher_rebuilds_the_tree(qtbot, fake_studio):
    from musicapp.ui.browser_widget import BrowserWidget

    browser = BrowserWidget(fake_studio)
    qtbot.addWidget(browser)
    browser.show()
    box, model = browser.hierarchy_box, browser.tree_model
    assert [box.itemData(i) for i in range(box.count())] == ["genre", "decade"]
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    box.setCurrentIndex(1)
    assert model.hierarchy == "decade"
    qtbot.waitUntil(lambda: model.rowCount() > 0)
    assert model.index(0, 0).data() == "1700s (9)"
    assert fake_studio.page_calls[-1] == ((), "decade", 0, 200)


def test_scrolling_through_a_long_node_in_the_middle_of_the_tree_pages_it_in(qtbot):
    """Qt itself pages only when the view's last row shows; Wide is followed by another genre."""
    from ui_fakes import FakeStudio

    from musicapp.ui.browser_widget import BrowserWidget

    studio = FakeStudio(wide=450, after_wide=True)
    browser = BrowserWidget(studio)
    qtbot.addWidget(browser)
    browser.resize(300, 400)
    browser.show()
    model, view = browser.tree_model, browser.tree
    qtbot.waitUntil(lambda: model.rowCount() == 4)
    wide = model.index(2, 0)
    assert wide.data() == "Wide (450)" and model.index(3, 0).data().startswith("Zydeco")
    view.expand(wide)
    qtbot.waitUntil(lambda: model.rowCount(wide) == 200)
    bar = view.verticalScrollBar()
    for _ in range(40):
        if model.rowCount(wide) == 450:
            break
        bar.setValue(bar.value() + 150)
        qtbot.wait(20)
    assert model.rowCount(wide) == 450
    assert not model.canFetchMore(wide)


def test_typing_in_the_search_box_shows_completions_and_choosing_one_searches_it(qtbot):
    from ui_fakes import FakeStudio

    from musicapp.ui.browser_widget import BrowserWidget

    studio = FakeStudio()
    browser = BrowserWidget(studio)
    qtbot.addWidget(browser)
    browser.show()
    song = next(iter(studio.songs.values()))
    qtbot.keyClicks(browser.search_box, song.title[:3])
    qtbot.waitUntil(lambda: browser.suggestions.rowCount() > 0, timeout=3000)
    shown = [browser.suggestions.item(r).text() for r in range(browser.suggestions.rowCount())]
    # Album and year tell same-titled songs apart.
    assert f"{song.title} — {song.artist} ({song.album}, {song.year})" in shown
    assert all(t.lower().startswith(song.title[:3].lower()) or "—" in t for t in shown)
    assert browser.completer.popup().isVisible()


def test_enter_on_a_completion_adds_that_song_not_the_previous_top_result(qtbot):
    """The bug: picking the third completion with the arrows and Enter added the results'
    first row (the song that topped the search before the choice)."""
    from ui_fakes import FakeStudio

    from musicapp.ui.browser_widget import BrowserWidget

    studio = FakeStudio()
    browser = BrowserWidget(studio)
    qtbot.addWidget(browser)
    browser.show()
    chosen: list[str] = []
    browser.song_chosen.connect(chosen.append)
    qtbot.keyClicks(browser.search_box, "Song")
    popup = browser.completer.popup()
    qtbot.waitUntil(lambda: popup.isVisible() and browser.suggestions.rowCount() >= 3, timeout=3000)
    third = browser.suggestions.item(2).data(SONG_ID_ROLE)
    first_result = browser.results_model.index(0, 0).data(SONG_ID_ROLE)
    assert third != first_result
    for _ in range(3):
        qtbot.keyClick(popup, Qt.Key.Key_Down)
    assert popup.currentIndex().row() == 2
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.wait(50)
    assert chosen == [third]  # that song, once
    assert browser.selected_song_id() == third
    assert not popup.isVisible()
    # The next plain Enter in the box adds the selected result again, as before.
    qtbot.keyClick(browser.search_box, Qt.Key.Key_Return)
    assert chosen == [third, third]
