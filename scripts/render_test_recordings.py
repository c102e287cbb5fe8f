"""Render the test recordings in tests/data/recordings: two multitrack songs and a DI guitar.

    python scripts/render_test_recordings.py [--out DIR] [--seed 11] [--plots DIR]

Needs the FluidR3 General MIDI soundfont from Debian (apt-get install fluid-soundfont-gm).
The same seed gives the same files. Writes each song's full mix and stems (FLAC, 16-bit,
stereo), the DI take, manifest.csv / manifest.json (the import manifest format) and facts.json
(what musicapp.testing.recordings measures on the written files). README.md and LICENSE in the
folder are written by hand.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

# Run from a checkout: its helper package (scripts/recordings) and the checkout's own musicapp.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from recordings import production as prod  # noqa: E402
from recordings.parts import Part, bar_s, humanise  # noqa: E402
from recordings.songs import (  # noqa: E402
    CONSENT,
    EXCERPT_BARS,
    RENDER_BARS,
    Song,
    di_take,
    song_a,
    song_b,
)
from recordings.synth import Renderer  # noqa: E402

from musicapp.testing import recordings as measure  # noqa: E402

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "recordings"
TAIL_S = 3.0  # rendered past the last bar so releases and reverbs ring out
DI_FILE = "di-guitar.flac"


def render_parts(
    parts: tuple[Part, ...], song: Song, renderer: Renderer, seed: list[int]
) -> dict[str, np.ndarray]:
    """Every part played (humanised with its own random stream) and rendered alone, plus the
    drum overheads: the whole kit as played, in the kit's stereo image."""
    n = round((RENDER_BARS * bar_s(song.bpm) + TAIL_S) * song.rate)
    played: dict[str, np.ndarray] = {}
    kit_events = []
    for i, part in enumerate(parts):
        events = humanise(part, song.bpm, song.swing, np.random.default_rng([*seed, i]))
        played[part.name] = renderer.render(events, n, part.program, part.drums)
        if part.drums:
            kit_events += events
            kit = part.program
    if kit_events:
        played["drums-overheads"] = renderer.render(kit_events, n, kit, drums=True)
    return played


def excerpt_span(song: Song) -> tuple[int, int]:
    first, count = EXCERPT_BARS
    return round(first * bar_s(song.bpm) * song.rate), round(count * bar_s(song.bpm) * song.rate)


def rests_s(song: Song, stem: str) -> list[tuple[float, float]]:
    """A stem's rests by design, in seconds from the excerpt's start, cut to the excerpt."""
    first, count = EXCERPT_BARS
    out = []
    for start, end in song.rests_bars.get(stem, ()):
        lo, hi = max(start - first, 0.0), min(end - first, float(count))
        if hi > lo:
            out.append((lo * bar_s(song.bpm), hi * bar_s(song.bpm)))
    return out


def write(path: Path, audio: np.ndarray, sr: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio.T, sr, subtype="PCM_16", format="FLAC", compression_level=1.0)


def make_song(song: Song, index: int, seed: int, soundfont: Path, out: Path) -> dict[str, str]:
    """Render, produce, mix and write one song; its files by stem name ("mix" for the mix)."""
    renderer = Renderer(soundfont, song.rate)
    played = render_parts(song.parts, song, renderer, [seed, index])
    produce = prod.produce_a if song.slug == "song-a" else prod.produce_b
    stems = prod.print_stems(song.slug, produce(played, song.rate, song.bpm))
    full = prod.mix(song.slug, stems, song.rate)
    start, n = excerpt_span(song)
    files = {}
    for name, audio in {"mix": full, **stems}.items():
        rel = f"{song.slug}/{name}.flac"
        write(out / rel, prod.excerpt(audio, start, n, song.rate), song.rate)
        files[name] = rel
    return files


def make_di(seed: int, soundfont: Path, out: Path) -> str:
    """The DI take in song A's key, tempo and rate, cut at song A's excerpt."""
    song = song_a()
    renderer = Renderer(soundfont, song.rate)
    played = render_parts((di_take(),), song, renderer, [seed, 99])
    rng = np.random.default_rng([seed, 99, 1])
    start, n = excerpt_span(song)
    write(
        out / DI_FILE,
        prod.excerpt(prod.di_signal(played["di"], song.rate, rng), start, n, song.rate),
        song.rate,
    )
    return DI_FILE


def facts(
    songs: list[Song], files: dict[str, dict[str, str]], out: Path, seed: int, soundfont: Path
) -> dict:
    """facts.json: every file measured as written, each song's mix against its stems, and the
    tone distances between the guitars."""
    by_file: dict[str, dict] = {}
    for song in songs:
        for name, rel in files[song.slug].items():
            by_file[rel] = measure.file_facts(out / rel, rests_s(song, name))
    by_file[DI_FILE] = measure.file_facts(out / DI_FILE)
    song_facts = {}
    for song in songs:
        mix_audio, _ = measure.read(out / files[song.slug]["mix"])
        stems = [
            measure.read(out / rel)[0] for name, rel in files[song.slug].items() if name != "mix"
        ]
        song_facts[song.slug] = {
            "title": song.title,
            "tempo_bpm": song.bpm,
            "key": song.key,
            "meter": "4/4",
            "first_downbeat_s": 0.0,
            "bars": EXCERPT_BARS[1],
            "mix": files[song.slug]["mix"],
            "stems": {k: v for k, v in files[song.slug].items() if k != "mix"},
            "mix_against_stems": measure.mix_against_stems(mix_audio, stems),
        }
    spectra = {
        rel: by_file[rel]["third_octave_db"]
        for rel in ("song-a/guitar.flac", "song-b/guitar.flac", DI_FILE)
    }

    def distance(a: str, b: str) -> float:
        return round(measure.spectrum_distance_db(spectra[a], spectra[b]), 2)

    return {
        "generated_by": f"python scripts/render_test_recordings.py --seed {seed}",
        "soundfont": soundfont.name,
        "soundfont_sha256": hashlib.sha256(soundfont.read_bytes()).hexdigest(),
        "files": by_file,
        "songs": song_facts,
        "di": {
            "file": DI_FILE,
            "plays_over": "song-a",
            "tempo_bpm": songs[0].bpm,
            "key": songs[0].key,
            "tone_match_target": "song-b/guitar.flac",
        },
        "tone": {
            "bands_hz": [round(float(f), 1) for f in measure.THIRD_OCTAVE_HZ],
            "method": "musicapp.testing.recordings.spectrum_distance_db of third_octave_db",
            "guitar_a_to_guitar_b_db": distance("song-a/guitar.flac", "song-b/guitar.flac"),
            "di_to_guitar_a_db": distance(DI_FILE, "song-a/guitar.flac"),
            "di_to_guitar_b_db": distance(DI_FILE, "song-b/guitar.flac"),
        },
    }


def manifests(songs: list[Song], files: dict[str, dict[str, str]], out: Path) -> None:
    """manifest.csv and manifest.json, in the format musicapp.catalog.manifest reads."""
    rows = []
    for song in songs:
        stems = {k: v for k, v in files[song.slug].items() if k != "mix"}
        rows.append(
            {
                "file": files[song.slug]["mix"],
                "title": song.title,
                "artist": song.artist,
                "album": song.album,
                "genre": song.genre,
                "year": song.year,
                "instruments": ";".join(song.stems[k].instrument for k in stems),
                "rights_holders": song.holders,
                **CONSENT,
                "stems": ";".join(f"{k}={v}" for k, v in stems.items()),
            }
        )
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    songs_json = []
    for song, row in zip(songs, rows, strict=True):
        stems = [
            {"name": k, "file": v, **vars(song.stems[k])}
            for k, v in files[song.slug].items()
            if k != "mix"
        ]
        songs_json.append({**row, "stems": stems})
    (out / "manifest.json").write_text(
        json.dumps({"songs": songs_json}, indent=2) + "\n", encoding="utf-8"
    )


def dump(data: dict) -> str:
    """JSON with one level of indent per object, and lists of numbers kept on one line."""
    text = json.dumps(data, indent=1)
    return re.sub(r"\[[-\d.,\s]*\]", lambda m: json.dumps(json.loads(m.group(0))), text) + "\n"


def plots(out: Path, folder: Path) -> None:
    """A spectrogram of every file (PNG), for looking at what the numbers say."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(out.rglob("*.flac")):
        audio, sr = measure.read(path)
        fig, axes = plt.subplots(audio.shape[0], 1, figsize=(10, 3 * audio.shape[0]), squeeze=False)
        for ch, ax in enumerate(axes[:, 0]):
            ax.specgram(
                audio[ch], NFFT=2048, Fs=sr, noverlap=1536, cmap="magma", vmin=-140, vmax=-20
            )
            ax.set_ylabel(f"{'LR'[ch] if audio.shape[0] == 2 else 'mono'} Hz")
        axes[0, 0].set_title(str(path.relative_to(out)))
        fig.tight_layout()
        fig.savefig(folder / (str(path.relative_to(out)).replace("/", "_") + ".png"), dpi=70)
        plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--soundfont", type=Path, default=SOUNDFONT)
    parser.add_argument("--plots", type=Path, help="also write a spectrogram PNG per file here")
    args = parser.parse_args(argv)
    if not args.soundfont.is_file():
        print(
            f"soundfont {args.soundfont}: not found (apt-get install fluid-soundfont-gm)",
            file=sys.stderr,
        )
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    songs = [song_a(), song_b()]
    files = {
        s.slug: make_song(s, i, args.seed, args.soundfont, args.out) for i, s in enumerate(songs)
    }
    make_di(args.seed, args.soundfont, args.out)
    manifests(songs, files, args.out)
    data = facts(songs, files, args.out, args.seed, args.soundfont)
    (args.out / "facts.json").write_text(dump(data), encoding="utf-8")
    if args.plots:
        plots(args.out, args.plots)
    tone = {k: v for k, v in data["tone"].items() if k.endswith("_db")}
    print(f"wrote {args.out}: tone distances {tone}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
