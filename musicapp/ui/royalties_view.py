"""Tools → Royalties…: what this take pays whom, the period's statement from the local ledger,
and the inequality simulator, as three tabs of one non-modal window (issue 16).

The window reaches compensation only through ``RoyaltiesPort`` (``studio.compensation``); the
take, the request being built and song names come from the main window as functions, so the
view never holds stale copies of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QTabWidget, QVBoxLayout, QWidget

from musicapp.ui.royalties_simulator_widget import SimulatorWidget
from musicapp.ui.royalties_statement_widget import StatementWidget
from musicapp.ui.royalties_take_widget import TakePreviewWidget

if TYPE_CHECKING:
    from musicapp.core import GenerationRequest, Song
    from musicapp.takes import Take
    from musicapp.ui.job_runner import JobRunner
    from musicapp.ui.services import RoyaltiesPort

DEFAULT_SIZE = (900, 720)


class RoyaltiesView(QDialog):
    """The three tabs; `take_tab.refresh()` follows the take, the request and the mechanism."""

    TAKE_TAB, STATEMENT_TAB, SIMULATOR_TAB = 0, 1, 2

    def __init__(
        self,
        room: Callable[[], RoyaltiesPort],
        runner: JobRunner,
        take: Callable[[], Take | None],
        request: Callable[[], GenerationRequest | None],
        song: Callable[[str], Song | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Royalties")
        self.setModal(False)
        self.resize(*DEFAULT_SIZE)
        self.take_tab = TakePreviewWidget(room, take, request, song)
        self.statement_tab = StatementWidget(room, runner, song)
        self.simulator_tab = SimulatorWidget(room, runner)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.take_tab, "This take")
        self.tabs.addTab(self.statement_tab, "Statement")
        self.tabs.addTab(self.simulator_tab, "Simulator")
        self.tabs.setTabToolTip(self.TAKE_TAB, "What the take pays whom, per 100 EUR")
        self.tabs.setTabToolTip(self.STATEMENT_TAB, "The period's statement from this device")
        self.tabs.setTabToolTip(self.SIMULATOR_TAB, "How unequal each mechanism's payouts are")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.tabs)
        self.tabs.currentChanged.connect(self._on_tab)

    def refresh(self) -> None:
        """Show what the take (or the request) pays now, if the take tab is what is seen."""
        if self.isVisible() and self.tabs.currentIndex() == self.TAKE_TAB:
            self.take_tab.refresh()

    def _on_tab(self, index: int) -> None:
        if index == self.TAKE_TAB:
            self.take_tab.refresh()
