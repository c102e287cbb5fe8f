"""A synthetic catalogue of up to millions of songs, for benchmarks; not part of the demo.

Titles and artist names draw words from Zipf-distributed vocabularies (a few words are very
common, as "love" and "the" are in real titles); artists' song counts are Zipf too, so some
genres, artists and instruments are huge and most are small, as in a real library. Songs have
metadata, rights holders, splits and stem rows but no audio files: `load_audio` of a synthetic
song raises CatalogError naming the missing file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from musicapp.catalog.store import CatalogStore
from musicapp.config import CATALOGUE_RATE

COMMON_WORDS = (
    "the love you me my a i of in to night heart baby time world day dream fire light way "
    "man girl home blue life rain sun soul go all down little song back on your we one be "
    "away dance road moon star city street river wild gold black red sweet summer tonight "
    "forever never no more yesterday tomorrow lonely broken crazy free run rock roll "
    "midnight morning angel devil paradise heaven blues shadow memory lady king queen"
).split()
GENRES = {
    "Rock": ["Classic Rock", "Indie Rock", "Punk", "Hard Rock", "Alternative"],
    "Pop": ["Synth-pop", "Dance Pop", "Teen Pop", "Art Pop"],
    "Jazz": ["Bebop", "Swing", "Cool Jazz", "Fusion", "Free Jazz"],
    "Classical": ["Baroque", "Romantic", "Modern", "Chamber"],
    "Folk": ["Celtic", "Americana", "Singer-songwriter"],
    "Hip Hop": ["Boom Bap", "Trap", "Conscious"],
    "Electronic": ["House", "Techno", "Ambient", "Drum and Bass", "Trance"],
    "Country": ["Bluegrass", "Honky-tonk", "Outlaw"],
    "Blues": ["Delta Blues", "Chicago Blues", "Electric Blues"],
    "R&B": ["Soul", "Funk", "Neo-soul"],
    "Reggae": ["Roots", "Dub", "Dancehall"],
    "Latin": ["Salsa", "Bossa Nova", "Reggaeton", "Tango"],
    "Metal": ["Heavy Metal", "Thrash", "Doom", "Black Metal"],
    "World": ["Afrobeat", "Fado", "Flamenco", "Klezmer"],
    "Soundtrack": ["Film Score", "Video Game", "Musical"],
    "Gospel": ["Traditional Gospel", "Contemporary Gospel"],
    "Chanson": ["Variété", "Cabaret"],
    "Disco": ["Nu-disco", "Italo"],
    "Children's": ["Lullaby", "Nursery"],
    "Experimental": ["Noise", "Musique concrète", "Minimalism"],
}
COUNTRIES = {
    "United States": ["California", "New York", "Tennessee", "Texas", "Louisiana", "Illinois"],
    "United Kingdom": ["London", "Manchester", "Liverpool", "Glasgow", "Bristol"],
    "Germany": ["Berlin", "Hamburg", "München", "Köln"],
    "France": ["Paris", "Lyon", "Marseille"],
    "Brazil": ["Rio de Janeiro", "São Paulo", "Bahia"],
    "Jamaica": ["Kingston", "Montego Bay"],
    "Japan": ["Tokyo", "Osaka"],
    "Sweden": ["Stockholm", "Göteborg"],
    "Canada": ["Toronto", "Montréal", "Vancouver"],
    "Nigeria": ["Lagos", "Abuja"],
    "Ireland": ["Dublin", "Cork"],
    "Cuba": ["Havana"],
    "Spain": ["Madrid", "Sevilla", "Barcelona"],
    "Italy": ["Roma", "Milano", "Napoli"],
    "Australia": ["Sydney", "Melbourne"],
}
INSTRUMENTS = {
    "guitar": ["Acoustic Guitar", "Electric Guitar", "Nylon Guitar"],
    "bass": ["Electric Bass", "Double Bass", "Synth Bass"],
    "drums": ["Drum Kit", "Percussion", "Drum Machine"],
    "piano": ["Grand Piano", "Electric Piano"],
    "voice": ["Lead Vocals", "Backing Vocals", "Choir"],
    "strings": ["Violin", "Cello", "String Section"],
    "brass": ["Trumpet", "Trombone", "Horn Section"],
    "winds": ["Saxophone", "Flute", "Clarinet"],
    "synth": ["Lead Synth", "Pad"],
    "organ": ["Hammond Organ", "Church Organ"],
}
_FIRST = (
    "John Mary James Anna Robert Linda Michael Sarah David Laura Carlos Sofia Kenji Yuki Amara "
    "Lars Ingrid Pierre Chloé Ana Luis Fatima Omar Zoë Björn Noah Emma Liam Olivia Jean"
).split()
_LAST = (
    "Smith Johnson Brown Taylor Wilson Davies Müller Schmidt Dubois Martin Silva Santos "
    "Tanaka Sato Okafor Adeyemi Larsson Nilsson Rossi García López Murphy Kelly Novak Costa"
).split()
_SYLLABLES = "ka lo mi ra ne to su vi da lin mar bel tor sen ric hal por zen qua fel".split()


@dataclass(frozen=True)
class SyntheticSpec:
    """The size and shape of a synthetic catalogue."""

    songs: int = 1_000_000
    artists: int | None = None  # default: one per ten songs, at most 100,000
    vocabulary: int = 20_000  # at most 100,000
    unknown_year: float = 0.03  # share of songs with no year
    unknown_country: float = 0.05
    seed: int = 7

    @property
    def artist_count(self) -> int:
        """Artists to spread the songs over."""
        return self.artists or max(10, min(100_000, self.songs // 10))


def _words(n: int, rng: random.Random) -> list[str]:
    words = list(COMMON_WORDS)
    seen = set(words)
    while len(words) < n:
        # 20 syllables, 2 to 4 of them: 168,400 possible words.
        w = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def _zipf_index(np_rng: np.random.Generator, n: int, size: int, a: float = 1.1) -> np.ndarray:
    """Indices in [0, n) with P(k) ∝ 1/(k+1)^a: index 0 the most frequent."""
    weights = 1.0 / np.arange(1, n + 1) ** a
    return np_rng.choice(n, size=size, p=weights / weights.sum())


def generate(spec: SyntheticSpec) -> Iterator[tuple[str, list[Any]]]:
    """The catalogue's rows by table: ("holders", rows), ("songs", rows), ...; deterministic."""
    rng = random.Random(spec.seed)
    np_rng = np.random.default_rng(spec.seed)
    vocab = _words(spec.vocabulary, rng)
    genres = list(GENRES)
    countries = list(COUNTRIES)
    families = list(INSTRUMENTS)

    n_artists = spec.artist_count
    artist_genre = _zipf_index(np_rng, len(genres), n_artists, 0.8)
    artist_country = _zipf_index(np_rng, len(countries), n_artists, 1.0)
    artist_start = np_rng.integers(1920, 2020, n_artists)
    name_words = _zipf_index(np_rng, len(vocab), 2 * n_artists)
    artists, holders = [], []
    for i in range(n_artists):
        if rng.random() < 0.4:
            name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)} {i}"
        else:
            picks = name_words[2 * i : 2 * i + rng.randint(1, 2)]
            name = "The " + " ".join(vocab[k].capitalize() for k in picks) + f" {i}"
        g = genres[artist_genre[i]]
        c = countries[artist_country[i]]
        region = "" if rng.random() < spec.unknown_country else rng.choice(COUNTRIES[c])
        artists.append((name, g, rng.choice(GENRES[g]), c, region, int(artist_start[i])))
        holders.append((f"syn-h{i}", name, "performer"))
    n_publishers = max(5, n_artists // 50)
    holders += [(f"syn-p{i}", f"Publisher {i}", "publisher") for i in range(n_publishers)]
    yield "holders", holders

    song_artist = np.sort(_zipf_index(np_rng, n_artists, spec.songs, 1.0))
    title_words = _zipf_index(np_rng, len(vocab), spec.songs * 4, 1.05)
    title_len = np_rng.integers(1, 5, spec.songs)
    stem_counts = np_rng.integers(1, 5, spec.songs)
    inst_family = _zipf_index(np_rng, len(families), int(stem_counts.sum()), 0.7)
    added = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    songs, splits, stems, fts = [], [], [], []
    f_pos = 0
    for j in range(spec.songs):
        a = int(song_artist[j])
        name, g, sub, c, region, start = artists[a]
        sid = f"syn-{j:07d}"
        t = title_words[4 * j : 4 * j + title_len[j]]
        title = " ".join(vocab[k] for k in t).capitalize()
        album_no = rng.randint(1, 1 + j % 7)
        album = f"{vocab[int(t[0])].capitalize()} Vol. {album_no}"
        no_year = rng.random() < spec.unknown_year
        year = None if no_year else min(2025, start + rng.randint(0, 30))
        no_country = rng.random() < spec.unknown_country
        instruments, songs_stems = [], []
        for p in range(int(stem_counts[j])):
            fam = families[int(inst_family[f_pos + p])]
            inst = rng.choice(INSTRUMENTS[fam])
            instruments.append(inst)
            songs_stems.append((sid, f"stem{p}", inst, fam, "melody", p))
        f_pos += int(stem_counts[j])
        stems += songs_stems
        songs.append(
            {
                "id": sid,
                "title": title,
                "artist": name,
                "album": album,
                "genre": g,
                "subgenre": sub,
                "year": year,
                "era": "" if year is None else f"{year // 10 * 10}s",
                "country": "" if no_country else c,
                "region": "" if no_country else region,
                "instruments": "[" + ", ".join(f'"{i}"' for i in instruments) + "]",
                "moods": "[]",
                "duration_s": 120.0 + (j % 240),
                "tempo_bpm": 60.0 + (j % 120),
                "key": "",
                "mix_gain": 1.0,
                "added_at": added,
                "sample_rate": CATALOGUE_RATE,
                "beats_per_bar": 4,
                "downbeat_s": 0.0,
            }
        )
        publisher = f"syn-p{j % n_publishers}"
        if j % 3:
            splits.append((sid, f"syn-h{a}", 0.5, 0))
            splits.append((sid, publisher, 0.5, 1))
        else:
            splits.append((sid, f"syn-h{a}", 1.0, 0))
        tags = " ".join([*instruments, songs[-1]["era"], songs[-1]["country"], region])
        fts.append(
            {
                "song_id": sid,
                "title": title,
                "artist": name,
                "album": album,
                "genre": g,
                "subgenre": sub,
                "tags": tags + ("" if year is None else f" {year}"),
            }
        )
    yield "songs", songs
    yield "splits", splits
    yield "stems", stems
    yield "fts", fts


def build(store: CatalogStore, spec: SyntheticSpec) -> None:
    """Fill an empty store with a synthetic catalogue, in one transaction."""
    tables = dict(generate(spec))
    store.bulk_insert(
        tables["holders"], tables["songs"], tables["splits"], tables["stems"], tables["fts"]
    )
