"""Device choice: CUDA, then MPS, then CPU; an explicit choice the machine lacks is refused."""

import pytest

from musicapp.core import InvalidInput
from musicapp.generation import device
from musicapp.generation.device import available_devices, choose_device, describe_device


def test_auto_takes_the_best_available_device(monkeypatch):
    monkeypatch.setattr(device, "available_devices", lambda: ["cuda", "mps", "cpu"])
    assert choose_device() == "cuda"
    monkeypatch.setattr(device, "available_devices", lambda: ["mps", "cpu"])
    assert choose_device("auto") == "mps"
    monkeypatch.setattr(device, "available_devices", lambda: ["cpu"])
    assert choose_device("AUTO") == "cpu"


def test_an_unavailable_preference_names_it_and_what_there_is(monkeypatch):
    monkeypatch.setattr(device, "available_devices", lambda: ["cpu"])
    with pytest.raises(InvalidInput, match=r"'cuda' is not available.*available: cpu"):
        choose_device("cuda")
    assert choose_device("cpu") == "cpu"


def test_an_unknown_device_is_refused():
    with pytest.raises(InvalidInput, match="'tpu' is not known"):
        choose_device("tpu")


def test_this_machine_always_has_a_cpu_and_labels_it_slow():
    assert available_devices()[-1] == "cpu"
    assert choose_device() in available_devices()
    assert describe_device("cpu") == "CPU (slow for neural engines)"
    assert describe_device("mps") == "Apple GPU (MPS)"
