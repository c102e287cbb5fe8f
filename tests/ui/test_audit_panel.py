"""The audit in the window, over the fake studio: the take's audit beside its attribution by
design, "Audit now", the undeclared-material choice, and File → Audit a file…"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from ui_fakes import FakePlayer

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.core import GenerationRequest, Level, Reference, TimeRange
from musicapp.jobs import CancelToken, FunctionJob
from musicapp.studio_types import AuditResult, AuditStatus, Finding
from musicapp.ui.audit_widget import AuditWidget
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.main_window import MainWindow
from musicapp.ui.result_widget import ResultWidget
from musicapp.ui.undeclared_dialog import UndeclaredDialog

TAKE_MS = 10_000
REAL_TAKE_MS = 180_000
REAL_A, HIDDEN = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]


@pytest.fixture
def window(qtbot, fake_context):
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.show()
    return w


def make_take(qtbot, window: MainWindow, *song_ids: str):
    for sid in song_ids:
        window.add_reference(sid)
    window.refresh_check()
    window.start_generation()
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=TAKE_MS)
    qtbot.waitUntil(lambda: window.generation is None, timeout=TAKE_MS)
    return window.result.take


def test_the_panel_shows_by_design_and_audit_side_by_side(qtbot, window):
    make_take(qtbot, window, "s1", "s2")
    audit: AuditWidget = window.result.audit
    assert audit.pages.currentIndex() == AuditWidget.PAGE_AUDIT
    rows = audit.rows_text()
    assert rows == [
        "Song 1 — Baroque A | 50.0 % | 50.0 % | ✓",
        "Song 2 — Baroque A | 50.0 % | 50.0 % | ✓",
        "Your audio / unattributed | 0.0 % | 0.0 % | ",
    ]
    assert "Song 1 — Baroque A: 0.0–15.0 s" in audit.found.text()
    assert audit.disagreeing_rows() == []
    assert audit.verdict.text().startswith("✓ The audit agrees")
    result = window.result
    assert result.details.tabText(result.AUDIT_TAB) == "Audit ✓ agrees"
    assert not audit.explanations.isVisibleTo(audit)
    assert "embedded audio features (fake)" in audit.method.text()
    # The strip puts the by-design timeline over the audited segments on one axis.
    assert {sid for _s, _e, sid in audit.strip.design} == {"s1", "s2"}


def test_each_disagreement_is_highlighted_and_said_in_words(qtbot, window, fake_studio):
    fake_studio.audit.planned = AuditResult(
        15.0,
        8000,
        (),
        {"s1": 0.27, "s4": 0.4},
        (Finding("s4", 2.0, 10.0, 30.0, 38.0, 0.96, pitch_shift=2, tempo_ratio=1.1),),
        embedder="CLAP (fake)",
    )
    make_take(qtbot, window, "s1", "s2")
    audit = window.result.audit
    rows = audit.rows_text()
    names = [r.split(" | ")[0] for r in rows]
    assert names == ["Song 1 — Baroque A", "Song 2 — Baroque A", "Song 4 — Baroque B", names[3]]
    assert rows[2] == "Song 4 — Baroque B | — | 40.0 % | ✓"
    assert "Song 4 — Baroque B: 2.0–10.0 s (+2 semitones, tempo ×1.10)" in audit.found.text()
    assert rows[3].endswith("| 0.0 % | 33.0 % | ")  # nothing of the user's; a third unheard
    assert audit.disagreeing_rows() == [0, 1, 2]
    assert audit.verdict.text() == (
        "✗ The audit disagrees with the attribution by design on 3 songs."
    )
    said = audit.explanations.text()
    assert "Song 1 — Baroque A</b>: share differs by 23 points (the audit hears less)" in said
    assert "Song 2 — Baroque A</b>: declared but not found" in said
    assert "Song 4 — Baroque B</b>: found in the take but not declared" in said
    assert audit.explanations.isVisibleTo(audit)
    # Seen even from the other tab: the audit's tab says it disagrees.
    result = window.result
    assert result.details.currentIndex() == result.SHARES_TAB
    assert result.details.tabText(result.AUDIT_TAB) == "Audit ✗ 3 disagree"


def test_a_take_without_an_audit_offers_audit_now(qtbot, window, fake_studio):
    fake_studio.audit.auto = False
    take = make_take(qtbot, window, "s1")
    audit = window.result.audit
    assert audit.pages.currentIndex() == AuditWidget.PAGE_NONE
    assert window.result.details.tabText(window.result.AUDIT_TAB) == "Audit"
    assert "has no audit" in audit.none_label.text()
    assert audit.audit_button.isVisibleTo(audit) and audit.audit_button.isEnabled()
    with qtbot.waitSignal(audit.audited, timeout=TAKE_MS):
        qtbot.mouseClick(audit.audit_button, Qt.MouseButton.LeftButton)
    assert fake_studio.audit.take_calls == [take.id]
    assert audit.pages.currentIndex() == AuditWidget.PAGE_AUDIT
    assert audit.rows_text()[0].startswith("Song 1 — Baroque A | 100.0 % | 100.0 %")
    qtbot.waitUntil(lambda: audit.audit_button.isEnabled(), timeout=TAKE_MS)


# -- undeclared material in the user's audio ---------------------------------------------------

FOUND = Finding("s4", 2.0, 10.0, 30.0, 38.0, 0.96, pitch_shift=-1)


def refused_take(qtbot, window, fake_studio) -> UndeclaredDialog:
    """Generate with material in the (fake) user's audio: the dialog asks what to do."""
    fake_studio.audit.material = (FOUND,)
    window.add_reference("s1")
    window.refresh_check()
    window.start_generation()
    qtbot.waitUntil(lambda: window.audit_ui.undeclared_dialog is not None, timeout=TAKE_MS)
    qtbot.waitUntil(lambda: window.generation is None, timeout=TAKE_MS)
    dialog = window.audit_ui.undeclared_dialog
    assert dialog.isVisible() and window.result.take is None
    return dialog


def test_undeclared_material_is_named_with_its_time_range(qtbot, window, fake_studio):
    dialog = refused_take(qtbot, window, fake_studio)
    assert dialog.found_lines == [
        "Song 4 — Baroque B: 2.0–10.0 s of your file (from 30.0–38.0 s of the song, "
        "-1 semitone; 96 % sure)"
    ]
    assert [r.on_undeclared for r in fake_studio.requests] == ["refuse"]


def test_refuse_makes_nothing(qtbot, window, fake_studio):
    dialog = refused_take(qtbot, window, fake_studio)
    qtbot.mouseClick(dialog.refuse_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert len(fake_studio.requests) == 1 and window.generation is None
    assert window.result.take is None and not fake_studio.audio
    assert "Nothing made" in window.statusBar().currentMessage()


def test_add_as_reference_generates_again_with_add_and_only_once(qtbot, window, fake_studio):
    dialog = refused_take(qtbot, window, fake_studio)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=TAKE_MS)
    assert [r.on_undeclared for r in fake_studio.requests] == ["refuse", "add"]
    assert fake_studio.requests[1].references == fake_studio.requests[0].references
    qtbot.waitUntil(lambda: window.generation is None, timeout=TAKE_MS)
    # The choice is never remembered: the next take asks again.
    window.audit_ui.undeclared_dialog = None
    window.start_generation()
    qtbot.waitUntil(lambda: window.audit_ui.undeclared_dialog is not None, timeout=TAKE_MS)
    assert fake_studio.requests[-1].on_undeclared == "refuse"


def test_override_asks_first_then_generates_with_override(qtbot, window, fake_studio):
    dialog = refused_take(qtbot, window, fake_studio)
    qtbot.mouseClick(dialog.override_button, Qt.MouseButton.LeftButton)
    assert len(fake_studio.requests) == 1  # not yet: the confirmation says what it means
    assert dialog.pages.currentIndex() == 1
    said = dialog.confirm_text.text()
    assert "logged in the ledger" in said and "sent to the rights holders" in said
    assert "Song 4 — Baroque B" in said
    qtbot.mouseClick(dialog.back_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == 0 and dialog.isVisible()
    qtbot.mouseClick(dialog.override_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result.take is not None, timeout=TAKE_MS)
    assert [r.on_undeclared for r in fake_studio.requests] == ["refuse", "override"]


# -- File → Audit a file… ------------------------------------------------------------------------


def test_file_audit_a_file_runs_the_job_and_shows_what_it_found(
    qtbot, window, fake_studio, tmp_path, monkeypatch
):
    clip = tmp_path / "clip.wav"
    clip.write_bytes(b"")  # the fake room does not read it
    fake_studio.audit.material = (FOUND,)
    monkeypatch.setattr(
        "musicapp.ui.audit_wiring.QFileDialog.getOpenFileName",
        lambda *a, **k: (str(clip), "Audio files"),
    )
    action = window.audit_ui.file_action
    assert action.shortcut().toString() == "Ctrl+Shift+A"
    assert action in window.menuBar().actions()[0].menu().actions()
    action.trigger()
    dialog = window.audit_ui.file_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.progress.isVisibleTo(dialog)  # the job runs with progress
    qtbot.waitUntil(lambda: dialog.audit_result is not None, timeout=TAKE_MS)
    assert fake_studio.audit.file_calls == [clip]
    assert dialog.rows_text() == ["Song 1 — Baroque A | 60.0 % | "]
    assert "Song 4 — Baroque B: 2.0–10.0 s of the file" in dialog.findings.text()
    assert "Not attributed: 40.0 %" in dialog.method.text()
    qtbot.waitUntil(lambda: not dialog.progress.isVisibleTo(dialog), timeout=TAKE_MS)


def test_a_take_whose_audit_failed_says_why_and_a_failed_audit_now_too(
    qtbot, fake_studio, tmp_path
):
    panel = ResultWidget(fake_studio, JobRunner(), tmp_path, FakePlayer())
    qtbot.addWidget(panel)
    fake_studio.audit.auto = False
    request = GenerationRequest((Reference("s1"),), duration_s=4.0)
    take = fake_studio.generate_job(request).run(lambda _p: None, CancelToken())
    take = replace(take, audit_note="the audit of this take did not finish: index missing")
    panel.show_take(take, fake_studio.songs)
    audit = panel.audit
    assert audit.none_label.text().startswith(
        "The audit of this take did not finish: index missing. An audit listens"
    )

    def broken(_p, _c):
        raise RuntimeError("the catalogue is being rebuilt")

    fake_studio.audit.audit_take_job = lambda _take_id: FunctionJob("Audit", broken)
    audit.audit_button.click()
    qtbot.waitUntil(lambda: audit.audit_button.isEnabled(), timeout=TAKE_MS)
    assert audit.none_label.text() == "The audit failed: the catalogue is being rebuilt"
    assert audit.pages.currentIndex() == AuditWidget.PAGE_NONE


# -- over the real studio (its auditor stood in for, so what it finds is known) -----------------


class StandInAuditor:
    """Finds HIDDEN outright in whatever it is given; an audit hears the references' shares."""

    def __init__(self, index_path, catalog, **options) -> None:
        self.catalog = catalog

    def status(self) -> AuditStatus:
        n = self.catalog.count()
        return AuditStatus(n, n, "stand-in embeddings", "stand-in fingerprints")

    def catch_up(self, progress=None, cancel=None) -> int:
        return 0

    def audit(
        self, audio, sample_rate, progress=None, cancel=None, method="combined", user_audio=False
    ):
        seconds = audio.shape[1] / sample_rate
        return AuditResult(seconds, sample_rate, (), {REAL_A: 0.5, HIDDEN: 0.3}, self._found())

    def find_material(self, audio, sample_rate, cancel=None):
        return self._found()

    def _found(self) -> tuple[Finding, ...]:
        return (Finding(HIDDEN, 1.0, 4.0, 20.0, 23.0, 0.97, pitch_shift=2),)

    def close(self) -> None:
        pass


@pytest.fixture
def real_window(qtbot, context, monkeypatch, tmp_path):
    """The window over the real studio and demo catalogue, with the user's own clip loaded and
    a temporal reference over it: ready to generate."""
    monkeypatch.setattr("musicapp.rooms.audit.Auditor", StandInAuditor)
    w = MainWindow(context)
    qtbot.addWidget(w)
    w.show()
    clip = tmp_path / "my clip.wav"
    t = np.arange(6 * 32_000) / 32_000
    mono = 0.3 * np.sin(2 * np.pi * 220 * t) * np.sin(np.pi * t / 6)
    sf.write(clip, np.stack([mono, mono]).T.astype(np.float32), 32_000)
    monkeypatch.setattr(
        "musicapp.ui.user_audio_widget.QFileDialog.getOpenFileName",
        lambda *a, **k: (str(clip), "Audio files"),
    )
    w.add_reference(REAL_A)
    w.references.set_level(0, Level.TEMPORAL)
    w.references.set_time_range(0, TimeRange(2.0, 6.0))
    qtbot.mouseClick(w.user_audio.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.user_audio.loading(), timeout=20_000)
    w.user_audio.set_range(1.0, 4.0)
    qtbot.waitUntil(lambda: w.verification.verdict() == "Cleared", timeout=10_000)
    yield w
    w.close()


def test_real_studio_undeclared_material_added_as_a_reference(qtbot, real_window):
    w = real_window
    qtbot.mouseClick(w.generate_bar.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.audit_ui.undeclared_dialog is not None, timeout=REAL_TAKE_MS)
    dialog = w.audit_ui.undeclared_dialog
    assert "Your audio (my clip.wav) holds catalogue recordings" in dialog.head.text()
    assert dialog.found_lines[0].startswith(f"{w.studio.song(HIDDEN).title} — ")
    # Found 1–4 s into the 1–4 s of the file the take uses: 2–5 s of the file.
    assert (
        "2.0–5.0 s of your file (from 20.0–23.0 s of the song, +2 semitones"
        in (dialog.found_lines[0])
    )
    qtbot.waitUntil(lambda: w.generation is None, timeout=REAL_TAKE_MS)
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.result.take is not None, timeout=REAL_TAKE_MS)
    take = w.result.take
    assert take.request.on_undeclared == "add"
    assert HIDDEN in {r.song_id for r in take.request.references}
    # The take's audit, logged as it was made, is shown beside the attribution by design.
    assert w.result.audit.pages.currentIndex() == AuditWidget.PAGE_AUDIT
    assert any(row.startswith(w.result.audit.name_of(HIDDEN)) for row in w.result.audit.rows_text())
    # The next take asks again: the choice was for that one take.
    assert w.current_request().on_undeclared == "refuse"


def test_real_studio_override_is_logged(qtbot, real_window):
    w = real_window
    qtbot.mouseClick(w.generate_bar.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.audit_ui.undeclared_dialog is not None, timeout=REAL_TAKE_MS)
    qtbot.waitUntil(lambda: w.generation is None, timeout=REAL_TAKE_MS)
    dialog = w.audit_ui.undeclared_dialog
    qtbot.mouseClick(dialog.override_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.result.take is not None, timeout=REAL_TAKE_MS)
    assert w.result.take.request.on_undeclared == "override"
    assert HIDDEN not in {r.song_id for r in w.result.take.request.references}
    (override,) = w.studio.ledger.events("audit_override")
    assert override.payload["findings"][0]["song_id"] == HIDDEN
