"""Under the consent check: for each refused reference, the permitted songs nearest to it for
the same level and use, each with a Swap button (design paper §5.4, compliant alternatives)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from musicapp.ui.candidates_widget import clear_layout, holders_text
from musicapp.ui.search_model import song_subtitle

if TYPE_CHECKING:
    from musicapp.core import Song
    from musicapp.selection.types import Alternatives


def _how(alternatives: Alternatives) -> str:
    ref = alternatives.refused
    return ref.level.value + (f", {ref.role.value}" if ref.role is not None else "")


class AlternativesWidget(QWidget):
    """Shows `Alternatives` per refused reference; emits `swap_requested(alternatives, song)`
    when the user picks a replacement (the window swaps it in, keeping level, role and weight,
    and the consent check runs again)."""

    swap_requested = Signal(object, object)  # Alternatives, Song

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alternativesPanel")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(18, 0, 0, 4)  # under the refused reference's reasons
        self._layout.setSpacing(2)
        self.swap_buttons: dict[tuple[str, str], QPushButton] = {}  # (refused id, song id)
        self.setVisible(False)

    def clear(self) -> None:
        self.swap_buttons.clear()
        clear_layout(self._layout)
        self.setVisible(False)

    def show_message(self, text: str) -> None:
        self.clear()
        self._layout.addWidget(_hint(text))
        self.setVisible(True)

    def show_alternatives(self, found: list[Alternatives], names: dict[str, str]) -> None:
        """One block per refused reference (`names`: song id → title of the references)."""
        self.clear()
        for alternatives in found:
            refused = alternatives.refused.song_id
            usable = alternatives.ranking.filtered_for or f"permitted at {_how(alternatives)}"
            title = QLabel(f"Songs like “{names.get(refused, refused)}” {usable}:")
            title.setObjectName("alternativesTitle")
            title.setWordWrap(True)
            title.setToolTip("\n".join(alternatives.reasons))
            self._layout.addWidget(title)
            candidates = alternatives.ranking.candidates
            if not candidates:
                self._layout.addWidget(
                    _hint("No permitted song near it for this level and use: remove it.")
                )
                continue
            grid = QGridLayout()
            grid.setContentsMargins(0, 0, 0, 4)
            grid.setHorizontalSpacing(6)
            grid.setVerticalSpacing(2)
            grid.setColumnStretch(0, 1)
            shown = [f"{c.song.title} — {c.song.artist}" for c in candidates]
            for row, candidate in enumerate(candidates):
                song, name = candidate.song, shown[row]
                if shown.count(name) > 1 and song.album:  # two "Agnus Dei": say which
                    name += f" ({song.album})"
                label = QLabel(name)
                label.setWordWrap(True)  # never wider than the consent panel
                label.setObjectName("alternativeSong")
                tip = [song_subtitle(song)] + ([candidate.why] if candidate.why else [])
                tip.append(f"Rights holders: {holders_text(song)}")
                label.setToolTip("\n".join(tip))
                button = QPushButton("Swap")
                button.setObjectName("swapButton")
                button.setToolTip(f"Use “{song.title}” instead, with the same level and weight")
                button.clicked.connect(lambda _c=False, a=alternatives, s=song: self._swap(a, s))
                grid.addWidget(label, row, 0)
                grid.addWidget(button, row, 1, Qt.AlignmentFlag.AlignRight)
                self.swap_buttons[(refused, song.id)] = button
            self._layout.addLayout(grid)
            self._layout.addWidget(_hint(f"Answered by {alternatives.ranking.embedding}"))
        self.setVisible(bool(found))

    def _swap(self, alternatives: Alternatives, song: Song) -> None:
        self.swap_requested.emit(alternatives, song)


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label
