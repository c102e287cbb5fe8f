"""The consent panel says where each decision came from: the rights server or this computer."""

from __future__ import annotations

from musicapp.ui import theme
from musicapp.ui.main_window import MainWindow


def open_window(qtbot, fake_context) -> MainWindow:
    w = MainWindow(fake_context)
    qtbot.addWidget(w)
    w.show()
    return w


def test_the_consent_panel_says_where_each_decision_came_from(qtbot, fake_context):
    """Issue 19: after a sync with a registry that has no record for a song, commercial use
    showed "Cleared" with no sign of where the consent came from."""
    studio = fake_context.studio
    studio.server = "https://rights.example.org"
    studio.server_has = {"s1"}
    w = open_window(qtbot, fake_context)
    w.add_reference("s1")
    w.add_reference("s2")
    w.refresh_check()
    text = w.verification.details_allowed.text()
    assert "Consent from the rights server rights.example.org" in text
    assert (
        "Consent from this computer&#x27;s records: the rights server rights.example.org has no "
        "record for this song" in text
    )
    assert theme.colour("warn_text") in text  # the song the server does not know stands out
