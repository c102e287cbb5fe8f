"""Which audio of each reference the concat engine may use, layer by layer, and its bars."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicapp.audio.analysis import Analysis, BarFeatures, key_shift, rms
from musicapp.audio.cache import cached_analyse, cached_bar_features
from musicapp.core import InvalidInput, Level, Role
from musicapp.generation.base import Material
from musicapp.generation.tempo import fold

SILENT_RMS = 1e-5

# A parameter-level role becomes a layer; mood and genre have no stem of their own, so such a
# reference lends its whole mix to the song layer, where it alternates with song-level material.
ROLE_LAYER = {
    Role.MELODY: "melody",
    Role.HARMONY: "harmony",
    Role.RHYTHM: "rhythm",
    Role.TIMBRE: "palette",
    Role.INSTRUMENT: "palette",
    Role.MOOD: "song",
    Role.GENRE: "song",
}
# The stem roles (Stem.role) each layer takes, in order of preference: (first choice, fallback).
LAYER_STEMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "melody": (("melody",),),
    # Without inner voices the bass line carries the harmony (a ragtime left hand does).
    "harmony": (("harmony",), ("bass",)),
    "rhythm": (("rhythm",), ("bass",)),
    # A timbre or instrument reference lends its sound palette: its accompanying instruments.
    "palette": (("harmony", "bass"), ("melody",)),
}
# Layers are planned in this order: the beat first, then harmony, and the melody over both.
LAYER_ORDER = ("rhythm", "song", "palette", "harmony", "melody")


@dataclass
class Source:
    """One reference's audio for one layer, its bars and what they sound like."""

    material: Material
    audio: np.ndarray  # (2, n) for the mix or stereo stems, (1, n) for mono ones
    stems: tuple[str, ...]  # the stems summed into `audio`; empty: the whole mix
    pitched: bool  # False for drums: they are not transposed and do not count as harmony
    bars: np.ndarray  # bar boundaries in samples
    features: BarFeatures
    usable: np.ndarray  # indices of bars loud enough to use
    typical_rms: float  # the median level of its sounding bars
    tempo_bpm: float  # after folding towards the target tempo
    shift: int = 0  # semitones applied when rendering

    @property
    def n_bars(self) -> int:
        return len(self.bars) - 1


@dataclass
class Layer:
    """A part of the output made from one or more references, one bar at a time."""

    name: str
    sources: list[Source]
    weight: float  # the sum of its references' weights

    @property
    def pitched(self) -> bool:
        return any(s.pitched for s in self.sources)


def layer_of(material: Material) -> str:
    ref = material.reference
    if ref.level is Level.PARAMETER and ref.role is not None:
        return ROLE_LAYER[ref.role]
    return "song"


def stem_sum(material: Material, names: list[str]) -> np.ndarray:
    """The named stems summed as they sit in the mix: stereo when any of them is (a layer keeps
    its image), mono (1, n) only when all are mono."""
    stems = [material.stems[n] for n in names]
    out = np.zeros((max(s.shape[0] for s in stems), stems[0].shape[1]), dtype=np.float32)
    for s in stems:
        out += s
    return out


def stem_role(material: Material, name: str) -> str:
    """A stem's musical role; drums count as rhythm whatever the catalogue calls them."""
    for s in material.song.stems:
        if s.name == name:
            return "rhythm" if s.family == "drums" else s.role
    return ""


def _present_stems(material: Material) -> list[str]:
    return [s.name for s in material.song.stems if s.name in material.stems]


def layer_audio(
    material: Material, layer: str, covered: set[str]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The audio a material lends to a layer and the stems it is made of (empty: the mix).

    A song-level reference next to parameter-level ones lends the stems nobody else covers, so
    that "melody from B" over "song A" does not play A's own melody too.
    """
    names = _present_stems(material)
    if layer == "song":
        rest = [n for n in names if stem_role(material, n) not in covered]
        if covered and rest and rest != names:
            audio = stem_sum(material, rest)
            if rms(audio) > SILENT_RMS:
                return audio, tuple(rest)
        return material.mix, ()
    for roles in LAYER_STEMS[layer]:
        chosen = [n for n in names if stem_role(material, n) in roles]
        if chosen:
            audio = stem_sum(material, chosen)
            if rms(audio) > SILENT_RMS:
                return audio, tuple(chosen)
    # No such stem (or it is silent): the whole mix stands in, so the reference still counts.
    return material.mix, ()


def covered_roles(materials: list[Material]) -> set[str]:
    """The stem roles that parameter-level references supply."""
    covered: set[str] = set()
    for m in materials:
        layer = layer_of(m)
        if layer != "song":
            _, stems = layer_audio(m, layer, set())
            covered.update(stem_role(m, n) for n in stems)
    return covered


def analyse_material(material: Material) -> Analysis:
    """Tempo, beats, meter and bars of a reference, from its full mix (stems share its timing);
    cached per distinct audio, so a second generation over the same references skips it."""
    if rms(material.mix) <= SILENT_RMS:
        raise InvalidInput(f"reference {material.song.id}: its audio is silent")
    return cached_analyse(
        material.mix,
        material.sample_rate,
        material.tempo_bpm,
        material.beats_per_bar,
        material.downbeat_s,
    )


def make_source(
    material: Material,
    layer: str,
    covered: set[str],
    analysis: Analysis,
    target_bpm: float,
    beats_per_bar: int,
) -> Source:
    """Cut a material's layer audio into bars of the output's meter at the target tempo (a
    reference in another meter is cut by beats, so the pulse holds) and describe them."""
    sr = material.sample_rate
    audio, stems = layer_audio(material, layer, covered)
    factor = fold(analysis.tempo_bpm, target_bpm)
    bars_s = analysis.bars(beats_per_bar, factor)
    bars = np.unique(np.clip(np.round(bars_s * sr).astype(np.int64), 0, audio.shape[1]))
    if len(bars) < 2:
        bars = np.array([0, audio.shape[1]])
    # The mix's spectral frames are known from the analysis; a stem group's are worked out.
    known = analysis.spectral if audio is material.mix else None
    features = cached_bar_features(audio, sr, bars / sr, beats_per_bar, known)
    levels = features.rms
    loudest = levels.max() if len(levels) else 0.0
    # Bars far below the source's usual level (intros, rests, tails) would be boosted into noise.
    typical = float(np.median(levels[levels > 0.05 * loudest])) if loudest > 0 else 0.0
    usable = np.flatnonzero((levels >= 0.25 * typical) & _no_gap(audio, bars, typical))
    if len(usable) == 0:
        usable = np.arange(len(levels))
    pitched = not (stems and all(stem_role(material, n) == "rhythm" for n in stems))
    return Source(
        material=material,
        audio=audio,
        stems=stems,
        pitched=pitched,
        bars=bars,
        features=features,
        usable=usable,
        typical_rms=typical,
        tempo_bpm=analysis.tempo_bpm * factor,
    )


def _no_gap(audio: np.ndarray, bars: np.ndarray, typical: float) -> np.ndarray:
    """Per bar: no quarter of it falls silent. A bar running into a song's release tail or a
    general pause is loud enough on average but would leave a hole in the output."""
    mono = audio.mean(axis=0)
    ok = np.ones(len(bars) - 1, dtype=bool)
    for i, (a, b) in enumerate(zip(bars[:-1], bars[1:], strict=True)):
        edges = np.linspace(a, b, 5).astype(np.int64)
        quarters = [mono[lo:hi] for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
        ok[i] = all(q.size and float(np.sqrt(np.mean(q**2))) >= 0.03 * typical for q in quarters)
    return ok


_PITCH_CLASS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def key_tonic(key: str) -> int | None:
    """The pitch class (C = 0) of the major key a key name shares its notes with ("G major" ->
    7, "E minor" -> 7, "F# major" -> 6, "Bb minor" -> 1); None when the name is not a key."""
    words = key.replace("♯", "#").replace("♭", "b").split()
    if not words or not words[0] or words[0][0].upper() not in _PITCH_CLASS:
        return None
    name = words[0]
    pc = _PITCH_CLASS[name[0].upper()] + name[1:].count("#") - name[1:].count("b")
    minor = (len(words) > 1 and words[1].lower().startswith("min")) or name.endswith("m")
    return (pc + (3 if minor else 0)) % 12


def _shift_between(source: Material, anchor: Material, profiles: list[np.ndarray]) -> int:
    """Semitones from a source's key to the anchor's: from the keys the catalogue knows (the
    scores'), else estimated from the two pitch profiles."""
    a, b = key_tonic(source.song.key), key_tonic(anchor.song.key)
    if a is not None and b is not None:
        return (b - a + 6) % 12 - 6
    return key_shift(profiles[source.index], profiles[anchor.index])


def align_keys(layers: list[Layer], profiles: list[np.ndarray], anchor: int) -> None:
    """Transpose every pitched source onto the key of reference `anchor` (its chroma too).

    `profiles` holds each reference's pitch profile (the average chroma of its mix). A fifth
    apart, profiles fit nearly as well as the right key does, so a key the catalogue knows
    decides first.
    """
    materials = {s.material.index: s.material for layer in layers for s in layer.sources}
    for layer in layers:
        for src in layer.sources:
            if not src.pitched:
                continue
            src.shift = _shift_between(src.material, materials[anchor], profiles)
            if src.shift:
                f = src.features
                for arr in (f.chroma_start, f.chroma_end, f.chroma_mean):
                    arr[:] = np.roll(arr, src.shift, axis=1)
