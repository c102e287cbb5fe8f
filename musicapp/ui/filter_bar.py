"""The filters beside the catalogue search: usable for a level and use, genre, era, instrument.

A user looking for references usually knows what they want to do with them before what they are
called, so the filters narrow both the search results and the completion popup, and with an
empty search box they list the songs that pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QPushButton, QSizePolicy, QWidget

from musicapp.core import Level, Use
from musicapp.studio_types import SearchFilters

LEVEL_LABELS = {
    Level.SONG: "Whole song",
    Level.PARAMETER: "Parameter",
    Level.AUDIO: "Audio",
    Level.TEMPORAL: "Temporal",
}
USE_LABELS = {
    Use.PRIVATE: "Private use",
    Use.NON_COMMERCIAL: "Non-commercial",
    Use.COMMERCIAL: "Commercial",
}
# The panel is ~270 px wide: two combos a row, so the items stay short and the tooltips say
# what they mean ("usable for": every rights holder's consent allows it).
# The keys of Studio.filter_choices() and the "Any …" item each combo starts with.
CHOICE_KEYS = {"genre": "Any genre", "era": "Any era", "instrument": "Any instrument"}


def _combo(name: str, tooltip: str, any_text: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    box.setToolTip(tooltip)
    box.addItem(any_text, None)
    # The panel is narrow: let long genre names shrink the combo rather than widen the panel.
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(6)
    box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return box


class FilterBar(QWidget):
    """Five combos ("Any …" by default) and a Clear button; emits `changed(SearchFilters)`."""

    changed = Signal(object)  # SearchFilters

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterBar")
        self.level_box = _combo(
            "levelFilter",
            "Usable for: only songs whose every rights holder allows this level of reference "
            "(for the chosen use; private use when no use is chosen)",
            "Any level",
        )
        for level, label in LEVEL_LABELS.items():
            self.level_box.addItem(label, level.value)
        self.use_box = _combo(
            "useFilter",
            "Usable for: only songs whose every rights holder allows this use of the output "
            "(at the chosen level; whole-song level when no level is chosen)",
            "Any use",
        )
        for use, label in USE_LABELS.items():
            self.use_box.addItem(label, use.value)
        self.genre_box = _combo("genreFilter", "Only songs of this genre", CHOICE_KEYS["genre"])
        self.era_box = _combo("eraFilter", "Only songs from this era", CHOICE_KEYS["era"])
        self.instrument_box = _combo(
            "instrumentFilter",
            "Only songs with this instrument (or instrument family) in their stems",
            CHOICE_KEYS["instrument"],
        )
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.setObjectName("clearFilters")
        self.clear_button.setToolTip("Show every song again")
        self.clear_button.setEnabled(False)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(4)
        grid.addWidget(self.level_box, 0, 0)
        grid.addWidget(self.use_box, 0, 1)
        grid.addWidget(self.genre_box, 1, 0)
        grid.addWidget(self.era_box, 1, 1)
        grid.addWidget(self.instrument_box, 2, 0)
        grid.addWidget(self.clear_button, 2, 1)

        self._quiet = False
        for box in self._boxes():
            box.currentIndexChanged.connect(self._on_changed)
        self.clear_button.clicked.connect(self.clear)

    def _boxes(self) -> tuple[QComboBox, ...]:
        return (self.level_box, self.use_box, self.genre_box, self.era_box, self.instrument_box)

    def _choice_boxes(self) -> dict[str, QComboBox]:
        return {"genre": self.genre_box, "era": self.era_box, "instrument": self.instrument_box}

    def filters(self) -> SearchFilters:
        """What the combos say now (None for each "Any …")."""
        level = self.level_box.currentData()
        use = self.use_box.currentData()
        return SearchFilters(
            level=Level(level) if level else None,
            use=Use(use) if use else None,
            genre=self.genre_box.currentData() or None,
            era=self.era_box.currentData() or None,
            instrument=self.instrument_box.currentData() or None,
        )

    def set_choices(self, choices: Mapping[str, Sequence[str]]) -> None:
        """Offer these genres, eras and instruments, keeping each current choice that is still
        offered (the catalogue changed under it: an import, the demo build)."""
        before = self.filters()
        self._quiet = True
        try:
            for key, box in self._choice_boxes().items():
                current = box.currentData()
                while box.count() > 1:
                    box.removeItem(1)
                for value in choices.get(key, ()):
                    box.addItem(str(value), str(value))
                box.setCurrentIndex(max(0, box.findData(current)) if current else 0)
        finally:
            self._quiet = False
        self._on_changed(emit=self.filters() != before)

    def select(self, key: str, value: str | None) -> None:
        """Choose `value` in the combo for `key` ("level", "use", "genre", "era", "instrument")."""
        box = {"level": self.level_box, "use": self.use_box, **self._choice_boxes()}[key]
        index = box.findData(value) if value is not None else 0
        if index < 0:
            raise ValueError(f"{key} filter: {value!r} is not offered")
        box.setCurrentIndex(index)

    def clear(self) -> None:
        """Back to "Any" everywhere, with one `changed` for the lot."""
        before = self.filters()
        self._quiet = True
        try:
            for box in self._boxes():
                box.setCurrentIndex(0)
        finally:
            self._quiet = False
        self._on_changed(emit=self.filters() != before)

    def _on_changed(self, *_: object, emit: bool = True) -> None:
        if self._quiet:
            return
        filters = self.filters()
        self.clear_button.setEnabled(filters.active)
        for box in self._boxes():
            # A chosen filter stands out, so a user who sees few songs knows why.
            font = box.font()
            font.setBold(box.currentIndex() > 0)
            box.setFont(font)
        if emit:
            self.changed.emit(filters)
