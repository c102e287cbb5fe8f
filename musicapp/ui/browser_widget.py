"""The left panel: search box and filters over the catalogue tree, with results replacing the
tree, and 15-second previews of the selected song."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from musicapp.audio.playback import Player
from musicapp.core import Level, Use
from musicapp.jobs import Progress
from musicapp.studio_types import SearchFilters
from musicapp.ui import icons
from musicapp.ui.catalog_model import SONG_ID_ROLE, CatalogTreeModel, SongRowDelegate
from musicapp.ui.filter_bar import FilterBar
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.labels import placeholder_label
from musicapp.ui.preview_player import PreviewBar, PreviewPlayer
from musicapp.ui.search_model import SearchResultsModel
from musicapp.ui.services import CataloguePort

log = logging.getLogger(__name__)

SEARCH_DEBOUNCE_MS = 150
SEARCH_LIMIT = 50
SUGGESTIONS = 8


class BrowserWidget(QWidget):
    """Lets the user find songs by browsing the hierarchy or by searching (narrowed by the
    filters), and hear a preview; emits `song_chosen` to add one to the references.

    `runner` loads previews off the GUI thread (the window passes its own, so shutdown waits
    for them); `player` is the playback backend (tests pass a fake).
    """

    song_chosen = Signal(str)  # song id
    stems_requested = Signal(str)  # song id: open its Stems view
    status = Signal(str)  # a line for the window's status bar

    PAGE_TREE, PAGE_RESULTS, PAGE_BUILDING = range(3)

    def __init__(
        self,
        service: CataloguePort,
        parent: QWidget | None = None,
        runner: JobRunner | None = None,
        player: Player | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self.runner = runner if runner is not None else JobRunner(self)

        title = QLabel("Catalogue")
        title.setObjectName("panelTitle")

        self.search_box = QLineEdit()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText("Search title, artist, album, genre…")
        self.search_box.setClearButtonEnabled(True)
        search = self.search_box.addAction(
            icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition
        )
        search.setText("Search")  # the icon's name for screen readers

        self.hierarchy_box = QComboBox()
        self.hierarchy_box.setObjectName("hierarchyBox")
        self.hierarchy_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.hierarchy_box.setMinimumContentsLength(14)
        self.hierarchy_box.setToolTip("How the catalogue is arranged")
        for key, label in service.hierarchies():
            self.hierarchy_box.addItem(label, key)

        self.filter_bar = FilterBar()

        self.tree_model = CatalogTreeModel(service, self)
        self.tree = QTreeView()
        self.tree.setProperty("ownsSpace", True)  # Space previews here (keyboard.py)
        self.tree.setObjectName("catalogueTree")
        self.tree.setModel(self.tree_model)
        self.tree.setHeaderHidden(True)
        # A song's badge, length, tempo and key, right-aligned in its row.
        self.tree.setItemDelegate(SongRowDelegate(self.tree))
        self._take_use = Use.PRIVATE
        self.tree.setUniformRowHeights(True)
        self.tree.setAnimated(True)
        self.tree.setExpandsOnDoubleClick(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)

        self.results_model = SearchResultsModel(self)
        self.results = QListView()
        self.results.setProperty("ownsSpace", True)
        self.results.setObjectName("searchResults")
        self.results.setModel(self.results_model)
        self.results.setSpacing(1)
        self.results.setWordWrap(True)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setResizeMode(QListView.ResizeMode.Adjust)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.setDragEnabled(True)
        self.results.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.no_results = placeholder_label()
        results_page = QWidget()
        results_layout = QVBoxLayout(results_page)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addWidget(self.results)
        results_layout.addWidget(self.no_results)

        self.building_label = QLabel("Building the demo catalogue from public-domain scores…")
        self.building_label.setWordWrap(True)
        self.building_label.setObjectName("buildingLabel")
        self.building_bar = QProgressBar()
        self.building_bar.setRange(0, 1000)
        self.building_bar.setTextVisible(False)
        self.building_stage = QLabel()
        self.building_stage.setObjectName("hint")
        self.building_stage.setWordWrap(True)
        building_page = QWidget()
        building_layout = QVBoxLayout(building_page)
        building_layout.addStretch(1)
        for w in (self.building_label, self.building_bar, self.building_stage):
            building_layout.addWidget(w)
        building_layout.addStretch(2)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.tree)
        self.pages.addWidget(results_page)
        self.pages.addWidget(building_page)

        # "Add" beside the catalogue reads as adding to the references (its tooltip and
        # accessible name say it whole): the pane stays narrow enough for a 1,024 px screen.
        self.add_button = QPushButton(icons.icon("add"), "Add")
        self.add_button.setAccessibleName("Add to references")
        self.add_button.setObjectName("addButton")
        self.add_button.setEnabled(False)
        self.add_button.setToolTip("Add the selected song to the references (or double-click it)")

        self.preview = PreviewPlayer(service, self.runner, player, self)
        self.preview_button = QPushButton(icons.icon("play"), "Preview")
        self.preview_button.setObjectName("previewButton")
        self.preview_button.setEnabled(False)
        self.preview_button.setToolTip("Listen to 15 seconds of the selected song (Space)")
        self.preview_bar = PreviewBar(self.preview)
        self.stems_button = QPushButton("Stems…")
        self.stems_button.setObjectName("stemsButton")
        self.stems_button.setEnabled(False)
        self.stems_button.setToolTip("Hear the selected song's stems one by one (solo, mute)")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.stems_button)
        buttons.addWidget(self.add_button, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 6, 12)
        layout.addWidget(title)
        layout.addWidget(self.search_box)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.hierarchy_box)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.preview_bar)
        layout.addLayout(buttons)

        # Space previews the selected song, as in a file manager. The views' own key events
        # carry it (an event filter, not a shortcut), so Space typed into the search box stays
        # a space and Space does not start the tree's type-ahead search.
        self.preview_action = QAction(icons.icon("play"), "Preview 15 seconds\tSpace", self)
        self.preview_action.triggered.connect(self.preview_selected)
        self.add_action = QAction(icons.icon("add"), "Add to references\tEnter", self)
        self.add_action.triggered.connect(self._add_selected)
        self.stems_action = QAction("Stems…", self)
        self.stems_action.triggered.connect(self.stems_selected)
        for view in (self.tree, self.results):
            view.installEventFilter(self)
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(self._show_context_menu)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.run_search)
        self.search_box.textChanged.connect(lambda _t: self._debounce.start())
        self.filter_bar.changed.connect(self._on_filters_changed)
        self.search_box.returnPressed.connect(self._on_return)
        # Completions as you type: the popup shows "Title — Artist", choosing one puts the
        # title in the box (the completion role), and the search then shows that song.
        self.suggestions = QStandardItemModel(self)
        self.completer = QCompleter(self.suggestions, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCompletionRole(Qt.ItemDataRole.UserRole)
        self.completer.setWidget(self.search_box)
        # Choosing a completion (click or Enter) adds exactly that song: by its id, never the
        # results' stale first row, which the box's own Enter would otherwise add.
        self.completer.activated[QModelIndex].connect(self._on_completion)  # type: ignore[index]
        self._completion_chosen = False

        # `activated` is a double-click or Enter (a single click where the platform says so);
        # a double-click also emits `doubleClicked`, so listening to both would add twice.
        self.tree.activated.connect(self._choose_index)
        self.results.activated.connect(self._choose_index)
        self.tree.selectionModel().selectionChanged.connect(self._update_add_button)
        # Qt pages in more rows only when the view's very last row shows; a long node in the
        # middle of the tree (Rock's first 200 artists, then Soul) would never grow. So: when
        # the last loaded child of a node that has more comes into view, fetch its next page.
        self.tree.verticalScrollBar().valueChanged.connect(self._schedule_tail_fetch)
        self.tree.expanded.connect(self._schedule_tail_fetch)
        self.results.selectionModel().selectionChanged.connect(self._update_add_button)
        self.add_button.clicked.connect(self._add_selected)
        self.stems_button.clicked.connect(self.stems_selected)
        self.preview_button.clicked.connect(self.preview_selected)
        self.preview.message.connect(self.status)
        self.hierarchy_box.currentIndexChanged.connect(self._on_hierarchy_changed)
        self.refresh_filter_choices()

    # -- hierarchy --------------------------------------------------------------------------

    def _update_suggestions(self, text: str) -> None:
        """Refill the completion popup for the box's text (a few ms at a million songs, so it
        runs in the search's debounce on the GUI thread rather than in a job)."""
        try:
            found = self._service.suggest(text, SUGGESTIONS, **self._filter_kwargs())
        except Exception as exc:  # completions are a convenience: never break the search
            log.warning("suggestions for %r failed: %s", text, exc)
            found = []
        self.suggestions.clear()
        for s in found:
            item = QStandardItem(s.label())
            item.setData(s.title, Qt.ItemDataRole.UserRole)
            item.setData(s.song_id, SONG_ID_ROLE)
            self.suggestions.appendRow(item)
        typed = self.search_box.text().strip()
        if found and typed and not any(x.title == typed for x in found):
            self.completer.complete()
        else:
            popup = self.completer.popup()
            if popup is not None:
                popup.hide()

    def _schedule_tail_fetch(self, *_: object) -> None:
        QTimer.singleShot(0, self.fetch_visible_tails)

    def fetch_visible_tails(self) -> None:
        """Fetch the next page of every node whose last loaded child is in view."""
        view, model = self.tree, self.tree_model
        index = view.indexAt(view.viewport().rect().topLeft())
        bottom = view.viewport().rect().bottom()
        while index.isValid() and view.visualRect(index).top() <= bottom:
            parent = index.parent()
            if index.row() == model.rowCount(parent) - 1 and model.canFetchMore(parent):
                model.fetchMore(parent)
            index = view.indexBelow(index)

    def _on_hierarchy_changed(self, row: int) -> None:
        key = self.hierarchy_box.itemData(row)
        if not key or key == self.tree_model.hierarchy:
            return
        levels = [p.strip() for p in self.hierarchy_box.itemText(row).split("›")]
        self.tree_model.set_hierarchy(key, levels)
        self._update_add_button()

    # -- search ----------------------------------------------------------------------------

    def run_search(self) -> None:
        """Search now for the box's text (the box calls this ~150 ms after the last key)."""
        self._debounce.stop()
        if self.pages.currentIndex() == self.PAGE_BUILDING:
            return
        text = self.search_box.text().strip()
        filtered = self.filter_bar.filters().active
        if not text and not filtered:
            self.pages.setCurrentIndex(self.PAGE_TREE)
            self._update_add_button()
            return
        if text:
            self._update_suggestions(text)
        try:
            songs = self._service.search(text, limit=SEARCH_LIMIT, **self._filter_kwargs())
            problem = ""
        except Exception as exc:  # a malformed query must not take the panel down
            log.warning("search %r failed: %s", text, exc)
            songs, problem = [], f"The search did not work: {exc}"
        self.results_model.set_songs(songs)
        if text:
            empty = f"No songs match “{text}”" + (" with these filters." if filtered else ".")
        else:
            empty = "No songs pass these filters."
        self.no_results.setText(problem or empty)
        self.no_results.setVisible(not songs)
        self.results.setVisible(bool(songs))
        if songs:
            self.results.setCurrentIndex(self.results_model.index(0))
        self.pages.setCurrentIndex(self.PAGE_RESULTS)
        self._update_add_button()

    def _filter_kwargs(self) -> dict[str, SearchFilters]:
        """`filters=` for search and suggest, only when a filter is chosen: with none, the
        call is the plain one every catalogue service understands."""
        filters = self.filter_bar.filters()
        return {"filters": filters} if filters.active else {}

    def _on_filters_changed(self, _filters: SearchFilters) -> None:
        # The same debounce as typing: several combos changed in a row cost one search.
        self._debounce.start()
        self._update_badges()

    def set_take_use(self, use: Use) -> None:
        """The take settings' use: what the rows' consent badges answer for, unless the
        filters name a use."""
        if use != self._take_use:
            self._take_use = use
            self._update_badges()

    def _update_badges(self) -> None:
        f = self.filter_bar.filters()
        self.tree_model.set_badge_context(f.level or Level.SONG, f.use or self._take_use)

    def refresh_filter_choices(self) -> None:
        """Offer the catalogue's current genres, eras and instruments in the filter bar."""
        try:
            choices = self._service.filter_choices()
        except Exception as exc:  # the filters are a convenience: never break the panel
            log.warning("filter choices failed: %s", exc)
            return
        self.filter_bar.set_choices(choices)

    def catalogue_changed(self) -> None:
        """The catalogue gained songs (an import): reload the tree, choices and results."""
        self.tree_model.reload()
        self.refresh_filter_choices()
        self.run_search()

    def _on_return(self) -> None:
        popup = self.completer.popup()
        if self._completion_chosen or (popup is not None and popup.isVisible()):
            self._completion_chosen = False  # this Enter chose a completion: it is added
            return
        if self._debounce.isActive():
            self.run_search()
        if self.pages.currentIndex() == self.PAGE_RESULTS:
            self._add_selected()

    def _on_completion(self, index: QModelIndex) -> None:
        """A completion was chosen: search its title, select that very song and add it."""
        song_id = index.data(SONG_ID_ROLE)
        title = index.data(Qt.ItemDataRole.UserRole)
        if not song_id:
            return
        self._completion_chosen = True
        QTimer.singleShot(0, self._forget_completion)  # an Enter, if any, arrives before this
        self.search_box.blockSignals(True)
        self.search_box.setText(str(title or ""))
        self.search_box.blockSignals(False)
        self.run_search()
        model = self.results_model
        for row in range(model.rowCount()):
            if model.index(row, 0).data(SONG_ID_ROLE) == song_id:
                self.results.setCurrentIndex(model.index(row, 0))
                break
        self.song_chosen.emit(song_id)

    def _forget_completion(self) -> None:
        self._completion_chosen = False

    # -- choosing ---------------------------------------------------------------------------

    def _active_view(self) -> QAbstractItemView:
        return self.results if self.pages.currentIndex() == self.PAGE_RESULTS else self.tree

    def selected_song_id(self) -> str | None:
        index = self._active_view().currentIndex()
        if not index.isValid() or not self._active_view().selectionModel().isSelected(index):
            return None
        return index.data(SONG_ID_ROLE) or None

    def _choose_index(self, index: QModelIndex) -> None:
        song_id = index.data(SONG_ID_ROLE)
        if song_id:
            self.song_chosen.emit(song_id)

    def _add_selected(self) -> None:
        song_id = self.selected_song_id()
        if song_id:
            self.song_chosen.emit(song_id)

    def stems_selected(self) -> None:
        """Ask the window to open the selected song's Stems view."""
        song_id = self.selected_song_id()
        if song_id:
            self.stems_requested.emit(song_id)

    def _update_add_button(self, *_: object) -> None:
        chosen = self.selected_song_id() is not None
        self.add_button.setEnabled(chosen)
        self.stems_button.setEnabled(chosen)
        self.stems_action.setEnabled(chosen)
        self.preview_button.setEnabled(chosen)
        self.preview_action.setEnabled(chosen)
        self.add_action.setEnabled(chosen)

    # -- preview ----------------------------------------------------------------------------

    def preview_selected(self) -> None:
        """Play 15 seconds of the selected song (stopping any other preview)."""
        song_id = self.selected_song_id()
        if song_id:
            self.preview.preview(song_id)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (
            watched in (self.tree, self.results)
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Space
            and not event.modifiers()
        ):
            self.preview_selected()
            return True
        return super().eventFilter(watched, event)

    def _show_context_menu(self, pos: QPoint) -> None:
        view = self._active_view()
        index = view.indexAt(pos)
        if not index.isValid() or not index.data(SONG_ID_ROLE):
            return
        view.setCurrentIndex(index)
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.preview_action)
        menu.addAction(self.add_action)
        menu.addAction(self.stems_action)
        if self.preview.busy:
            menu.addAction(icons.icon("stop"), "Stop the preview", self.preview.stop)
        menu.popup(view.viewport().mapToGlobal(pos))

    # -- first run ------------------------------------------------------------------------

    def show_building(self, progress: Progress | None) -> None:
        """Show the demo-building page with `progress` (None: just started)."""
        self.pages.setCurrentIndex(self.PAGE_BUILDING)
        self.search_box.setEnabled(False)
        self.filter_bar.setEnabled(False)
        fraction = progress.fraction if progress else 0.0
        self.building_bar.setValue(round(1000 * max(0.0, min(1.0, fraction))))
        if progress is not None:
            self.building_stage.setText(progress.message or progress.stage)

    def show_catalogue(self) -> None:
        """Leave the building page and show a freshly loaded tree."""
        self.tree_model.reload()
        self.search_box.setEnabled(True)
        self.filter_bar.setEnabled(True)
        self.refresh_filter_choices()
        self.pages.setCurrentIndex(self.PAGE_TREE)
        self.run_search()
