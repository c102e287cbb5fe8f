"""The mechanism picker the Royalties view's tabs share (proportional, Top-K proportional,
Top-K uniform, with K for the Top-K ones), and how its tables write money and names."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from musicapp.royalties.engine import PROPORTIONAL, TOP_K_PROPORTIONAL, TOP_K_UNIFORM

MECHANISM_NAMES = (
    (PROPORTIONAL, "Proportional"),
    (TOP_K_PROPORTIONAL, "Top-K proportional"),
    (TOP_K_UNIFORM, "Top-K uniform"),
)
MECHANISM_TIPS = {
    PROPORTIONAL: "Every reference is paid by its share of the take",
    TOP_K_PROPORTIONAL: "Only the K largest shares of each take are paid, scaled up to the whole",
    TOP_K_UNIFORM: "The K largest shares of each take are paid equally",
}
K_RANGE = (1, 8)
DEFAULT_K = 3
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
AMOUNT_WIDTH = 110  # px: amounts up to millions of euros, clear of the next column


def euro_text(cents: int) -> str:
    """Cents as euros with two decimals and thousands separators: 123456 → '1,234.56'."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}.{part:02d}"


def mechanism_text(mechanism: str, k: int | None) -> str:
    """'Proportional', 'Top-3 proportional', 'Top-1 uniform'."""
    if mechanism == PROPORTIONAL:
        return "Proportional"
    kind = "uniform" if mechanism == TOP_K_UNIFORM else "proportional"
    return f"Top-{k} {kind}" if k is not None else f"Top-K {kind}"


def cell(text: str, align_right: bool = False, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if align_right:
        item.setTextAlignment(RIGHT)
    if tip:
        item.setToolTip(tip)
    return item


def read_only_table(
    columns: tuple[str, ...], name: str, stretch: int = 0, amounts: tuple[int, ...] = ()
) -> QTableWidget:
    """A table to read: column `stretch` takes the room left, the `amounts` columns are right
    aligned (header too) with room to breathe, the others fit their contents."""
    from PySide6.QtWidgets import QAbstractItemView, QHeaderView

    table = QTableWidget(0, len(columns))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setShowGrid(False)
    table.setAlternatingRowColors(True)
    table.setStyleSheet("QTableWidget::item { padding: 0 6px 0 3px; }")  # as the header
    header = table.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    metrics = header.fontMetrics()
    for col, text in enumerate(columns):
        if col == stretch:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        elif col in amounts:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, max(AMOUNT_WIDTH, metrics.horizontalAdvance(text) + 28))
            if (item := table.horizontalHeaderItem(col)) is not None:
                item.setTextAlignment(RIGHT)
        else:
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
    return table


class MechanismPicker(QWidget):
    """A mechanism and, for the Top-K ones, K (1 to 8); `changed` fires on either."""

    changed = Signal()

    def __init__(self, labelled: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        for key, name in MECHANISM_NAMES:
            self.combo.addItem(name, key)
            self.combo.setItemData(
                self.combo.count() - 1, MECHANISM_TIPS[key], Qt.ItemDataRole.ToolTipRole
            )
        self.k_spin = QSpinBox()
        self.k_spin.setRange(*K_RANGE)
        self.k_spin.setValue(DEFAULT_K)
        self.k_spin.setPrefix("K = ")
        self.k_spin.setToolTip("How many of each take's largest shares are paid")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        if labelled:
            row.addWidget(QLabel("Mechanism"))
        row.addWidget(self.combo)
        row.addWidget(self.k_spin)
        row.addStretch(1)
        self.combo.currentIndexChanged.connect(self._on_mechanism)
        self.k_spin.valueChanged.connect(lambda _k: self.changed.emit())
        self._on_mechanism(emit=False)

    def mechanism(self) -> str:
        return str(self.combo.currentData())

    def k(self) -> int:
        return int(self.k_spin.value())

    def set_mechanism(self, mechanism: str, k: int | None = None) -> None:
        if k is not None:
            self.k_spin.setValue(k)
        index = self.combo.findData(mechanism)
        if index >= 0:
            self.combo.setCurrentIndex(index)

    def describe(self) -> str:
        return mechanism_text(self.mechanism(), self.k())

    def _on_mechanism(self, _index: int = 0, emit: bool = True) -> None:
        self.k_spin.setEnabled(self.mechanism() != PROPORTIONAL)
        self.combo.setToolTip(MECHANISM_TIPS.get(self.mechanism(), ""))
        if emit:
            self.changed.emit()
