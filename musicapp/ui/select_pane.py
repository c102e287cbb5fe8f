"""The left pane: the catalogue browser, the prompt and the Similar pane as tabs, the three
ways of choosing references (browse and search; describe; more like this)."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from musicapp.ui.browser_widget import BrowserWidget
from musicapp.ui.prompt_widget import PromptWidget
from musicapp.ui.similar_widget import SimilarWidget


class SelectPane(QWidget):
    """ "Browse" | "Prompt" | "Similar"; the browser keeps its own title, search and tree."""

    BROWSE, PROMPT, SIMILAR = range(3)

    def __init__(
        self,
        browser: BrowserWidget,
        prompt: PromptWidget,
        similar: SimilarWidget,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("selectPane")
        self.browser, self.prompt, self.similar = browser, prompt, similar
        layout = browser.layout()
        if layout is not None:  # the pane holds the margins the browser had on its own
            layout.setContentsMargins(0, 6, 0, 0)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("selectTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(browser, "Browse")
        self.tabs.addTab(prompt, "Prompt")
        self.tabs.addTab(similar, "Similar")
        self.tabs.setTabToolTip(self.BROWSE, "Browse and search the catalogue")
        self.tabs.setTabToolTip(self.PROMPT, "Describe the music, or pick moods and situations")
        self.tabs.setTabToolTip(
            self.SIMILAR, "Songs like the selected reference, or recommendations for the session"
        )
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 12, 6, 12)
        outer.addWidget(self.tabs)

    def show_tab(self, index: int) -> None:
        self.tabs.setCurrentIndex(index)
