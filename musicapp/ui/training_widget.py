"""The take's training-data attribution: the training pieces the composer leaned on most, by
unlearning and TRAK, and how the take's training pool is paid (``attribution/tda/take.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from musicapp.attribution.tda.take import influence_rows, policy_text
from musicapp.ui.labels import read_only_table

HEADERS = ("Learned from", "Kind", "Unlearning", "TRAK", "Estimate")


class TrainingWidget(QWidget):
    """One take's training attribution, or a line saying the engine learned from no one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.policy = QLabel()
        self.policy.setObjectName("hint")
        self.policy.setWordWrap(True)
        self.policy.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = read_only_table("trainingTable", HEADERS)
        header = self.table.horizontalHeader()
        for column in range(1, len(HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        for column, tip in (
            (2, "How much the training piece's loss rises when the model unlearns this take"),
            (3, "TRAK: the training piece's projected gradient against the take's"),
            (4, "Its weight if this period's training pool is paid by estimate"),
        ):
            item = self.table.horizontalHeaderItem(column)
            if item is not None:
                item.setToolTip(tip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.policy)
        layout.addWidget(self.table, 1)

    def show_training(self, training: Mapping[str, Any] | None, engine: str) -> None:
        if not training:
            self.policy.setText(
                f"The {engine or 'weight-free'} engine learned from no one's music: this take "
                "owes no training pool."
            )
            self.table.setRowCount(0)
            self.table.setVisible(False)
            return
        self.policy.setText(policy_text(training))
        rows = influence_rows(training)
        self.table.setRowCount(len(rows))
        for r, (title, kind, unlearning, trak, share) in enumerate(rows):
            cells = (
                title,
                "catalogue" if kind == "catalogue song" else kind,
                f"{unlearning:+.3f}",
                f"{trak:+.3f}",
                "—" if share is None else f"{share * 100:.1f} %",
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{title} ({kind})")  # the title column elides long titles
                if c >= 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(r, c, item)
        self.table.setVisible(True)
