"""Fifteen-second previews of catalogue songs, so a user can hear a song before referencing it.

The audio is read off the GUI thread (a job on the io lane: decoding stems takes a moment) and
played through the same guarded `audio.playback.Player` the take panel uses, so a machine
without an output device gets a message instead of a crash.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy.typing as npt
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from musicapp.audio.playback import Player
from musicapp.jobs import CancelToken, FunctionJob, ProgressCallback
from musicapp.ui import icons
from musicapp.ui.job_runner import JobHandle, JobRunner
from musicapp.ui.services import PreviewPort

if TYPE_CHECKING:
    from musicapp.core import Song

log = logging.getLogger(__name__)

POLL_MS = 250  # how often the end of a preview is looked for


def song_name(song: Song | None, song_id: str) -> str:
    """ "Title — Artist", or the id when the catalogue no longer knows the song."""
    if song is None:
        return song_id
    return f"{song.title} — {song.artist}" if song.artist else song.title


class PreviewPlayer(QObject):
    """Loads one song's preview at a time and plays it; a new preview replaces the old one.

    Signals: `started(name)` when sound starts, `stopped()` when it stops (asked or ended),
    `message(text)` for everything the user should read (loading, playing, failures).
    """

    loading = Signal(str)  # song id
    started = Signal(str)  # "Title — Artist"
    stopped = Signal()
    message = Signal(str)

    def __init__(
        self,
        service: PreviewPort,
        runner: JobRunner,
        player: Player | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._runner = runner
        self._player = player if player is not None else Player()
        self._ticket = 0  # bumped by every preview and stop: older loads are ignored
        self._pending: JobHandle | None = None
        self.playing_id: str | None = None
        self.playing_name = ""
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_ended)

    @property
    def busy(self) -> bool:
        """Loading or playing: something Stop would stop."""
        return self._pending is not None or self.playing_id is not None

    @property
    def available(self) -> bool:
        return self._player.available

    def unavailable_text(self) -> str:
        return f"Previews cannot play: {self._player.unavailable_reason}."

    def preview(self, song_id: str) -> None:
        """Stop what plays, then load and play `song_id`'s preview."""
        self.stop()
        if not self._player.available:
            self.message.emit(self.unavailable_text())
            return
        self._ticket += 1
        ticket, service = self._ticket, self._service

        def load(
            _progress: ProgressCallback, cancel: CancelToken
        ) -> tuple[int, str, str, npt.NDArray[Any], int]:
            song = service.song(song_id)
            cancel.check()
            audio, rate = service.preview(song_id)
            return ticket, song_id, song_name(song, song_id), audio, int(rate)

        handle = self._runner.submit(FunctionJob("Preview", load, lane="io"))
        self._pending = handle
        handle.finished.connect(self._on_loaded)
        handle.failed.connect(self._on_failed)
        self.loading.emit(song_id)
        self.message.emit("Loading the preview…")

    def stop(self) -> None:
        """Stop playing (and forget a preview still loading)."""
        self._ticket += 1
        was_busy = self.busy
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self._poll.stop()
        self._player.stop()
        self.playing_id, self.playing_name = None, ""
        if was_busy:
            self.stopped.emit()

    def _on_loaded(self, result: tuple[int, str, str, npt.NDArray[Any], int]) -> None:
        ticket, song_id, name, audio, rate = result
        if ticket != self._ticket:  # a newer preview or a stop came first
            return
        self._pending = None
        try:
            self._player.play(audio, rate)
        except Exception as exc:  # no device after all, a busy device, a bad buffer
            log.warning("preview of %s could not play: %s", song_id, exc)
            self.message.emit(f"Cannot play the preview of {name}: {exc}")
            return
        self.playing_id, self.playing_name = song_id, name
        self._poll.start()
        self.started.emit(name)
        self.message.emit(f"Previewing: {name}")

    def _on_failed(self, exc: BaseException) -> None:
        self._pending = None
        self.message.emit(f"The preview could not be loaded: {exc}")

    def _check_ended(self) -> None:
        if self.playing_id is not None and self._player.position_s is None:
            self.message.emit(f"Preview ended: {self.playing_name}")
            self.stop()


class PreviewBar(QWidget):
    """One line under the catalogue: what is previewing (or why nothing can) and Stop."""

    def __init__(self, preview: PreviewPlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("previewBar")
        self._preview = preview
        self.label = QLabel()
        self.label.setObjectName("previewLabel")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stop_button = QToolButton()
        self.stop_button.setObjectName("previewStop")
        self.stop_button.setIcon(icons.icon("stop"))
        self.stop_button.setText("Stop")
        self.stop_button.setToolTip("Stop the preview")
        self.stop_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.stop_button.setEnabled(False)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.stop_button)
        self.setVisible(False)

        self.stop_button.clicked.connect(preview.stop)
        preview.started.connect(self._on_started)
        preview.stopped.connect(self._on_stopped)
        preview.message.connect(self._on_message)

    def _on_started(self, _name: str) -> None:
        self.stop_button.setEnabled(True)

    def _on_stopped(self) -> None:
        self.stop_button.setEnabled(False)
        self.setVisible(False)

    def _on_message(self, text: str) -> None:
        self.label.setText(text)
        self.setVisible(True)
        self.stop_button.setEnabled(self._preview.busy)
