"""Real music for benchmarks and sample files: demo songs rendered and mixed as the catalogue does.

A benchmark of an audio writer should see what the app exports: notes with attacks, silences
and a stereo image, not white noise (which FLAC cannot compress and so flatters nothing) or a
pure tone (which it compresses too well). The demo recipe's songs are rendered here exactly as
the demo catalogue renders them (arrange, soundfont, per-role level, spread stereo mix), one
after another until the wanted length, without building a catalogue.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from musicapp.catalog.arrange import arrange
from musicapp.catalog.mix import mixdown, peak_safe_gain, stereo_gains
from musicapp.catalog.recipe import load_recipe
from musicapp.catalog.synth import instrument_name, normalise, render
from musicapp.config import CATALOGUE_RATE
from musicapp.core import Stem

# One song in a stretch of demo music: (song id, title, artist, seconds of it used).
Used = tuple[str, str, str, float]


def render_song_mix(index: int) -> tuple[str, str, str, NDArray[np.float32]]:
    """(the song's id, title, artist, its stereo float32 (2, n) mix at CATALOGUE_RATE) for
    the recipe's song at ``index``."""
    recipe = load_recipe()
    spec = recipe.songs[index]
    arranged = arrange(
        spec, recipe.arrangements[spec.arrangement], recipe.kits, recipe.min_s, recipe.max_s
    )
    n = round((arranged.length_s + recipe.tail_s) * CATALOGUE_RATE)
    tracks, stems = [], []
    for track in arranged.tracks:
        preset = track.kit.preset if track.kit else None
        tracks.append(normalise(render(track.events, n, track.voice.program, preset), track.role))
        instrument = track.kit.instrument if track.kit else instrument_name(track.voice.program)
        stems.append(Stem(track.voice.name, instrument, track.voice.family, track.role))
    mix = mixdown(tracks, stereo_gains(stems))
    mix *= np.float32(peak_safe_gain(mix))
    return spec.id, str(spec.meta["title"]), str(spec.meta["artist"]), mix


def demo_music(seconds: float, first: int = 0) -> tuple[list[Used], NDArray[np.float32]]:
    """(the songs used, in order, as (id, title, artist, seconds used); float32 stereo
    (2, n) of exactly ``seconds`` at CATALOGUE_RATE): the recipe's songs from ``first`` on,
    mixed, one after another, the last one cut."""
    want = round(seconds * CATALOGUE_RATE)
    parts: list[NDArray[np.float32]] = []
    used: list[Used] = []
    have, index = 0, first
    while have < want:
        song_id, title, artist, mix = render_song_mix(index)
        parts.append(mix[:, : want - have])
        used.append((song_id, title, artist, parts[-1].shape[1] / CATALOGUE_RATE))
        have += parts[-1].shape[1]
        index += 1
    return used, np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)


def attribution_for(used: list[Used]) -> dict[str, object]:
    """An attribution record for audio made of ``used`` (demo_music's list): each song a
    reference with its share of the time, one rights holder per song; what a concat take of
    these songs would carry, without a ledger behind it."""
    total = sum(secs for *_, secs in used)
    refs, holders = [], []
    for song_id, title, artist, secs in used:
        share = round(secs / total, 6)
        refs.append({"song_id": song_id, "title": title, "artist": artist, "share": share})
        holders.append({"id": f"holder-{song_id}", "name": artist, "share": share})
    return {
        "generation_event_id": "demo-generation",
        "use": "commercial",
        "engine": "concat",
        "references": refs,
        "rights_holders": holders,
    }
