"""Which torch device a neural engine runs on: CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

from musicapp.core import InvalidInput

DEVICES = ("cuda", "mps", "cpu")
_LABELS = {
    "cuda": "CUDA GPU",
    "mps": "Apple GPU (MPS)",
    "cpu": "CPU (slow for neural engines)",
}


def available_devices() -> list[str]:
    """The devices this machine can run torch on, best first; always ends with "cpu"."""
    try:
        import torch
    except ImportError:  # the ml extra is not installed: only the weight-free engines run
        return ["cpu"]
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    found.append("cpu")
    return found


def choose_device(preference: str = "auto") -> str:
    """The device to use: "auto" takes the best available (CUDA, MPS, CPU); an explicit
    preference that this machine lacks is an InvalidInput naming what it has instead."""
    wanted = (preference or "auto").strip().lower()
    if wanted not in (*DEVICES, "auto"):
        raise InvalidInput(
            f"device {preference!r} is not known (choose auto, {', '.join(DEVICES)})"
        )
    available = available_devices()
    if wanted == "auto":
        return available[0]
    if wanted not in available:
        raise InvalidInput(
            f"device {preference!r} is not available on this machine "
            f"(available: {', '.join(available)})"
        )
    return wanted


def describe_device(name: str) -> str:
    """A label for the UI, e.g. "CPU (slow for neural engines)"."""
    if name == "cuda":
        try:
            import torch

            if torch.cuda.is_available():
                return f"CUDA GPU ({torch.cuda.get_device_name(0)})"
        except ImportError:
            pass
    return _LABELS.get(name, name)
