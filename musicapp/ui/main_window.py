"""The main window: composes the catalogue, references, consent check and take panels."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from musicapp.core import GenerationRequest, InvalidInput, Level, Song
from musicapp.jobs import Progress
from musicapp.studio import Refused
from musicapp.studio_types import LedgerDamaged
from musicapp.ui.audit_wiring import AuditWiring
from musicapp.ui.browser_widget import BrowserWidget
from musicapp.ui.error_dialog import show_error
from musicapp.ui.generate_widget import GenerateBar, SettingsWidget, engine_choices
from musicapp.ui.history_wiring import HistoryWiring
from musicapp.ui.import_dialog import ImportDialog
from musicapp.ui.job_control import JobControl
from musicapp.ui.job_runner import JobHandle, JobRunner
from musicapp.ui.ledger_damage_widget import LedgerDamageWidget, show_ledger_refusal
from musicapp.ui.menus import build_menus
from musicapp.ui.onboarding import Onboarding
from musicapp.ui.references_widget import ReferencesWidget
from musicapp.ui.refusals import level_fixes, readable
from musicapp.ui.result_widget import ResultWidget
from musicapp.ui.royalties_wiring import RoyaltiesWiring
from musicapp.ui.selection_wiring import SelectionWiring
from musicapp.ui.user_audio_widget import UserAudioWidget
from musicapp.ui.verification_widget import VerificationWidget, refusal_text
from musicapp.ui.verify_wiring import VerifyWiring

if TYPE_CHECKING:  # the panels are loaded when first opened: they bring pyqtgraph's image widgets
    from PySide6.QtGui import QAction

    from musicapp.catalog.import_report import ImportReport
    from musicapp.jobs import Job
    from musicapp.ui.audio_output import AudioOutputMenu
    from musicapp.ui.audio_panel import AudioPanel
    from musicapp.ui.keyboard import Keyboard
    from musicapp.ui.panel_toggles import PanelToggles
    from musicapp.ui.range_dialog import RangeDialog
    from musicapp.ui.services import AppPort
    from musicapp.ui.stems_view import StemsView
    from musicapp.ui.sync_status import SyncController

log = logging.getLogger(__name__)

USER_LEVELS = frozenset({Level.AUDIO, Level.TEMPORAL})
DEFAULT_SIZE = (1280, 800)
STATUS_TIMEOUT_MS = 8000
SHUTDOWN_WAIT_MS = 5000


def _title(text: str, name: str = "panelTitle") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    return label


class MainWindow(QMainWindow):
    """Wires the panels to the studio; the panels do the drawing, the studio does the work."""

    # Set by menus.build_menus.
    export_action: QAction
    audio_output: AudioOutputMenu
    import_action: QAction
    tone_action: QAction
    sync: SyncController
    keyboard: Keyboard
    theme_actions: dict[str, QAction]  # View → Theme: follow the system, light, dark
    panels: PanelToggles  # View → Catalogue panel, Take panel

    def __init__(self, context: AppPort, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.studio = context.studio
        self.runner = JobRunner(self)
        self._generation_job = JobControl(
            self.runner,
            self,
            on_result=self._on_take,
            on_failure=self._on_generation_failed,
            on_cancel=self._on_generation_cancelled,
            on_progress=self._on_generation_progress,
            on_end=self._on_generation_done,
        )
        self._generation_songs: dict[str, Song] = {}
        self._generation_request: GenerationRequest | None = None  # the last one started
        self.import_dialog: ImportDialog | None = None
        self.audio_panel: AudioPanel | None = None
        self.stems_view: StemsView | None = None

        self.setWindowTitle("musicapp")
        self.resize(*DEFAULT_SIZE)

        self.browser = BrowserWidget(self.studio, runner=self.runner)
        self._demo_job = JobControl(
            self.runner,
            self,
            on_result=self._on_demo_finished,
            on_failure=self._on_demo_failed,
            on_progress=self._on_demo_progress,
            on_end=self.browser.show_catalogue,
        )
        self.references = ReferencesWidget()
        self.settings_panel = SettingsWidget(*engine_choices(self.studio))
        self.user_audio = UserAudioWidget(self.runner)
        self.range_dialog: RangeDialog | None = None
        self._range_row = -1
        self.verification = VerificationWidget()
        self.generate_bar = GenerateBar()
        self.result = ResultWidget(self.studio, self.runner, context.settings.exports_dir)
        self.selection_ui = SelectionWiring(self)  # Prompt, Similar, alternatives, proposals
        self.audit_ui = AuditWiring(self)  # File → Audit a file…, undeclared material
        self.royalties_ui = RoyaltiesWiring(self)  # Tools → Royalties…, what takes pay whom
        self.verify_ui = VerifyWiring(self)  # File → Verify…, audio files dropped on the window
        self.history_ui = HistoryWiring(self)  # the Take history dock, View → Take history
        self.onboarding = Onboarding(self)  # the first run; Tools → Declare my rights…

        centre = QWidget()
        centre.setObjectName("centrePanel")
        col = QVBoxLayout(centre)
        col.setContentsMargins(6, 12, 6, 12)
        col.addWidget(_title("References"))
        col.addWidget(self.references, 2)
        col.addWidget(self.selection_ui.proposals)
        col.addWidget(_title("Take settings", "sectionTitle"))
        col.addWidget(self.settings_panel)
        col.addWidget(_title("Your audio", "sectionTitle"))
        col.addWidget(self.user_audio)
        col.addWidget(_title("Consent check", "sectionTitle"))
        col.addWidget(self.verification, 3)
        col.addWidget(self.generate_bar)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.setHandleWidth(1)
        for w, stretch in ((self.selection_ui.pane, 0), (centre, 1), (self.result, 1)):
            splitter.addWidget(w)
            splitter.setStretchFactor(splitter.indexOf(w), stretch)
        splitter.setSizes([280, 490, 510])
        self.splitter = splitter  # its sizes are kept between sessions (history_wiring.py)
        # Above everything while the ledger is damaged (hidden otherwise).
        self.ledger_banner = LedgerDamageWidget(self.studio.records, self.runner)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.setSpacing(0)
        body_layout.addWidget(self.ledger_banner)
        body_layout.addWidget(splitter, 1)
        self.setCentralWidget(body)
        build_menus(self)  # File, Tools, Help; sets export_action, tone_action, sync, …
        self.history_ui.restore()  # the docks as the last session left them
        # Tab reads the window left to right: the catalogue, then the references, then the rest.
        QWidget.setTabOrder(self.browser.add_button, self.references.table)

        # Coalesce bursts of edits (a spin box held down) into one consent check.
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(0)
        self._check_timer.timeout.connect(self.refresh_check)

        self.browser.song_chosen.connect(self.add_reference)
        self.browser.stems_requested.connect(self.open_stems_view)
        self.references.songs_dropped.connect(self.add_references)
        self.references.changed.connect(self._check_timer.start)
        self.settings_panel.changed.connect(self._check_timer.start)
        self.user_audio.changed.connect(self._check_timer.start)
        self.references.range_requested.connect(self.choose_range)
        self.generate_bar.generate_clicked.connect(self.start_generation)
        self.generate_bar.cancel_clicked.connect(self.cancel_generation)
        self.result.status.connect(self.show_status)
        self.browser.status.connect(self.show_status)
        # One sound at a time: a preview stops the take, playing the take stops the preview.
        # Both happen before the new sound starts: stopping sounddevice stops whatever plays.
        self.browser.preview.loading.connect(self._on_preview_loading)
        self.result.play_button.pressed.connect(self._on_take_play_pressed)

        self.ledger_banner.status.connect(self.show_status)
        self.refresh_check()
        self.statusBar().showMessage("Ready")
        self.sync.message.connect(self.show_status)
        self.sync.synced.connect(lambda _: self.refresh_check())  # consent may have changed
        self.sync.synced.connect(lambda _: self.result.refresh_money())  # and prices come
        self.statusBar().addPermanentWidget(self.sync.label)
        started = self.onboarding.start()  # resume the demo build, or ask how to start
        if not started and (job := self.studio.library.index_audio_job()) is not None:
            # A catalogue from before audio identity: index it so its audio is recognised.
            self.runner.submit(job).done.connect(
                lambda: self.show_status("Catalogue audio indexed")
            )

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_TIMEOUT_MS)

    # -- references and the live consent check -------------------------------------------

    def add_reference(self, song_id: str) -> None:
        if self.generation is not None:
            self.show_status("Wait for the take (or cancel it) before changing the references")
            return
        song = self.studio.song(song_id)
        if song is None:
            self.show_status(f"Song {song_id} is no longer in the catalogue")
            return
        self.references.add_song(song)
        self.show_status(f"Added “{song.title}” to the references")

    def add_references(self, song_ids: list[str]) -> None:
        for song_id in song_ids:
            self.add_reference(song_id)

    def refresh_check(self) -> None:
        """Re-run the policy on the current request (no ledger write) and show the verdict."""
        self._check_timer.stop()
        if self.generation is not None:
            return
        self.browser.set_take_use(self.settings_panel.use())  # the catalogue's badges
        self.settings_panel.set_length_from_audio(
            bool(self.references.levels() & USER_LEVELS), self.user_audio.duration_s()
        )
        if not self.references.count():
            self.verification.show_empty()
            self.generate_bar.set_allowed(False, "Add at least one reference song first")
            return
        try:
            request = self.current_request()
            # Unknown songs, levels the engine cannot do, audio-level without audio, …
            self.studio.validate(request)
            verification = self.studio.check(request)
        except InvalidInput as exc:
            self.references.show_verdicts({})  # no verdict now: no stale marks
            message = readable(exc, self.references.songs())
            if self.user_audio.loading():
                message = "Reading your audio file…"
            audio_out = self.user_audio.clear if self.user_audio.path() else None
            self.verification.show_problem(message, level_fixes(self.references, audio_out))
            self.generate_bar.set_allowed(False, message)
            return
        except Exception as exc:  # keep the window alive; say what went wrong
            log.exception("consent check failed")
            self.verification.show_problem(f"The consent check did not run: {exc}")
            self.generate_bar.set_allowed(False, f"The consent check did not run: {exc}")
            return
        songs = self.references.songs()
        try:
            sources = self.studio.consent_sources(
                [d.reference.song_id for d in verification.decisions]
            )
        except Exception:  # the verdict stands; where it came from is a courtesy
            log.exception("could not read where consent came from")
            sources = {}
        self.verification.show_verification(verification, songs, sources)
        self.references.show_verdicts(
            {i: "; ".join(d.reasons) for i, d in enumerate(verification.decisions) if not d.allowed}
        )
        self.generate_bar.set_allowed(verification.allowed, refusal_text(verification, songs))

    def current_request(self) -> GenerationRequest:
        """The request the window shows now (raises InvalidInput when it is incomplete)."""
        refs = self.references.references()
        # A temporal reference always needs a range of the user's audio, even all of it.
        temporal = any(r.level is Level.TEMPORAL for r in refs)
        chosen = self.user_audio.selected_range() if temporal else self.user_audio.user_range()
        return self.settings_panel.request(refs, self.user_audio.path(), chosen)

    def choose_range(self, row: int) -> None:
        """Open the range picker for the temporal reference in `row` (window-modal)."""
        if self.generation is not None or not (0 <= row < self.references.count()):
            return
        song = self.references.song_at(row)
        from musicapp.ui.range_dialog import RangeDialog

        dialog = RangeDialog(song, self.references.time_range(row), self)
        studio = self.studio
        dialog.load_audio(self.runner, lambda: studio.song_audio(song.id), song.sample_rate)
        dialog.accepted.connect(self._on_range_chosen)
        self.range_dialog, self._range_row = dialog, row
        dialog.open()

    def _on_range_chosen(self) -> None:
        dialog, row = self.range_dialog, self._range_row
        if dialog is None or not (0 <= row < self.references.count()):
            return
        if self.references.song_at(row).id == dialog.song.id:
            self.references.set_time_range(row, dialog.time_range())

    # -- generation ----------------------------------------------------------------------

    def start_generation(self, request: GenerationRequest | None = None) -> None:
        """Make a take of `request` (default: the one the window shows)."""
        if self.generation is not None:
            return
        try:
            request = request or self.current_request()
            job = self.studio.generate_job(request)
        except InvalidInput as exc:
            show_error(self, "Cannot generate", readable(exc, self.references.songs()))
            return
        self._generation_songs, self._generation_request = self.references.songs(), request
        self._set_generating(True)
        self._generation_job.start(job)

    @property
    def generation(self) -> JobHandle | None:
        return self._generation_job.handle

    @property
    def demo_build(self) -> JobHandle | None:
        return self._demo_job.handle

    def cancel_generation(self) -> None:
        if self._generation_job.cancel():
            self.generate_bar.show_cancelling()
            self.show_status("Cancelling the generation…")

    def _set_generating(self, running: bool) -> None:
        self.generate_bar.set_running(running)
        self.references.set_editable(not running)
        self.settings_panel.set_editable(not running)
        self.user_audio.set_editable(not running)

    def _on_generation_progress(self, p: Progress) -> None:
        self.generate_bar.show_progress(p)
        self.statusBar().showMessage(f"Generating… {p.fraction:.0%} {p.message}".rstrip())

    def _on_take(self, take: Any) -> None:
        try:
            self.result.show_take(take, self._generation_songs)
            self.history_ui.took(take)
        except Exception as exc:
            log.exception("could not show the take")
            show_error(self, "Cannot show the take", f"Take {take.id} was made but not shown.", exc)
            return
        self.export_action.setEnabled(True)
        self.show_status(f"Take ready: {take.duration_s:.1f} s, ledger event {take.id}")

    def _on_generation_cancelled(self) -> None:
        self.show_status("Generation cancelled")

    def _on_generation_failed(self, exc: BaseException) -> None:
        if isinstance(exc, LedgerDamaged):
            self.ledger_banner.show_damage(exc.damage)
            self.show_status("Generation refused: the ledger is damaged")
            show_ledger_refusal(self, "Cannot generate", exc.damage)
        elif isinstance(exc, Refused):
            self.verification.show_verification(exc.verification, self.references.songs())
            self.show_status("Generation refused: consent does not allow it")
            show_error(self, "Generation refused", exc.verification.summary())
        elif self.audit_ui.offer_choice(exc, self._generation_request):
            pass  # undeclared material in the user's audio: the user chooses what to do
        elif isinstance(exc, InvalidInput):
            self.show_status(f"Cannot generate: {exc}")
            show_error(self, "Cannot generate", str(exc))
        else:
            self.show_status(f"Generation failed: {exc}")
            show_error(self, "Generation failed", "The take could not be made.", exc)

    def _on_generation_done(self) -> None:
        self._set_generating(False)
        self.refresh_check()

    # -- first run ----------------------------------------------------------------------

    def build_demo_catalogue(self, job: Job[int] | None = None) -> None:
        """Render the demo catalogue (or finish ``job``, a build cut short) on the I/O lane,
        showing progress in the catalogue panel."""
        self.browser.show_building(None)
        self._demo_job.start(job or self.studio.library.build_demo_job())

    def _on_demo_progress(self, p: Progress) -> None:
        self.browser.show_building(p)
        self.statusBar().showMessage(f"Building the demo catalogue… {p.fraction:.0%}")

    def _on_demo_finished(self, count: int) -> None:
        self.show_status(f"Demo catalogue ready: {count} songs")
        self.selection_ui.catalogue_changed()

    def _on_demo_failed(self, exc: BaseException) -> None:
        self.show_status(f"The demo catalogue could not be built: {exc}")
        show_error(self, "Demo catalogue failed", "The demo catalogue could not be built.", exc)

    # -- import and preview -------------------------------------------------------------

    def _import_job(self, path: Path, manifest: Path | None) -> Job[ImportReport]:
        """The studio's import job (the one `musicapp import` runs): rights it gives or changes
        go to the ledger before they take effect."""
        return self.studio.library.import_job(path, manifest)

    def open_import_dialog(self) -> ImportDialog:
        """File → Import music…: one dialog at a time, window-modal."""
        if self.import_dialog is not None and self.import_dialog.isVisible():
            self.import_dialog.raise_()
            return self.import_dialog
        dialog = ImportDialog(self.runner, self._import_job, self)
        dialog.catalogue_changed.connect(self._on_catalogue_imported)
        self.import_dialog = dialog
        dialog.open()
        return dialog

    def _on_catalogue_imported(self) -> None:
        self.browser.catalogue_changed()
        self.selection_ui.catalogue_changed()
        self.show_status("Catalogue updated by the import")

    # -- audio panel and stems ----------------------------------------------------------------

    def open_audio_panel(self) -> AudioPanel:
        """Tools → Tone match…: one non-modal panel, so the catalogue stays at hand for adding
        references to it."""
        if self.audio_panel is None:
            from musicapp.ui.audio_panel import AudioPanel

            panel = AudioPanel(
                self.studio,
                self.runner,
                self.context.settings.exports_dir,
                selection=self.browser.selected_song_id,
                tray=self._tray_ids,
                parent=self,
            )
            panel.status.connect(self.show_status)
            self.audio_panel = panel
        self.audio_panel.show()
        self.audio_panel.raise_()
        return self.audio_panel

    def _tray_ids(self) -> list[str]:
        return list(self.references.songs())

    def open_stems_view(self, song_id: str) -> StemsView | None:
        """The Stems view of a catalogue song (the browser's Stems… button or context menu)."""
        song = self.studio.song(song_id)
        if song is None:
            self.show_status(f"Song {song_id} is no longer in the catalogue")
            return None
        if self.stems_view is not None:  # one at a time: the old one stops and goes
            self.stems_view.close()
            self.stems_view.deleteLater()
        from musicapp.ui.stems_view import StemsView

        view = StemsView(
            self.studio, self.runner, song_id, f"{song.title} — {song.artist}", None, self
        )
        view.status.connect(self.show_status)
        view.use_stem.connect(self._use_stem)
        self.stems_view = view
        view.show()
        view.start()
        return view

    def _use_stem(self, path: Path) -> None:
        self.open_audio_panel().stem.load(path)

    def _on_preview_loading(self, _song_id: str) -> None:
        self.result.stop()

    def _on_take_play_pressed(self) -> None:
        if not self.result.play_button.isChecked():  # about to play, not to stop
            self.browser.preview.stop()

    # -- shutdown -----------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.result.stop()
        self.history_ui.widget.stop()
        self.history_ui.save()
        if self.audio_panel is not None:
            self.audio_panel.ab.stop()
        if self.stems_view is not None:
            self.stems_view.stop()
        self.browser.preview.stop()
        self.runner.cancel_all()
        if not self.runner.wait(SHUTDOWN_WAIT_MS):
            log.warning("jobs still running at shutdown")
        super().closeEvent(event)
