"""Playback degrades to a reason when PortAudio or a device is missing, and plays when present."""

import sys
import types

import numpy as np
import pytest

from musicapp.audio import playback
from musicapp.audio.playback import Player


class FakeSd(types.ModuleType):
    def __init__(self, device_error=None):
        super().__init__("sounddevice")
        self.device_error = device_error
        self.played = []
        self.stops = 0

    devices = [
        {"name": "Built-in Microphone", "max_output_channels": 0},
        {"name": "Built-in Output", "max_output_channels": 2},
        {"name": "USB DAC", "max_output_channels": 2},
    ]

    def query_devices(self, kind=None):
        if self.device_error:
            raise self.device_error
        return self.devices[1] if kind == "output" else list(self.devices)

    def play(self, frames, samplerate, device=None):
        self.played.append((frames, samplerate))
        self.devices_used = [*getattr(self, "devices_used", []), device]

    def stop(self):
        self.stops += 1


def test_missing_portaudio_gives_a_reason(monkeypatch):
    monkeypatch.setattr(
        playback, "_load_sounddevice", lambda: (None, "PortAudio library not found")
    )
    player = Player()
    assert not player.available
    assert "PortAudio" in player.unavailable_reason
    with pytest.raises(RuntimeError, match="No audio output device: PortAudio"):
        player.play(np.zeros((2, 10), np.float32), 32000)


def test_import_error_of_sounddevice_is_caught(monkeypatch):
    class Boom:
        def find_spec(self, name, path=None, target=None):
            if name == "sounddevice":
                raise OSError("PortAudio library not found")

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Boom(), *sys.meta_path])
    sd, reason = playback._load_sounddevice()
    assert sd is None and "install the libportaudio2 package" in reason


def test_no_output_device_gives_a_reason(monkeypatch):
    fake = FakeSd(device_error=ValueError("Error querying device -1"))
    monkeypatch.setattr(playback, "_load_sounddevice", lambda: (fake, ""))
    player = Player()
    assert not player.available
    # PortAudio's own words are for the log; the listener reads what to do.
    assert player.unavailable_reason == playback.NO_DEVICE
    assert "-1" not in player.unavailable_reason


def test_a_device_that_fails_when_played_gives_a_plain_error(monkeypatch):
    fake = FakeSd()

    def refuse(frames, samplerate, device=None):
        raise RuntimeError("Error opening OutputStream: Device unavailable [PaErrorCode -9985]")

    fake.play = refuse
    monkeypatch.setattr(playback, "_load_sounddevice", lambda: (fake, ""))
    with pytest.raises(RuntimeError) as err:
        Player().play(np.zeros((2, 10), np.float32), 32000)
    assert str(err.value) == (
        "Cannot play: the audio output is in use by another program or was unplugged"
    )


def test_play_hands_frames_to_the_device_and_stop_stops(monkeypatch):
    fake = FakeSd()
    monkeypatch.setattr(playback, "_load_sounddevice", lambda: (fake, ""))
    player = Player()
    assert player.available
    audio = np.ones((2, 3200), np.float32)
    player.play(audio, 32000)
    frames, sr = fake.played[0]
    assert frames.shape == (3200, 2) and sr == 32000
    assert player.position_s is not None and player.position_s < 0.1
    player.stop()
    assert player.position_s is None and fake.stops >= 2


def test_outputs_are_listed_and_the_chosen_one_plays(monkeypatch):
    fake = FakeSd()
    monkeypatch.setattr(playback, "_load_sounddevice", lambda: (fake, ""))
    monkeypatch.setattr(playback, "_output", {"name": ""})
    assert playback.outputs() == (["Built-in Output", "USB DAC"], "")  # no microphone
    player = Player()
    player.play(np.zeros((2, 10), np.float32), 44100)
    playback.set_output("USB DAC")
    player.play(np.zeros((2, 10), np.float32), 44100)
    assert fake.devices_used == [None, 2]
    # Unplugged: the default plays rather than nothing, and the log says why.
    fake.devices = fake.devices[:2]
    player.play(np.zeros((2, 10), np.float32), 44100)
    assert fake.devices_used[-1] is None


def test_no_outputs_says_why(monkeypatch):
    monkeypatch.setattr(
        playback, "_load_sounddevice", lambda: (None, "the PortAudio sound library is missing")
    )
    assert playback.outputs() == ([], "the PortAudio sound library is missing")
    fake = FakeSd(device_error=ValueError("Error querying device -1"))
    monkeypatch.setattr(playback, "_load_sounddevice", lambda: (fake, ""))
    assert playback.outputs() == ([], playback.NO_DEVICE)
