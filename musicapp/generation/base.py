"""What every engine takes and gives: the references' material, the result, the Engine protocol."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from musicapp.core import (
    TEXT_ENGINES,
    USER_SOURCE,
    GenerationRequest,
    InvalidInput,
    Level,
    Provenance,
    Reference,
    Role,
    Song,
)
from musicapp.jobs import CancelToken, ProgressCallback

__all__ = ["TEXT_ENGINES", "USER_SOURCE"]  # re-exported for the engines

# What the app calls each engine, by name: the engine classes take their label from here, and
# the window lists engines from here without importing their modules (scipy, torch).
ENGINE_LABELS: dict[str, str] = {
    "concat": "Concatenative (no weights)",
    "tonematch": "Tone match (DSP)",
    "musicgen-melody": "MusicGen-melody (neural)",
    "composer": "Composer (trained here on consented scores)",
}


def prompt_note(engine: str, prompt: str) -> str:
    """Why the take's words were not used ("" when the engine reads them, or none given)."""
    if not prompt.strip() or engine in TEXT_ENGINES:
        return ""
    label = ENGINE_LABELS.get(engine, engine)
    return f"the prompt was not used: the {label} engine takes no words, only its references"


@dataclass(frozen=True, eq=False)
class Material:
    """One reference's audio as the studio hands it over, already cut to its time range."""

    index: int  # position in request.references
    reference: Reference
    song: Song
    sample_rate: int
    mix: np.ndarray  # stereo (2, n)
    # name -> (2, n) as the stem sits in the mix (a mono (1, n) stem is accepted too)
    stems: dict[str, np.ndarray] = field(default_factory=dict)
    # What the catalogue knows of the timing is trusted over estimates (times in the cut audio).
    tempo_bpm: float | None = None
    beats_per_bar: int | None = None
    downbeat_s: float | None = None  # the start of some bar

    def __post_init__(self) -> None:
        what = f"material of {self.song.id}"
        if self.mix.ndim != 2 or self.mix.shape[0] != 2 or self.mix.shape[1] == 0:
            raise InvalidInput(f"{what}: mix must be stereo (2, n), got shape {self.mix.shape}")
        for name, stem in self.stems.items():
            if stem.ndim != 2 or stem.shape[0] not in (1, 2) or stem.shape[1] != self.mix.shape[1]:
                raise InvalidInput(
                    f"{what}: stem {name!r} must be (2, {self.mix.shape[1]}) or "
                    f"(1, {self.mix.shape[1]}), got shape {stem.shape}"
                )

    @property
    def duration_s(self) -> float:
        return self.mix.shape[1] / self.sample_rate

    def stems_with_role(self, *roles: str) -> list[str]:
        """Names of the stems (present in `stems`) whose musical role is one of `roles`."""
        return [s.name for s in self.song.stems if s.role in roles and s.name in self.stems]


@dataclass(frozen=True, eq=False)
class Conditioning:
    """Everything an engine conditions on: the references' material and the user's own audio."""

    materials: list[Material]
    sample_rate: int
    user_audio: np.ndarray | None = None  # stereo (2, n) float32 at sample_rate: the whole file


@dataclass(frozen=True, eq=False)
class GenerationResult:
    """New audio (stereo float32, peak <= 1) and who it is owed to."""

    audio: np.ndarray
    sample_rate: int
    provenance: Provenance


def number_option(
    request: GenerationRequest, name: str, low: float, high: float, default: float | None
) -> float | None:
    """A numeric `request.options[name]` checked against [low, high]; `default` if absent."""
    raw = request.options.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise InvalidInput(f"option {name}: {raw!r} is not a number") from exc
    if not low <= value <= high:
        raise InvalidInput(f"option {name}: {value:g} is outside {low:g}-{high:g}")
    return value


@runtime_checkable
class Engine(Protocol):
    """A generator. The UI lists engines by label and offers the levels and roles they support.

    An engine may also define `check_request(request) -> None`, raising InvalidInput for a
    request it cannot make; the studio calls it before any audio is loaded, so the CLI and the
    window refuse with the engine's own words.
    """

    name: str
    label: str
    levels: frozenset[Level]
    roles: frozenset[Role]
    needs_weights: bool

    def generate(
        self,
        request: GenerationRequest,
        conditioning: Conditioning,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> GenerationResult: ...


def check_conditioning(engine: Engine, request: GenerationRequest, cond: Conditioning) -> None:
    """Raise InvalidInput unless the material matches the request and the engine can use it."""
    if len(cond.materials) != len(request.references):
        raise InvalidInput(
            f"{engine.name} engine: {len(request.references)} references but "
            f"{len(cond.materials)} materials"
        )
    for i, (mat, ref) in enumerate(zip(cond.materials, request.references, strict=True)):
        if mat.index != i or mat.reference.song_id != ref.song_id:
            raise InvalidInput(f"{engine.name} engine: material {i} is not reference {i}")
        if mat.sample_rate != cond.sample_rate:
            raise InvalidInput(
                f"{engine.name} engine: {mat.song.id} is at {mat.sample_rate} Hz, "
                f"expected {cond.sample_rate} Hz"
            )
        if ref.level not in engine.levels:
            levels = ", ".join(sorted(lv.value for lv in engine.levels))
            raise InvalidInput(
                f"reference {ref.song_id}: {ref.level.value}-level references are not supported "
                f"by the {engine.name} engine yet (it supports: {levels})"
            )
        if ref.role is not None and ref.role not in engine.roles:
            raise InvalidInput(
                f"reference {ref.song_id}: the {ref.role.value} role is not supported by the "
                f"{engine.name} engine"
            )
