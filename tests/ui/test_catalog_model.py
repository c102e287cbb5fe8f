"""The catalogue tree is lazy: a level is fetched only when its parent is expanded."""

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QTreeView

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
