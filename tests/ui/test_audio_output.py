"""Tools → Audio output (issue 19: "no output-device choice"): the outputs listed when the menu
opens, the choice used by every player and kept; without an output, the menu says why."""

from __future__ import annotations

import types

import numpy as np
from PySide6.QtCore import QSettings

from musicapp.audio import playback
from musicapp.audio.playback import Player
from musicapp.ui.main_window import MainWindow


class FakeSd(types.ModuleType):
    def __init__(self) -> None:
        super().__init__("sounddevice")
        self.devices = [
            {"name": "Built-in Output", "max_output_channels": 2},
            {"name": "Scarlett 2i2", "max_output_channels": 2},
        ]
        self.used: list[int | None] = []

    def query_devices(self, kind=None):
        return self.devices[0] if kind == "output" else list(self.devices)

    def play(self, frames, samplerate, device=None):
        self.used.append(device)

    def stop(self):
        pass


def test_the_outputs_are_listed_and_the_choice_is_used_and_kept(qtbot, fake_context, monkeypatch):
    fake = FakeSd()
    monkeypatch.setattr(playback, "_load_sounddevice", lambda: (fake, ""))
    monkeypatch.setattr(playback, "_output", {"name": ""})
    window = MainWindow(fake_context)
    qtbot.addWidget(window)
    menu = window.audio_output
    menu.refresh()
    assert menu.labels() == ["System default", "Built-in Output", "Scarlett 2i2"]
    assert menu.menu.actions()[0].isChecked()
    menu.menu.actions()[2].trigger()
    Player().play(np.zeros((2, 10), np.float32), 44100)
    assert fake.used == [1]
    settings = QSettings(
        QSettings.Format.IniFormat, QSettings.Scope.UserScope, "musicapp", "musicapp"
    )
    assert settings.value("audio/output") == "Scarlett 2i2"
    # A new session plays on it too, and shows it chosen.
    playback.set_output("")
    again = MainWindow(fake_context)
    qtbot.addWidget(again)
    assert playback.current_output() == "Scarlett 2i2"
    again.audio_output.refresh()
    assert [a.text() for a in again.audio_output.menu.actions() if a.isChecked()] == [
        "Scarlett 2i2"
    ]


def test_without_an_output_the_menu_says_why(qtbot, fake_context, monkeypatch):
    monkeypatch.setattr(
        playback, "_load_sounddevice", lambda: (None, "the PortAudio sound library is missing")
    )
    window = MainWindow(fake_context)
    qtbot.addWidget(window)
    window.audio_output.refresh()
    (only,) = window.audio_output.menu.actions()
    assert only.text() == "No audio output: the PortAudio sound library is missing"
    assert not only.isEnabled()
