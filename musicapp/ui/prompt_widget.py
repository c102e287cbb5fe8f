"""The Prompt tab: free text ("a melancholic fiddle tune for a funeral") and category chips ask
the selection room for songs; the results preview and add like the catalogue's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from musicapp.ui import icons
from musicapp.ui.candidates_widget import CandidatesWidget
from musicapp.ui.chips_widget import ChipsWidget
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.latest_call import LatestCall
from musicapp.ui.preview_player import PreviewPlayer

if TYPE_CHECKING:
    from musicapp.core import Level, Use
    from musicapp.selection.types import Ranking
    from musicapp.ui.services import SelectionPort

PAGE_SIZE = 10  # songs per answer; More asks for as many again
EMPTY_TEXT = "Describe the music you want, or pick categories below, and press Enter."

Filters = Callable[[], "tuple[Use | None, Level | None]"]


class PromptWidget(QWidget):
    """Asks `selection().prompt(...)` off the GUI thread, with the take's use and the
    references' level (`filters()`) as the consent filter; `add_requested(song_id)` adds one."""

    add_requested = Signal(str)
    status = Signal(str)

    def __init__(
        self,
        selection: Callable[[], SelectionPort],
        runner: JobRunner,
        preview: PreviewPlayer,
        filters: Filters,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._selection = selection
        self._filters = filters
        self._asking = LatestCall(runner, self)
        self._facets = LatestCall(runner, self)
        self._append = False

        self.text_box = QLineEdit()
        self.text_box.setObjectName("searchBox")
        self.text_box.setPlaceholderText("a melancholic fiddle tune for a funeral")
        self.text_box.setClearButtonEnabled(True)
        self.text_box.setToolTip("Describe the music in your own words; Enter asks")
        self.ask_button = QPushButton(icons.icon("search"), "Find")
        self.ask_button.setToolTip("Find catalogue songs for the words and the chips chosen")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.text_box, 1)
        row.addWidget(self.ask_button)

        self.chips = ChipsWidget()
        self.results = CandidatesWidget(
            preview, EMPTY_TEXT, more=True, none_text="No song usable here fits this prompt."
        )

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.chips)
        layout.addWidget(self.results, 1)

        self.text_box.returnPressed.connect(self.ask)
        self.ask_button.clicked.connect(self.ask)
        self.chips.changed.connect(self.ask)
        self.results.more_requested.connect(self.more)
        self.results.add_requested.connect(self.add_requested)

    def load_facets(self) -> None:
        """Fill the chips from the room's facets (off the GUI thread; chips are optional)."""
        selection = self._selection
        self._facets.run(
            "Category facets",
            lambda: selection().facets(),
            self.chips.set_facets,
            lambda exc: self.status.emit(f"Categories are unavailable: {exc}"),
        )

    def ask(self) -> None:
        """A new prompt from the box and the chips: replaces the results."""
        text, categories = self.text_box.text().strip(), self.chips.categories()
        if not text and not categories:
            self._asking.forget()
            self.results.show_message(EMPTY_TEXT)
            return
        self._run(text, categories, exclude=[], append=False)
        self.results.show_message("Looking for songs…")

    def more(self) -> None:
        """More candidates for the same prompt, leaving out the songs already shown."""
        ranking = self.results.ranking
        if ranking is None:
            return
        self._run(
            self.text_box.text().strip(),
            self.chips.categories(),
            exclude=self.results.song_ids(),
            append=True,
        )

    def _run(self, text: str, categories: list[str], exclude: list[str], append: bool) -> None:
        use, level = self._filters()
        selection = self._selection

        def call() -> Ranking:
            return selection().prompt(
                text, categories=categories, use=use, level=level, k=PAGE_SIZE, exclude=exclude
            )

        self._append = append
        self._asking.run("Prompt", call, self._on_ranking, self._on_failed)

    def _on_ranking(self, ranking: Ranking) -> None:
        new = self.results.show_ranking(ranking, append=self._append)
        if self._append and not new:
            self.status.emit("No more songs for this prompt")

    def _on_failed(self, exc: BaseException) -> None:
        message = f"The prompt did not work: {exc}"
        if not self._append:
            self.results.show_message(message)
        self.status.emit(message)
