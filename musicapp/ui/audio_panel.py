"""The Audio panel: tone-match the user's own stem to weighted, consented reference songs.

It is a front end over one generation engine ("tonematch"): the request goes through the same
`studio.check` (live, no ledger write) and `studio.generate_job` (verified and logged) as any
take, so the references' consent is honoured and their shares (their normalised weights) are
recorded. Around that it adds what a player wants: load a stem, hear A/B, export.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from musicapp.audio.playback import Player
from musicapp.core import GenerationRequest, InvalidInput, Use, Verification
from musicapp.jobs import CancelToken, FunctionJob, Progress, ProgressCallback
from musicapp.studio_types import LedgerDamaged
from musicapp.ui import icons, theme
from musicapp.ui.error_dialog import show_error
from musicapp.ui.job_control import JobControl
from musicapp.ui.job_runner import JobHandle, JobRunner
from musicapp.ui.labels import scrolled
from musicapp.ui.ledger_damage_widget import show_ledger_refusal
from musicapp.ui.range_dialog import RangeDialog
from musicapp.ui.seek_player import SeekPlayer
from musicapp.ui.stems_view import StemsView
from musicapp.ui.tone_widgets import (
    ABPlayer,
    StemLoader,
    ToneReferences,
    ToneService,
    ToneSettings,
    ab_gains,
    section,
)
from musicapp.ui.verification_widget import refusal_text
from musicapp.ui.waveform_widget import LegendWidget

if TYPE_CHECKING:
    from musicapp.takes import Take

log = logging.getLogger(__name__)

ENGINE = "tonematch"
MIN_TAKE_S, MAX_TAKE_S = 2.0, 600.0
EXPORT_FILTERS = {"WAV audio (*.wav)": ".wav", "FLAC audio (*.flac)": ".flac"}


class AudioPanel(QDialog):
    """Load a stem, pick weighted references, check consent live, apply, A/B, export.

    `selection()` gives the browser's selected song id (or None) and `tray()` the ids in the
    window's references, so both can be added here; `player` is the playback backend (tests
    pass a fake).
    """

    status = Signal(str)

    def __init__(
        self,
        service: ToneService,
        runner: JobRunner,
        exports_dir: Path,
        selection: Callable[[], str | None] | None = None,
        tray: Callable[[], list[str]] | None = None,
        player: Player | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("audioPanel")
        self.setWindowTitle("Audio: tone match")
        self.setMinimumSize(560, 400)  # fits a 1024 x 640 screen; the rest scrolls
        self.resize(640, 720)
        self._service, self._runner, self._exports_dir = service, runner, exports_dir
        self._selection, self._tray = selection, tray
        self.player = SeekPlayer(player)
        self.take: Take | None = None
        self.verification: Verification | None = None
        self.stems_view: StemsView | None = None
        self.range_dialog: RangeDialog | None = None
        self._range_row = -1

        self.stem = StemLoader(runner)
        self.separate_button = QPushButton("Separate…")
        self.separate_button.setToolTip("Split the loaded file into stems and pick one")
        self.separate_button.clicked.connect(self.open_stems)

        self.references = ToneReferences()
        self.add_selected_button = QPushButton(icons.icon("add"), "Add selected song")
        self.add_selected_button.setToolTip("Add the song selected in the catalogue")
        self.add_selected_button.clicked.connect(self.add_selected)
        self.add_tray_button = QPushButton(icons.icon("add"), "Add the window's references")
        self.add_tray_button.setToolTip("Add every song in the main window's references")
        self.add_tray_button.clicked.connect(self.add_tray)
        ref_buttons = QHBoxLayout()
        ref_buttons.addWidget(self.add_selected_button)
        ref_buttons.addWidget(self.add_tray_button)
        ref_buttons.addStretch(1)

        self.settings = ToneSettings()
        self.use_box, self.wet = self.settings.use_box, self.settings.wet
        self.drive, self.dynamics = self.settings.drive, self.settings.dynamics

        self.check_label = QLabel()
        self.check_label.setObjectName("toneCheck")
        self.check_label.setWordWrap(True)
        self.check_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("generateButton")
        self.apply_button.setToolTip("Tone-match the stem (consent-checked and logged)")
        self.apply_button.clicked.connect(self.apply)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        run_row = QHBoxLayout()
        run_row.addWidget(self.apply_button, 1)
        run_row.addWidget(self.progress, 1)
        run_row.addWidget(self.cancel_button)
        self._tone_job = JobControl(
            runner,
            self,
            on_result=self._on_take,
            on_failure=self._on_tone_failed,
            on_cancel=self._on_tone_cancelled,
            on_progress=self._on_tone_progress,
            on_end=self._on_tone_done,
            bar=self.progress,
            cancel_button=self.cancel_button,
        )

        self.result_info = QLabel("Apply to hear the result and see each reference's share.")
        self.result_info.setObjectName("hint")
        self.result_info.setWordWrap(True)
        self.shares = LegendWidget()
        self.ab = ABPlayer(self.player)
        self.ab.message.connect(self.status)
        self.export_button = QPushButton(icons.icon("export"), "Export…")
        self.export_button.setToolTip("Save the result as WAV or FLAC with its attribution")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export_take)
        self._export_job = JobControl(
            runner, self, self._on_exported, self._on_export_failed, on_end=self._on_export_done
        )
        self.export_label = QLabel()
        self.export_label.setObjectName("hint")
        self.export_label.setWordWrap(True)
        self.export_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.ab, 1)
        out_row.addWidget(self.export_button)

        stem_row = QHBoxLayout()
        stem_row.addWidget(self.stem, 1)
        stem_row.addWidget(self.separate_button, 0, Qt.AlignmentFlag.AlignTop)

        body = QWidget()
        QVBoxLayout(self).addWidget(scrolled(body))
        layout = QVBoxLayout(body)
        title = QLabel("Tone match")
        title.setObjectName("panelTitle")
        layout.addWidget(title)
        layout.addWidget(section("Your stem"))
        layout.addLayout(stem_row)
        layout.addWidget(section("References (their tone, weighted)"))
        layout.addWidget(self.references, 1)
        layout.addLayout(ref_buttons)
        layout.addWidget(section("Settings"))
        layout.addWidget(self.settings)
        layout.addWidget(section("Consent check"))
        layout.addWidget(self.check_label)
        layout.addLayout(run_row)
        layout.addWidget(section("Result"))
        layout.addWidget(self.result_info)
        layout.addWidget(self.shares)
        layout.addLayout(out_row)
        layout.addWidget(self.export_label)

        # Bursts of edits (a spin box held down) cost one consent check.
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(0)
        self._check_timer.timeout.connect(self.refresh_check)
        for signal in (self.stem.changed, self.references.changed, self.settings.changed):
            signal.connect(self._check_timer.start)
        self.references.range_requested.connect(self.choose_range)
        self.refresh_check()

    # -- inputs -------------------------------------------------------------------------------

    def add_song(self, song_id: str) -> bool:
        song = self._service.song(song_id)
        if song is None:
            self.status.emit(f"Song {song_id} is no longer in the catalogue")
            return False
        if self.handle is not None:
            self.status.emit("Wait for the tone match (or cancel it) before changing references")
            return False
        added = self.references.add_song(song)
        self.status.emit(
            f"Added “{song.title}”" if added else f"“{song.title}” is already a reference"
        )
        return added

    def add_selected(self) -> None:
        song_id = self._selection() if self._selection else None
        if not song_id:
            self.status.emit("Select a song in the catalogue first")
            self.check_label.setText("Select a song in the catalogue, then Add selected song")
            return
        self.add_song(song_id)

    def add_tray(self) -> None:
        ids = self._tray() if self._tray else []
        if not ids:
            self.status.emit("The main window has no references to add")
        for song_id in ids:
            self.add_song(song_id)

    def request(self) -> GenerationRequest:
        """The request the panel shows now (InvalidInput when it is incomplete)."""
        path = self.stem.path()
        if path is None:
            raise InvalidInput("Load your stem first (Load stem…)")
        refs = self.references.references()
        if not refs:
            raise InvalidInput("Add at least one reference song whose tone to match")
        return GenerationRequest(
            references=refs,
            use=Use(self.use_box.currentData()),
            duration_s=min(MAX_TAKE_S, max(MIN_TAKE_S, self.stem.duration_s())),
            engine=ENGINE,
            user_audio=path,
            user_range=self.stem.user_range(),
            options={
                "wet": f"{self.wet.value() / 100:g}",
                "drive": "on" if self.drive.isChecked() else "off",
                "dynamics": "on" if self.dynamics.isChecked() else "off",
            },
        )

    def refresh_check(self) -> None:
        """The consent policy's verdict on the current request (no ledger write); Apply is
        enabled only when every reference is cleared for the chosen use."""
        self._check_timer.stop()
        if self.handle is not None:
            return
        self.verification = None
        self.separate_button.setEnabled(self.stem.path() is not None)
        if self.stem.loading():
            self._verdict(False, "Reading your stem…")
            return
        if self.stem.error():
            self._verdict(False, f"Your stem cannot be used: {self.stem.error()}")
            return
        try:
            request = self.request()
            self._service.validate(request)
            verification = self._service.check(request)
        except InvalidInput as exc:
            self._verdict(False, str(exc))
            return
        except Exception as exc:  # keep the panel alive; say what went wrong
            log.exception("tone match consent check failed")
            self._verdict(False, f"The consent check did not run: {exc}")
            return
        self.verification = verification
        songs = self.references.songs()
        found = [d.reference.song_id for d in verification.decisions if not d.reference.picked]
        for song_id in found:
            song = self._service.song(song_id)
            if song is not None:
                songs[song_id] = song
        # Catalogue audio loaded as your stem is a reference of its song: say so either way.
        note = "".join(
            f"\nYour stem is catalogue audio of “{songs[sid].title if sid in songs else sid}”: "
            "it is verified and credited as a reference of that song."
            for sid in found
        )
        if verification.allowed:
            n = len(verification.decisions)
            self._verdict(
                True,
                f"✓ Cleared: every rights holder of the {n} reference"
                f"{'s' if n != 1 else ''} allows audio-level use for {request.use.label}{note}",
            )
        else:
            self._verdict(False, refusal_text(verification, songs) + note)

    def _verdict(self, allowed: bool, text: str) -> None:
        self.check_label.setText(text)
        refused = not allowed and text.startswith("Refused")
        tone = "ok" if allowed else ("bad" if refused else "")
        self.check_label.setStyleSheet(f"color:{theme.colour(tone)}" if tone else "")
        self.apply_button.setEnabled(allowed and self.handle is None)
        self.apply_button.setToolTip(
            "Tone-match the stem (consent-checked and logged)" if allowed else text
        )

    # -- ranges -------------------------------------------------------------------------------

    def choose_range(self, row: int) -> None:
        """Open the range picker for reference `row` (window-modal)."""
        if self.handle is not None or not (0 <= row < len(self.references.rows)):
            return
        entry = self.references.rows[row]
        dialog = RangeDialog(entry.song, entry.time_range, self)
        service, song_id = self._service, entry.song.id
        rate = entry.song.sample_rate
        dialog.load_audio(self._runner, lambda: service.song_audio(song_id), rate)
        dialog.accepted.connect(self._on_range_chosen)
        self.range_dialog, self._range_row = dialog, row
        dialog.open()

    def _on_range_chosen(self) -> None:
        dialog, row = self.range_dialog, self._range_row
        if dialog is None or not (0 <= row < len(self.references.rows)):
            return
        if self.references.rows[row].song.id == dialog.song.id:
            self.references.set_time_range(row, dialog.time_range())

    # -- applying -----------------------------------------------------------------------------

    def apply(self) -> None:
        """Run the tone match as a generation (verified, logged) on the compute lane."""
        if self.handle is not None:
            return
        try:
            request = self.request()
            job = self._service.generate_job(request)
        except InvalidInput as exc:
            show_error(self, "Cannot tone-match", str(exc))
            return
        service = self._service

        def run(progress: ProgressCallback, cancel: CancelToken) -> tuple[Any, Any, Any, Any]:
            take = job.run(progress, cancel)
            cancel.check()
            b, a = service.take_audio(take), service.load_user_audio(request)
            return take, b, a, ab_gains(a, b, take.sample_rate)  # A/B at one loudness

        self.ab.set_audio({}, self.ab.sample_rate)
        self._set_running(True)
        self._tone_job.start(FunctionJob("Tone match", run, lane="compute"))

    @property
    def handle(self) -> JobHandle | None:
        return self._tone_job.handle

    def cancel(self) -> None:
        if self._tone_job.cancel():
            self.status.emit("Cancelling the tone match…")

    def _set_running(self, running: bool) -> None:
        self.apply_button.setVisible(not running)
        self.progress.setVisible(running)
        self.progress.setValue(0)
        self.cancel_button.setVisible(running)
        self.cancel_button.setEnabled(running)
        self.references.set_editable(not running)
        self.stem.set_editable(not running)
        for w in (self.add_selected_button, self.add_tray_button, self.use_box, self.wet):
            w.setEnabled(not running)

    def _on_tone_progress(self, p: Progress) -> None:
        self.progress.setFormat(f"{p.message or p.stage} %p%")
        self.progress.setTextVisible(True)

    def _on_take(self, result: tuple[Any, Any, Any, Any]) -> None:
        take, processed, original, gains = result
        self.take = take
        prov = take.provenance
        songs = self.references.songs()
        for ref in take.request.references:  # songs found in the stem are credited too
            if ref.song_id not in songs and (song := self._service.song(ref.song_id)):
                songs[ref.song_id] = song
        self.shares.show_shares(prov, songs)
        self.result_info.setText(
            f"{take.duration_s:.1f} s · for {take.request.use.label} · ledger event {take.id}"
            f"<br><span style='color:{theme.colour('muted')}'>{html.escape(prov.method or '')}</span>"
            + "".join(f"<br>• {html.escape(n)}" for n in prov.notes)
        )
        sides = {"B": np.asarray(processed, dtype=np.float32)}
        if original is not None:
            sides["A"] = np.asarray(original, dtype=np.float32)
        self.ab.set_audio(sides, int(take.sample_rate), gains)
        self.ab.a_button.setEnabled(original is not None and self.player.available)
        self.export_button.setEnabled(True)
        self.export_label.setText("")
        self.status.emit(f"Tone match ready: ledger event {take.id}")

    def share_lines(self) -> list[str]:
        """The shares as shown, e.g. ["Song 1 — Baroque A 75.0 %", …] (for tests and a11y)."""
        return [e for e in self.shares.entries if e.endswith("%")]

    def _on_tone_failed(self, exc: BaseException) -> None:
        from musicapp.studio import Refused

        if isinstance(exc, LedgerDamaged):
            show_ledger_refusal(self, "Cannot tone-match", exc.damage)
        elif isinstance(exc, Refused):
            self._verdict(False, refusal_text(exc.verification, self.references.songs()))
            show_error(self, "Tone match refused", exc.verification.summary())
        elif isinstance(exc, InvalidInput):
            show_error(self, "Cannot tone-match", str(exc))
        else:
            show_error(self, "Tone match failed", "The stem could not be processed.", exc)
        self.status.emit(f"Tone match failed: {exc}")

    def _on_tone_cancelled(self) -> None:
        self.status.emit("Tone match cancelled")
        self.result_info.setText("Tone match cancelled.")

    def _on_tone_done(self) -> None:
        self._set_running(False)
        self.refresh_check()

    # -- export -------------------------------------------------------------------------------

    def export_take(self) -> None:
        if self.take is None:
            return
        default = self._exports_dir / f"tonematch-{str(self.take.id)[:8]}.wav"
        path_text, chosen = QFileDialog.getSaveFileName(
            self, "Export the tone-matched stem", str(default), ";;".join(EXPORT_FILTERS)
        )
        if path_text:
            path = Path(path_text)
            if path.suffix.lower() not in EXPORT_FILTERS.values():
                path = path.with_suffix(EXPORT_FILTERS.get(chosen, ".wav"))
            self.export_to(path)

    def export_to(self, path: Path) -> JobHandle | None:
        """Export the result with its attribution on the I/O lane."""
        if self.take is None:
            return None
        take, service = self.take, self._service
        job = FunctionJob(f"export {path.name}", lambda _p, _c: service.export(take, path), "io")
        self.export_button.setEnabled(False)
        self.export_label.setText(f"Exporting to {path}…")
        return self._export_job.start(job)

    def _on_export_done(self) -> None:
        self.export_button.setEnabled(self.take is not None)

    def _on_exported(self, result: Any) -> None:
        text = f"Exported to {result.path} · ledger event {result.event_id}"
        self.export_label.setText(text)
        self.status.emit(text)

    def _on_export_failed(self, exc: BaseException) -> None:
        self.export_label.setText(f"Export failed: {exc}")
        if isinstance(exc, LedgerDamaged):
            show_ledger_refusal(self, "Cannot export", exc.damage)
        else:
            show_error(self, "Export failed", "The result could not be exported.", exc)

    # -- stems --------------------------------------------------------------------------------

    def open_stems(self) -> StemsView | None:
        """Separate the loaded file; "Use as my stem" on a row loads that stem here."""
        path = self.stem.path()
        if path is None:
            return None
        view = StemsView(self._service, self._runner, path, Path(path).name, self.player, self)
        view.use_stem.connect(self._use_stem)
        view.status.connect(self.status)
        self.stems_view = view
        view.show()
        view.start()
        return view

    def _use_stem(self, path: Path) -> None:
        self.stem.load(path)
        self.status.emit(f"Loading the stem {path.name}")

    def done(self, r: int) -> None:
        """Closing stops the sound; a running tone match carries on and is logged."""
        self.ab.stop()
        super().done(r)
