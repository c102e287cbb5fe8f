"""Category chips: toggle buttons grouped by facet (mood, situation, function), wrapping to the
width of the narrow left pane."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QLayout,
    QLayoutItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWidgetItem,
)

CHIP_SPACING = 4


class _WrapLayout(QLayout):
    """Lays its widgets left to right and starts a new line when the next one does not fit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt's name
        self._items.append(item)

    def add(self, widget: QWidget) -> None:
        self.addChildWidget(widget)
        self.addItem(QWidgetItem(widget))

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt's name
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt's name
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt's name
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x > rect.x() and x + hint.width() > rect.right() + 1:
                x, y, line = rect.x(), y + line + CHIP_SPACING, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + CHIP_SPACING
            line = max(line, hint.height())
        return y + line - rect.y()


class ChipsWidget(QWidget):
    """One titled group of chips per facet; `changed` after every toggle. A chip's category is
    "facet:label" ("mood:sad"), the form the selection room's prompts take."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.chips: dict[str, QPushButton] = {}
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)

    def set_facets(self, facets: dict[str, list[tuple[str, int]]]) -> None:
        """Show `facets` (facet → (label, song count)); chips that were on stay on."""
        on = set(self.categories())
        while (item := self._layout.takeAt(0)) is not None:
            if (widget := item.widget()) is not None:
                widget.deleteLater()
        self.chips.clear()
        for facet, labels in facets.items():
            if not labels:
                continue
            title = QLabel(facet.capitalize())
            title.setObjectName("facetTitle")
            self._layout.addWidget(title)
            group = QWidget()
            wrap = _WrapLayout(group)
            for label, count in labels:
                category = f"{facet}:{label}"
                chip = QPushButton(label)
                chip.setObjectName("chip")
                chip.setCheckable(True)
                chip.setChecked(category in on)
                chip.setEnabled(count > 0)
                chip.setToolTip(f"{count} song{'s' if count != 1 else ''} labelled “{label}”")
                chip.toggled.connect(lambda _on: self.changed.emit())
                wrap.add(chip)
                self.chips[category] = chip
            self._layout.addWidget(group)

    def categories(self) -> list[str]:
        """The chips that are on, as "facet:label"."""
        return [category for category, chip in self.chips.items() if chip.isChecked()]
