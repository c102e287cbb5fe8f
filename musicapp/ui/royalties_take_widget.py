"""The Royalties view's "This take" tab: what the current take pays whom per 100 EUR under the
chosen mechanism, or, before there is a take, what a take of the request being built would pay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLabel, QRadioButton, QVBoxLayout, QWidget

from musicapp.royalties.period import Policy
from musicapp.ui import theme
from musicapp.ui.royalties_policy_widget import (
    MechanismPicker,
    cell,
    euro_text,
    read_only_table,
)

if TYPE_CHECKING:
    from musicapp.core import GenerationRequest, Song
    from musicapp.rooms.royalties import HolderPay
    from musicapp.takes import Take
    from musicapp.ui.services import RoyaltiesPort

log = logging.getLogger(__name__)

COLUMNS = ("Rights holder", "Songs", "EUR per 100 EUR")
NOTE = (
    "Prices are each holder's own, kept by the rights server; this shows how every 100 EUR a "
    "take earns is shared out (pricing: flat)."
)
SHOWS_TAKE, SHOWS_REQUEST, SHOWS_NOTHING = "take", "request", ""


class TakePreviewWidget(QWidget):
    """The take tab. `refresh` asks the room again; the view calls it when the take, the
    request or the mechanism changes."""

    def __init__(
        self,
        room: Callable[[], RoyaltiesPort],
        take: Callable[[], Take | None],
        request: Callable[[], GenerationRequest | None],
        song: Callable[[str], Song | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._room, self._take, self._request, self._song = room, take, request, song
        self.shows = SHOWS_NOTHING  # what the table holds: the take, the request or nothing
        self.pays: list[HolderPay] = []
        self._seen_take: Take | None = None
        self.picker = MechanismPicker()
        # After a take, the user may look ahead at the request they are building again.
        self.take_choice = QRadioButton("The take")
        self.request_choice = QRadioButton("The request being built (before generating)")
        self.take_choice.setChecked(True)
        choices = QButtonGroup(self)
        choices.addButton(self.take_choice)
        choices.addButton(self.request_choice)
        choice_row = QHBoxLayout()
        choice_row.addWidget(QLabel("Show"))
        choice_row.addWidget(self.take_choice)
        choice_row.addWidget(self.request_choice)
        choice_row.addStretch(1)
        self.source_label = QLabel()
        self.source_label.setObjectName("sectionTitle")
        self.source_label.setWordWrap(True)
        self.error_label = QLabel()
        self.error_label.setObjectName("royaltiesError")
        self.error_label.setStyleSheet(f"color:{theme.colour('bad')}")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.table = read_only_table(COLUMNS, "royaltiesTakeTable", stretch=1, amounts=(2,))
        note = QLabel(NOTE)
        note.setObjectName("hint")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addLayout(choice_row)
        layout.addWidget(self.source_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        self.picker.changed.connect(self.refresh)
        self.take_choice.toggled.connect(lambda _on: self.refresh())

    def policy(self) -> Policy:
        return Policy(mechanism=self.picker.mechanism(), k=self.picker.k(), pricing="flat")

    def refresh(self) -> None:
        """Preview the take if there is one (unless the user chose the request), else the
        request being built, else nothing. A new take is shown as it arrives."""
        self.error_label.hide()
        take = self._take()
        if take is not None and take is not self._seen_take:
            self._seen_take = take
            with QSignalBlocker(self.take_choice):  # refreshed below, not twice
                self.take_choice.setChecked(True)
        self.take_choice.setEnabled(take is not None)
        if take is not None and not self.take_choice.isChecked():
            take = None
        request = None if take is not None else self._request()
        try:
            policy = self.policy()
            if take is not None:
                pays = self._room().preview_take(take, policy)
            elif request is not None and request.references:
                pays = self._room().preview_request(request, policy)
            else:
                pays = []
        except Exception as exc:  # a preview is a courtesy: say why it is missing
            log.exception("royalties preview failed")
            self._show([], SHOWS_NOTHING, "No preview")
            self.error_label.setText(f"The preview could not be computed: {exc}")
            self.error_label.show()
            return
        how = self.picker.describe()
        if take is not None:
            title = f"This take (ledger event {str(take.id)[:8]}…) pays, under {how}:"
            self._show(pays, SHOWS_TAKE, title)
        elif request is not None and request.references:
            title = (
                f"Before generating: a take of the request being built would pay, under {how} "
                "(the references' weights stand in for the shares the engine will measure):"
            )
            self._show(pays, SHOWS_REQUEST, title)
        else:
            self._show([], SHOWS_NOTHING, "No take yet: add reference songs to see who they pay.")

    def _show(self, pays: list[HolderPay], shows: str, title: str) -> None:
        self.pays, self.shows = pays, shows
        self.source_label.setText(title)
        self.table.setRowCount(len(pays))
        for row, pay in enumerate(pays):
            titles = [self._title(sid) for sid in pay.songs]
            self.table.setItem(row, 0, cell(pay.name, tip=pay.holder_id))
            self.table.setItem(row, 1, cell(", ".join(titles), tip="\n".join(titles)))
            self.table.setItem(row, 2, cell(euro_text(pay.cents), align_right=True))

    def _title(self, song_id: str) -> str:
        try:
            song = self._song(song_id)
        except Exception:  # a title is a courtesy: the id still says which song
            song = None
        return song.title if song is not None else song_id
