"""The audit in the window, over the fake studio: the take's audit beside its attribution by
design, "Audit now", the undeclared-material choice, and File → Audit a file…"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from musicapp.studio_types import AuditResult, Finding
from musicapp.ui.audit_widget import AuditWidget
from musicapp.ui.main_window import MainWindow

TAKE_MS = 10_000


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
    assert rows[0].startswith("Song 1 — Baroque A | 50.0 % | 50.0 % | ✓ 0.0–15.0 s")
    assert rows[1].startswith("Song 2 — Baroque A | 50.0 % | 50.0 % | ✓")
    assert rows[2].startswith("Rest: your audio / not attributed | 0.0 % | 0.0 %")
    assert audit.disagreeing_rows() == []
    assert audit.verdict.text().startswith("✓ The audit agrees")
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
    assert rows[2] == "Song 4 — Baroque B | — | 40.0 % | ✓ 2.0–10.0 s (+2 semitones, tempo ×1.10)"
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


def test_a_take_without_an_audit_offers_audit_now(qtbot, window, fake_studio):
    fake_studio.audit.auto = False
    take = make_take(qtbot, window, "s1")
    audit = window.result.audit
    assert audit.pages.currentIndex() == AuditWidget.PAGE_NONE
    assert "has no audit" in audit.none_label.text()
    assert audit.audit_button.isVisibleTo(audit) and audit.audit_button.isEnabled()
    with qtbot.waitSignal(audit.audited, timeout=TAKE_MS):
        qtbot.mouseClick(audit.audit_button, Qt.MouseButton.LeftButton)
    assert fake_studio.audit.take_calls == [take.id]
    assert audit.pages.currentIndex() == AuditWidget.PAGE_AUDIT
    assert audit.rows_text()[0].startswith("Song 1 — Baroque A | 100.0 % | 100.0 %")
    qtbot.waitUntil(lambda: audit.audit_button.isEnabled(), timeout=TAKE_MS)
