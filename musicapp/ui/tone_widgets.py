"""The Audio panel's parts: the stem loader, the weighted reference table and the A/B player.

``audio_panel.AudioPanel`` puts them together around the "tonematch" engine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QWidget,
)

from musicapp.audio.loudness import integrated_lufs, matched_gains
from musicapp.core import (
    Level,
    Reference,
    Role,
    Song,
    TimeRange,
    Use,
)
from musicapp.jobs import FunctionJob
from musicapp.ui import icons
from musicapp.ui.range_widget import RANGE_PEAK_BINS, range_text
from musicapp.ui.seek_player import SeekPlayer
from musicapp.ui.services import TonePort
from musicapp.ui.user_audio_widget import LoadedAudio, UserAudioWidget
from musicapp.ui.waveform_widget import peaks

log = logging.getLogger(__name__)

MAX_STEM_S = 20 * 60.0  # the engine refuses longer audio; refuse it here before decoding
POLL_MS = 100
WHOLE_MIX = "Whole mix"


# The part of the studio the audio panel uses (musicapp/ui/services.py).
ToneService = TonePort


def read_stem(path: str, max_s: float = MAX_STEM_S) -> LoadedAudio:
    """Check the header (empty, not audio, too long, odd rate) before decoding, then reduce the
    file to peaks for the waveform. Runs on the I/O lane; raises AudioError naming the file."""
    from musicapp.audio.io import audio_info, check_duration, read_audio

    check_duration(audio_info(path), max_s, "tone matching")
    audio, sr = read_audio(path)
    t, lo, hi = peaks(audio, sr, RANGE_PEAK_BINS)
    return LoadedAudio(path, audio.shape[1] / sr, sr, audio.shape[0], t, lo, hi)


class StemLoader(UserAudioWidget):
    """The user-audio loader, refusing files too long to tone-match before decoding them, and
    worded for a stem rather than for a generation's optional audio."""

    max_s = MAX_STEM_S

    def load(self, path: str | Path) -> None:
        path = str(path)
        self._pending = path
        max_s = self.max_s
        job = FunctionJob(f"read {Path(path).name}", lambda _p, _c: read_stem(path, max_s), "io")
        handle = self._runner.submit(job)
        handle.finished.connect(self._on_loaded)
        handle.failed.connect(self._on_failed)
        self._show_state()

    def choose_file(self) -> None:
        path, _f = QFileDialog.getOpenFileName(
            self, "Load your stem", "", "Audio files (*.wav *.flac *.ogg *.mp3);;All files (*)"
        )
        if path:
            self.load(path)

    def _show_state(self) -> None:
        super()._show_state()
        self.load_button.setText("Load stem…")
        self.load_button.setToolTip("A WAV, FLAC, Ogg or MP3 of your own part (a DI guitar, say)")
        self.clear_button.setToolTip("Forget the loaded stem")
        if self.path() is None and not self.error() and not self.loading():
            self.info.setText("No stem loaded: load the part you want to sound like the references")

    def _show_range(self) -> None:
        super()._show_range()
        text = self.range_label.text()
        self.range_label.setText(
            text.replace("Regenerate", "Process").replace("regenerate", "process")
        )


@dataclass
class _Row:
    song: Song
    weight: QDoubleSpinBox
    role: QComboBox
    range_button: QToolButton
    time_range: TimeRange | None = None


class ToneReferences(QTableWidget):
    """The reference songs with a weight, the part of them to match (whole mix or a role) and
    an optional range; `changed` on every edit, `range_requested(row)` to pick a range."""

    changed = Signal()
    range_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 5, parent)
        self.setObjectName("toneReferences")
        self.setHorizontalHeaderLabels(("Reference", "Weight", "Match", "Range", ""))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 80), (2, 110), (3, 120), (4, 34)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(col, width)
        # Three rows at least: squeezed by the parts under it on a small screen it used to
        # show one and a half.
        rows = 3 * self.verticalHeader().defaultSectionSize()
        self.setMinimumHeight(header.sizeHint().height() + rows + 2 * self.frameWidth())
        self.rows: list[_Row] = []

    def add_song(self, song: Song, weight: float = 1.0) -> bool:
        """Add `song` (False if it is already there: one weight per song is clearer)."""
        if any(r.song.id == song.id for r in self.rows):
            return False
        r = self.rowCount()
        self.insertRow(r)
        name = QTableWidgetItem(f"{song.title} — {song.artist}")
        name.setToolTip(song.describe())
        spin = QDoubleSpinBox()
        spin.setRange(0.1, 100.0)
        spin.setDecimals(1)
        spin.setSingleStep(0.5)
        spin.setValue(weight)
        spin.setToolTip("How much this reference counts (its share is its weight over the total)")
        role = QComboBox()
        role.addItem(WHOLE_MIX, None)
        for stem in song.stems:
            role.addItem(f"{stem.name.capitalize()} stem ({stem.instrument})", f"part:{stem.name}")
        for value in (Role.MELODY, Role.HARMONY, Role.RHYTHM):
            stems = [s.name for s in song.stems if value.value in (s.role, s.family, s.name)]
            if len(stems) > 1:
                role.addItem(f"All {value.value} stems: {', '.join(stems)}", f"role:{value.value}")
        if role.count() > 1:
            role.setToolTip("Match the whole mix, or only the reference's stems playing a part")
        else:
            role.setToolTip(
                "This song has no stems of its own: its whole mix is matched. To match one "
                "part, separate it first (Stems…: Demucs, or the labelled DSP fallback)"
            )
        rng = QToolButton()
        rng.setText("Whole song")
        rng.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        rng.setToolTip("Measure the tone on a part of the reference only")
        menu = QMenu(rng)
        rng.setMenu(menu)
        remove = QToolButton()
        remove.setIcon(icons.icon("remove"))
        remove.setToolTip(f"Remove {song.title}")
        row = _Row(song, spin, role, rng)
        menu.addAction("Use the whole song", lambda: self._set_row_range(row, None))
        rng.clicked.connect(lambda: self.range_requested.emit(self.rows.index(row)))
        remove.clicked.connect(lambda: self.remove_row(self.rows.index(row)))
        spin.valueChanged.connect(self.changed)
        role.currentIndexChanged.connect(self.changed)
        self.setItem(r, 0, name)
        for col, w in ((1, spin), (2, role), (3, rng), (4, remove)):
            self.setCellWidget(r, col, w)
        self.rows.append(row)
        self.changed.emit()
        return True

    def remove_row(self, r: int) -> None:
        if 0 <= r < len(self.rows):
            self.rows.pop(r)
            self.removeRow(r)
            self.changed.emit()

    def set_weight(self, r: int, weight: float) -> None:
        self.rows[r].weight.setValue(weight)

    def set_role(self, r: int, role: Role | None) -> None:
        """Match the stems playing `role` (None: the whole mix); a role one stem plays is
        that stem."""
        self.set_target(r, None if role is None else f"role:{role.value}")

    def set_part(self, r: int, part: str) -> None:
        """Match one stem by name."""
        self.set_target(r, f"part:{part}")

    def set_target(self, r: int, target: str | None) -> None:
        """ "part:NAME", "role:ROLE" or None (the whole mix)."""
        box = self.rows[r].role
        index = box.findData(target) if target is not None else 0
        if index < 0 and target is not None and target.startswith("role:"):
            # a role one stem plays is that stem
            role = target.split(":", 1)[1]
            only = [s.name for s in self.rows[r].song.stems if role in (s.role, s.family, s.name)]
            index = box.findData(f"part:{only[0]}") if len(only) == 1 else -1
        box.setCurrentIndex(max(0, index))

    def set_time_range(self, r: int, time_range: TimeRange | None) -> None:
        self._set_row_range(self.rows[r], time_range)

    def _set_row_range(self, row: _Row, time_range: TimeRange | None) -> None:
        row.time_range = time_range
        row.range_button.setText(range_text(time_range) if time_range else "Whole song")
        self.changed.emit()

    def set_editable(self, editable: bool) -> None:
        for r in range(self.rowCount()):
            for col in range(1, 5):
                w = self.cellWidget(r, col)
                if w is not None:
                    w.setEnabled(editable)

    def references(self) -> tuple[Reference, ...]:
        out = []
        for r in self.rows:
            kind, _, value = str(r.role.currentData() or "").partition(":")
            out.append(
                Reference(
                    r.song.id,
                    level=Level.AUDIO,
                    role=Role(value) if kind == "role" else None,
                    time_range=r.time_range,
                    weight=float(r.weight.value()),
                    part=str(value) if kind == "part" else "",
                )
            )
        return tuple(out)

    def songs(self) -> dict[str, Song]:
        return {r.song.id: r.song for r in self.rows}


def ab_gains(
    original: npt.NDArray[Any] | None, processed: npt.NDArray[Any], sample_rate: int
) -> dict[str, float]:
    """{"A": gain, "B": gain} that play both at the quieter one's loudness (BS.1770; nothing
    raised): the tone match moves the stem to its references' level, and a louder B would
    always seem the better one. Measured off the GUI thread, in the tone match's job."""
    levels = {"B": integrated_lufs(processed, sample_rate)}
    if original is not None:
        levels["A"] = integrated_lufs(original, sample_rate)
    return matched_gains(levels)


class ABPlayer(QWidget):
    """Play/Stop and an A (original) / B (processed) switch that swaps the audio in place, both
    played at the same loudness when ``set_audio`` is given their gains."""

    message = Signal(str)

    def __init__(self, player: SeekPlayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.audio: dict[str, npt.NDArray[Any]] = {}
        self.sample_rate = 44100  # until audio is set
        self.play_button = QPushButton(icons.icon("play"), "Play")
        self.play_button.setObjectName("abPlay")
        self.play_button.setCheckable(True)
        self.a_button = QPushButton("A · original")
        self.b_button = QPushButton("B · processed")
        self.group = QButtonGroup(self)
        for b in (self.a_button, self.b_button):
            b.setCheckable(True)
            self.group.addButton(b)
        self.a_button.setToolTip("Hear your stem as it was")
        self.b_button.setToolTip("Hear the tone-matched stem")
        self.b_button.setChecked(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.play_button)
        row.addSpacing(8)
        row.addWidget(self.a_button)
        row.addWidget(self.b_button)
        row.addStretch(1)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_ended)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.group.buttonToggled.connect(self._on_side_toggled)
        self.set_audio({}, 44100)

    def side(self) -> str:
        return "A" if self.a_button.isChecked() else "B"

    def set_audio(
        self,
        audio: dict[str, npt.NDArray[Any]],
        sample_rate: int,
        gains: dict[str, float] | None = None,
    ) -> None:
        """A: the original, B: the processed audio (same rate, same length), each played at
        its gain in ``gains`` (ab_gains: the same loudness)."""
        self.stop()
        gains = gains or {}
        self.gains = {side: float(gains.get(side, 1.0)) for side in audio}
        audio = {side: a if self.gains[side] == 1.0 else a * np.float32(self.gains[side])
                 for side, a in audio.items()}  # fmt: skip
        self.audio, self.sample_rate = audio, sample_rate
        matched = [s for s, g in self.gains.items() if g < 1.0]
        self.b_button.setToolTip(
            "Hear the tone-matched stem"
            + (
                f", {20 * np.log10(self.gains['B']):.1f} dB down to your stem's loudness"
                if "B" in matched
                else ""
            )  # fmt: skip
        )
        self.a_button.setToolTip(
            "Hear your stem as it was"
            + (
                f", {20 * np.log10(self.gains['A']):.1f} dB down to the result's loudness"
                if "A" in matched
                else ""
            )  # fmt: skip
        )
        ready = bool(audio) and self.player.available
        for b in (self.play_button, self.a_button, self.b_button):
            b.setEnabled(ready)
        if audio and not self.player.available:
            self.play_button.setToolTip(f"Cannot play: {self.player.unavailable_reason}")

    def _start(self, from_s: float) -> bool:
        try:
            self.player.play(self.audio[self.side()], self.sample_rate, from_s)
        except Exception as exc:  # a device that vanished must not take the panel down
            self.message.emit(f"Cannot play: {exc}")
            return False
        self._poll.start()
        return True

    def _on_play_toggled(self, on: bool) -> None:
        if on and self.audio and self._start(0.0):
            self.play_button.setText("Stop")
            self.play_button.setIcon(icons.icon("stop"))
            return
        if on:
            self.play_button.setChecked(False)
            return
        self._poll.stop()
        self.player.stop()
        self.play_button.setText("Play")
        self.play_button.setIcon(icons.icon("play"))

    def _on_side_toggled(self, _button: Any, checked: bool) -> None:
        if checked and self.play_button.isChecked():  # switch in place, same position
            self._start(self.player.position_s or 0.0)

    def _check_ended(self) -> None:
        if self.player.position_s is None:
            self.play_button.setChecked(False)

    def stop(self) -> None:
        if self.play_button.isChecked():
            self.play_button.setChecked(False)


def section(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    return label


class ToneSettings(QWidget):
    """Intended use, dry/wet, and whether drive and dynamics may be added; ``changed`` on any."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.use_box = QComboBox()
        for use in Use:
            self.use_box.addItem(use.label.capitalize(), use)
        self.use_box.setToolTip("What you will do with the result: consent depends on it")
        self.wet = QSlider(Qt.Orientation.Horizontal)
        self.wet.setRange(0, 100)
        self.wet.setValue(80)
        self.wet.setToolTip("Dry/wet: how much of the processed sound replaces your stem")
        self.wet_label = QLabel()
        self.wet_label.setMinimumWidth(60)
        self.drive = QCheckBox("Drive")
        self.drive.setChecked(True)
        self.drive.setToolTip("Allow saturation when the references are more driven")
        self.dynamics = QCheckBox("Dynamics")
        self.dynamics.setChecked(True)
        self.dynamics.setToolTip("Allow a compressor when the references are more compressed")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in (
            (QLabel("Intended use"), 0),
            (self.use_box, 0),
            (QLabel("Dry"), 0),
            (self.wet, 1),
            (QLabel("Wet"), 0),
            (self.wet_label, 0),
            (self.drive, 0),
            (self.dynamics, 0),
        ):
            row.addWidget(widget, stretch)
        self.use_box.currentIndexChanged.connect(self.changed)
        self.wet.valueChanged.connect(self.changed)
        self.drive.toggled.connect(self.changed)
        self.dynamics.toggled.connect(self.changed)
        self.wet.valueChanged.connect(self._show_wet)
        self._show_wet()

    def _show_wet(self) -> None:
        self.wet_label.setText(f"{self.wet.value()} %")
