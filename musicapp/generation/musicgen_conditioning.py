"""What MusicGen-melody is conditioned on: a text description built from the references'
functions and categories, and one melody signal made from the weighted references' audio."""

from __future__ import annotations

import numpy as np

from musicapp.core import GenerationRequest, Role, Song
from musicapp.core.provenance import normalise
from musicapp.generation.base import Conditioning, Material

# Roles whose reference shapes the pitch content: their audio becomes the melody signal.
PITCH_ROLES = (Role.MELODY, Role.HARMONY)


def _song_name(song: Song) -> str:
    return song.title or song.id


def _categories(song: Song, role: Role | None) -> list[str]:
    """The parts of a song's description that a reference with `role` contributes."""
    genre = "/".join(x for x in (song.genre, song.subgenre) if x)
    moods = ", ".join(song.moods)
    instruments = ", ".join(song.instruments)
    out: list[str] = []
    if role is None:  # a song-level reference lends all of its categories
        out += [f"genre: {genre}"] if genre else []
        out += [f"mood: {moods}"] if moods else []
        out += [f"instrument: {instruments}"] if instruments else []
    elif role is Role.GENRE:
        out += [f"genre: {genre or 'unknown'}"]
    elif role is Role.MOOD:
        out += [f"mood: {moods or 'unknown'}"]
    elif role in (Role.INSTRUMENT, Role.TIMBRE):
        out += [f"{role.value}: {instruments or 'its instruments'}"]
    elif role is Role.RHYTHM:
        tempo = f"{song.tempo_bpm:.0f} bpm" if song.tempo_bpm else "its groove"
        out += [f"rhythm: {tempo}"]
    else:  # melody, harmony: the chroma carries them; the text names the source
        out += [f"{role.value}: as in the melody given"]
    return out


def describe(request: GenerationRequest, materials: list[Material]) -> str:
    """Text conditioning: the user's prompt, then each reference's categories by its role,
    heaviest reference first, e.g. "mood: cheerful (from Song A); instrument: fiddle (from B)"."""
    order = sorted(materials, key=lambda m: (-m.reference.weight, m.index))
    parts = []
    for mat in order:
        name = _song_name(mat.song)
        parts += [f"{c} (from {name})" for c in _categories(mat.song, mat.reference.role)]
    known = [(m.tempo_bpm or m.song.tempo_bpm, m.reference.weight) for m in materials]
    tempi = [(t, w) for t, w in known if t]
    if tempi:
        bpm = sum(t * w for t, w in tempi) / sum(w for _, w in tempi)
        parts.append(f"tempo: about {bpm:.0f} bpm")
    text = "; ".join(parts)
    prompt = request.prompt.strip()
    return f"{prompt}. {text}" if prompt and text else (prompt or text)


def melody_sources(materials: list[Material]) -> list[Material]:
    """The melody/harmony references when there are any, else every reference."""
    pitched = [m for m in materials if m.reference.role in PITCH_ROLES]
    return pitched or list(materials)


def melody_signal(cond: Conditioning, n_samples: int, sample_rate: int) -> np.ndarray:
    """One mono signal (n_samples,) at `sample_rate` for the chroma feature extractor.

    The extractor reduces audio to a one-hot chroma (the loudest pitch class per frame), so
    mixing chroma vectors would not be what the model was trained on. Instead the chosen
    references' mono audio is mixed, each first scaled to unit RMS and then by its weight
    share, so the dominant pitch class per frame comes from the references in proportion to
    their weights. Shorter references loop to fill the output.
    """
    from musicapp.audio.io import resample

    sources = melody_sources(cond.materials)
    shares = normalise([m.reference.weight for m in sources])
    out = np.zeros(n_samples, dtype=np.float32)
    for mat, share in zip(sources, shares, strict=True):
        mono = mat.mix.mean(axis=0, keepdims=True).astype(np.float32)
        if mat.sample_rate != sample_rate:
            mono = resample(mono, mat.sample_rate, sample_rate)
        x = mono[0]
        rms = float(np.sqrt(np.mean(x**2))) if x.size else 0.0
        if rms < 1e-8:
            continue
        reps = int(np.ceil(n_samples / x.size))
        out += share * np.tile(x / rms, reps)[:n_samples]
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    return out / peak if peak > 0 else out
