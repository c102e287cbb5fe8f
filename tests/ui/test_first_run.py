"""First run and your own music (issue 19): the demo build is asked for, not started unasked; a
build cut short is finished at the next start; importing your music leads to the rights wizard,
which makes you the holder of the songs nobody holds."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from musicapp.core import Use
from musicapp.ui import first_run
from musicapp.ui.first_run import FirstRunDialog
from musicapp.ui.main_window import MainWindow
from musicapp.ui.rights_wizard import RightsWizard


def open_window(qtbot, fake_context) -> MainWindow:
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.show()
    return w


def test_an_empty_catalogue_asks_before_building_anything(qtbot, fake_context, monkeypatch):
    fake_context.studio.empty = True
    fake_context.studio.step_s = 0.05
    asked: list[str] = []

    def ask(parent):
        asked.append("asked")
        assert w.demo_build is None  # nothing started before the answer
        return first_run.DEMO

    monkeypatch.setattr(first_run, "ask_first_run", ask)
    w = open_window(qtbot, fake_context)
    qtbot.waitUntil(lambda: asked == ["asked"], timeout=5000)
    qtbot.waitUntil(lambda: w.demo_build is not None, timeout=5000)
    qtbot.waitUntil(lambda: w.demo_build is None, timeout=5000)
    assert not fake_context.studio.empty


def test_an_empty_start_builds_nothing_and_says_how_to_add(qtbot, fake_context, monkeypatch):
    fake_context.studio.empty = True
    monkeypatch.setattr(first_run, "ask_first_run", lambda parent: first_run.EMPTY)
    w = open_window(qtbot, fake_context)
    qtbot.waitUntil(lambda: "File → Import music" in w.statusBar().currentMessage(), timeout=5000)
    assert w.demo_build is None and fake_context.studio.empty


def test_the_dialog_offers_four_named_doors_and_returns_the_one_taken(qtbot):
    dialog = FirstRunDialog()
    qtbot.addWidget(dialog)
    assert list(dialog.buttons) == [first_run.DEMO, first_run.IMPORT, first_run.SERVER, "empty"]
    assert all(b.accessibleName() for b in dialog.buttons.values())
    dialog.buttons[first_run.IMPORT].click()
    assert dialog.choice == first_run.IMPORT and dialog.result() == dialog.DialogCode.Accepted


def test_a_demo_build_cut_short_is_finished_at_the_next_start_without_asking(
    qtbot, fake_context, monkeypatch
):
    fake_context.studio.demo_unfinished = (24, 64)
    fake_context.studio.step_s = 0.05
    monkeypatch.setattr(first_run, "ask_first_run", lambda parent: pytest.fail("asked"))
    w = open_window(qtbot, fake_context)
    assert w.demo_build is not None
    assert "Finishing the demo catalogue: 24 of 64 songs were built before" in (
        w.statusBar().currentMessage()
    )
    qtbot.waitUntil(lambda: w.demo_build is None, timeout=5000)


def test_importing_at_the_first_run_leads_to_the_rights_wizard(qtbot, fake_context, monkeypatch):
    fake_context.studio.empty = True
    monkeypatch.setattr(first_run, "ask_first_run", lambda parent: first_run.IMPORT)
    w = open_window(qtbot, fake_context)
    qtbot.waitUntil(lambda: w.import_dialog is not None, timeout=5000)
    fake_context.studio.unclaimed_ids = {"s1", "s2"}  # what the import brought
    w.import_dialog.reject()
    qtbot.waitUntil(lambda: w.onboarding.wizard is not None, timeout=5000)
    assert w.onboarding.wizard.songs.count() == 2


@pytest.fixture
def wizard(qtbot, fake_context):
    fake_context.studio.unclaimed_ids = {"s1", "s2", "s4"}
    w = open_window(qtbot, fake_context)
    wizard = w.onboarding.open_wizard()
    return w, wizard


def test_the_wizard_declares_the_ticked_songs_with_the_uses_chosen(qtbot, wizard, fake_context):
    w, dialog = wizard
    assert isinstance(dialog, RightsWizard) and dialog.songs.count() == 3
    assert not dialog.declare_button.isEnabled()
    assert "Give your name" in dialog.problem.text()
    dialog.name.setText("Ann Archer")
    assert dialog.declare_button.isEnabled()
    dialog.songs.item(2).setCheckState(dialog.songs.item(2).checkState().Unchecked)
    dialog.role.setCurrentIndex(dialog.role.findData("performer"))
    dialog.non_commercial.setChecked(True)
    assert not dialog.private.isEnabled() and dialog.private.isChecked()
    dialog.declare_button.click()
    library = fake_context.studio.library
    assert library.declared == [
        (["s1", "s2"], "Ann Archer", "performer", sorted([Use.PRIVATE.value, "non_commercial"]))
    ]
    assert not dialog.isVisible()
    assert "2 song(s) are now yours" in w.statusBar().currentMessage()
    again = w.onboarding.open_wizard()
    assert again.name.text() == "Ann Archer"  # remembered
    assert again.songs.count() == 1


def test_a_refused_declaration_is_said_in_the_wizard_and_nothing_closes(
    qtbot, wizard, fake_context, monkeypatch
):
    _w, dialog = wizard
    dialog.name.setText("Ann")

    def refuse(*_a, **_k):
        raise RuntimeError("the ledger is damaged: event 5 was edited")

    monkeypatch.setattr(fake_context.studio.library, "declare_own_rights", refuse)
    dialog.declare_button.click()
    assert dialog.isVisible()
    assert (
        dialog.problem.text() == "Nothing was declared: the ledger is damaged: event 5 was edited"
    )


def test_the_wizard_says_when_there_is_nothing_to_declare(qtbot, fake_context):
    w = open_window(qtbot, fake_context)
    dialog = w.onboarding.open_wizard()
    assert dialog.songs.count() == 0 and not dialog.declare_button.isEnabled()
    assert "nothing to declare" in dialog.problem.text()
    assert w.onboarding.rights_action in w.menuBar().actions()[2].menu().actions()
    QApplication.processEvents()


def test_with_a_server_the_wizard_claims_the_songs_there_and_shows_how_claims_stand(
    qtbot, fake_context, monkeypatch
):
    """The rights wizard with a rights server set: the songs are also claimed there, for its
    administrator to confirm (sent by a sync at once), and earlier claims say how they stand."""
    from musicapp.sync.claims import Claim

    studio = fake_context.studio
    studio.unclaimed_ids = {"s1", "s2"}
    library = studio.library
    library.server = "https://rights.example.org"
    library.claimed = [Claim("s4", "Song 4", "rejected", "Not your recording")]
    w = open_window(qtbot, fake_context)
    synced = []
    monkeypatch.setattr(w.sync, "sync_now", lambda: synced.append(True))
    dialog = w.onboarding.open_wizard()
    assert "also claimed on the rights server rights.example.org at the next sync" in (
        dialog.note.text()
    )
    assert dialog.claims.isVisible()
    assert "Song 4: rejected by the rights server's administrator: Not your recording" in (
        dialog.claims.text()
    )
    dialog.name.setText("Ann Archer")
    dialog.declare_button.click()
    assert synced == [True]  # the claims go now, not at the next background sync
    assert [c.song_id for c in library.claims()] == ["s4", "s1", "s2"]
