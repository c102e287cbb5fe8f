"""Embedding the catalogue: a resumable job, cached by content, with category labels.

What a run finishes stays finished: each batch of songs is committed before the next starts, so
a cancelled or crashed run resumes where it stopped. Audio is analysed once per distinct audio
(descriptors are keyed by its sha256) and text embedded once per distinct description.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from musicapp.core import InvalidInput
from musicapp.jobs import CancelToken, Progress, ProgressCallback
from musicapp.selection.describe import FEATURES_VERSION, Descriptors, describe_audio, description
from musicapp.selection.store import SelectionStore, files_sha256, text_sha256
from musicapp.selection.types import FACETS

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.core import Song
    from musicapp.selection.embedders import Embedders, TextEmbedder

log = logging.getLogger(__name__)

BATCH = 32
MIN_Z = 0.5  # how far above the catalogue's mean match a song must be to get a label

# What each category label means, in the words a zero-shot match compares songs with (CLAP's
# text encoder, or MiniLM against the song descriptions).
LABEL_PROMPTS: dict[str, dict[str, str]] = {
    "mood": {
        "happy": "happy, cheerful, bright, joyful, playful music in a major key",
        "sad": "sad, melancholic, sorrowful, mournful slow music in a minor key",
        "energetic": "energetic, lively, fast, driving music with many notes",
        "nostalgic": "nostalgic, wistful, tender, sentimental old song",
        "angry": "angry, aggressive, furious music: distorted guitars, shouting, heavy drums",
        "relaxed": "relaxed, calm, gentle, serene, slow and quiet music",
    },
    "situation": {
        "wedding": "music for a wedding: joyful, graceful, festive, celebratory",
        "funeral": "music for a funeral: slow, solemn, mournful, sacred hymn in a minor key",
        "birthday": "music for a birthday party: happy, playful, upbeat and bright",
        "graduation": "music for a graduation ceremony: stately, proud, triumphant march",
        "party": "party music: lively, fast dance tunes, energetic and loud",
        "church service": "music for a church service: sacred chorale, hymn, choir or organ",
    },
    "function": {
        "workout": "music for a workout: fast, energetic, driving rhythm with drums",
        "focus": "music for focus: calm, steady instrumental music, not busy",
        "sleep": "music for sleep: very slow, quiet, gentle, soft and sparse",
        "dance": "dance music: jigs, reels and dance tunes with a lively rhythm",
        "meditation": "music for meditation: serene, slow, sustained and sacred",
        "study": "background music for studying: calm, gentle piano or strings",
    },
}
assert {f: tuple(v) for f, v in LABEL_PROMPTS.items()} == FACETS

# Catalogue mood tags that name one of the mood facet's labels (the demo's, and common ones).
MOOD_TAGS = {
    "happy": "happy",
    "bright": "happy",
    "playful": "happy",
    "joyful": "happy",
    "cheerful": "happy",
    "sad": "sad",
    "melancholic": "sad",
    "mournful": "sad",
    "energetic": "energetic",
    "lively": "energetic",
    "nostalgic": "nostalgic",
    "wistful": "nostalgic",
    "tender": "nostalgic",
    "angry": "angry",
    "aggressive": "angry",
    "relaxed": "relaxed",
    "calm": "relaxed",
    "serene": "relaxed",
}


def category_prompt(category: str) -> str:
    """The words behind "facet:label" (or a bare label) for a prompt; InvalidInput if unknown."""
    facet, _, label = category.partition(":")
    if not label:
        facet, label = next(
            ((f, category) for f, v in LABEL_PROMPTS.items() if category in v), ("", "")
        )
    try:
        return LABEL_PROMPTS[facet][label]
    except KeyError:
        known = ", ".join(f"{f}:{x}" for f, v in LABEL_PROMPTS.items() for x in v)
        raise InvalidInput(f"category {category!r} is not known (choose from {known})") from None


def label_songs(song_vectors: np.ndarray, text: TextEmbedder) -> list[list[tuple[str, str, float]]]:
    """Zero-shot labels for each song (rows of `song_vectors`, in the text space): per facet, the
    label the song matches best relative to how every song matches it (scores are centred per
    label, so a label whose prompt resembles every description does not win everywhere), and a
    second one when nearly as strong."""
    out: list[list[tuple[str, str, float]]] = [[] for _ in range(len(song_vectors))]
    if not len(song_vectors):
        return out
    for facet, prompts in LABEL_PROMPTS.items():
        names = list(prompts)
        sims = song_vectors @ text.embed_texts([prompts[n] for n in names]).T
        spread = sims.std(axis=0) if len(sims) > 1 else np.ones(len(names))
        z = (sims - sims.mean(axis=0)) / np.maximum(spread, 1e-6)
        # With one song there is nothing to centre against: use the raw similarity.
        z = z if len(sims) > 1 else sims
        for i, row in enumerate(z):
            # A label is given when the song matches it clearly better than most songs do
            # (z >= MIN_Z): a facet may stay empty, and at most two labels are given.
            order = [j for j in np.argsort(-row)[:2] if row[j] >= MIN_Z]
            for rank, j in enumerate(order):
                if rank == 0 or row[j] >= row[order[0]] - 0.25:
                    out[i].append((facet, names[j], float(row[j])))
    return out


class CatalogueIndexer:
    """Embeds songs into the store with the embedders in force."""

    def __init__(self, catalog: CatalogStore, store: SelectionStore, embedders: Embedders) -> None:
        self.catalog = catalog
        self.store = store
        self.embedders = embedders

    def pending(self) -> list[str]:
        """Catalogue songs without a current text vector (not embedded, or by another model)."""
        text = self.embedders.text
        by = "audio" if self.embedders.clap is not None else "description"
        done = self.store.songs_with(text.key, by)
        return [sid for sid in self.catalog.song_ids() if sid not in done]

    def run(self, progress: ProgressCallback, cancel: CancelToken) -> int:
        todo = self.pending()
        done = 0
        for start in range(0, len(todo), BATCH):
            cancel.check()
            batch = todo[start : start + BATCH]
            self._embed(batch, cancel)
            done += len(batch)
            progress(
                Progress(done / max(len(todo), 1), "embedding", f"{done} of {len(todo)} songs")
            )
        if todo:
            self.label_all()
        return done

    def _embed(self, song_ids: Sequence[str], cancel: CancelToken) -> None:
        songs = self.catalog.songs(list(song_ids))
        clap = self.embedders.clap
        rows: list[tuple[Song, str, str]] = []  # song, audio digest, description
        audio_vectors: list[tuple[str, np.ndarray]] = []
        for sid in song_ids:
            cancel.check()
            song = songs.get(sid)
            if song is None:
                continue
            digest, desc, audio = self._measure(song)
            rows.append((song, digest, desc))
            if (
                clap is not None
                and audio is not None
                and self.store.vector(clap.key, digest) is None
            ):
                audio_vectors.append((digest, clap.embed_audio(audio, song.sample_rate)))
        if clap is not None and audio_vectors:
            self.store.put_vectors(clap.key, audio_vectors)
        text = self.embedders.text
        if clap is None:
            texts = {
                text_sha256(desc): desc
                for _, _, desc in rows
                if self.store.vector(text.key, text_sha256(desc)) is None
            }
            if texts:
                vectors = text.embed_texts(list(texts.values()))
                self.store.put_vectors(text.key, zip(texts, vectors, strict=True))
        for song, digest, desc in rows:
            self.store.put_song(song.id, digest, desc)

    def _measure(self, song: Song) -> tuple[str, str, np.ndarray | None]:
        """The song's audio digest, its description, and its audio when it was read. A song
        whose audio cannot be read (a damaged or missing file) is described by its metadata
        alone, and said so in the log: one bad file must not stop the catalogue's prompts."""
        try:
            return self._measure_audio(song)
        except (InvalidInput, OSError) as exc:
            log.warning("song %s: described without its audio: %s", song.id, exc)
            return "", description(song, None), None

    def _measure_audio(self, song: Song) -> tuple[str, str, np.ndarray | None]:
        files = list(self.catalog.audio_files(song.id).values())
        if not files:
            return "", description(song, None), None
        digest = files_sha256(files)
        cached = self.store.descriptors(digest, FEATURES_VERSION)
        audio = None
        if cached is None or self.embedders.clap is not None:
            audio = self.catalog.load_audio(song.id)
        if cached is None:
            assert audio is not None
            d = describe_audio(audio, song.sample_rate, song.tempo_bpm, song.key)
            self.store.put_descriptors(
                digest,
                FEATURES_VERSION,
                (d.tempo_bpm, d.minor, d.loudness_db, d.brightness_hz, d.density),
                d.features,
            )
        else:
            values, features = cached
            d = Descriptors(*values, features)
        return digest, description(song, d), audio

    def label_all(self) -> None:
        """Label every recorded song again: the labels are relative to the whole catalogue.
        A mood the catalogue's own tags name (`MOOD_TAGS`) is taken from the tags, which
        the rights holders or the label wrote; the zero-shot guess fills in the rest."""
        text = self.embedders.text
        by = "audio" if self.embedders.clap is not None else "description"
        vids, vectors = self.store.song_vectors(text.key, by)
        if not len(vids):
            return
        names = self.store.song_ids(vids)
        labels = label_songs(vectors, text)
        source = f"zero-shot ({text.name})"
        rows: list[tuple[str, str, str, float, str]] = []
        ids = [names[int(v)] for v in vids]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            songs = self.catalog.songs(chunk)
            for sid, song_labels in zip(chunk, labels[start : start + 500], strict=True):
                song = songs.get(sid)
                tagged = (
                    sorted({MOOD_TAGS[m] for m in song.moods if m in MOOD_TAGS}) if song else []
                )
                rows += [(sid, "mood", label, 1.0, "catalogue tags") for label in tagged]
                rows += [
                    (sid, facet, label, score, source)
                    for facet, label, score in song_labels
                    if not (facet == "mood" and tagged)
                ]
        self.store.put_labels(rows)
