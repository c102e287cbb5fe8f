"""The music of the test recordings, written for them: two songs and a DI guitar take.

Song A ("Glass Tidewater"): indie pop in A major at 136 BPM, a ringing clean guitar arpeggio,
fingered bass, Rhodes and a lightly swung kit. Song B ("Iron Orchard"): rock in E minor at
140 BPM, a palm-muted power-chord riff played twice (one take per side), picked bass, a rock
organ that comes in on the second bar of the excerpt, and a power kit. The DI take strums
chords in song A's key and tempo. Every song renders 9 bars; the excerpt is bars 4-7, so it
starts on a downbeat with the band already playing and ends while it still plays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from recordings.parts import Note, Part, repeat_bars, strum

RENDER_BARS = 9
EXCERPT_BARS = (4, 4)  # first bar, number of bars
CONSENT = {
    "permissions": "song_level;parameter_level;audio_level",
    "uses": "private;non_commercial;commercial",
}


@dataclass(frozen=True)
class StemInfo:
    instrument: str
    family: str
    role: str


@dataclass(frozen=True)
class Song:
    """A song's metadata, its parts and where it rests by design."""

    slug: str
    title: str
    artist: str
    album: str
    genre: str
    year: int
    holders: str  # the manifest's "Name:share;Name:share"
    rate: int
    bpm: float
    key: str
    swing: float
    parts: tuple[Part, ...]
    stems: dict[str, StemInfo]
    rests_bars: dict[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)


# Song A -------------------------------------------------------------------------------------

A_ROOTS = (33, 37, 38, 40)  # A1, C#2, D2, E2: A, C#m7, Dmaj7, Esus4-E
A_SCALE = {9, 11, 1, 2, 4, 6, 8}  # A major pitch classes
A_ARPEGGIO = (
    (57, 64, 69, 71, 73, 76),  # A add9
    (56, 61, 64, 68, 71, 76),  # C#m7
    (57, 62, 66, 69, 73, 76),  # Dmaj9
    (59, 64, 69, 71, 76, 76),  # Esus4 (second half resolves to E below)
)
A_E_MAJOR = (59, 64, 68, 71, 76, 76)
A_PATTERN = (0, 2, 4, 3, 1, 3, 5, 3, 0, 2, 4, 3, 1, 4, 5, 2)  # voicing index per sixteenth
A_RHODES = ((57, 61, 64, 68), (56, 59, 61, 64), (57, 61, 62, 66), (56, 59, 64, 66))
A_DI_CHORDS = (
    (45, 52, 57, 61, 64),  # A, open
    (49, 56, 61, 64, 68),  # C#m, barre at the fourth fret
    (50, 57, 62, 66),  # D, open
    (40, 47, 52, 56, 59, 64),  # E, open
)
A_DI_STRUMS = ((0.0, True), (1.0, True), (1.5, False), (2.5, False), (3.0, True), (3.5, False))


def _a_guitar(bar: int) -> list[Note]:
    chord = bar % 4
    notes = []
    for step, index in enumerate(A_PATTERN):
        voicing = A_E_MAJOR if chord == 3 and step >= 8 else A_ARPEGGIO[chord]
        velocity = 86 if step % 4 == 0 else 72 if step % 2 == 0 else 62
        notes.append(Note(step / 4, 0.8, voicing[index], velocity + (bar % 2) * 4))
    return notes


def _approach(next_root: int, scale: set[int]) -> int:
    """The last eighth before a chord change: a scale step below its root, else a half step."""
    return next_root - 2 if (next_root - 2) % 12 in scale else next_root - 1


def _a_bass(bar: int) -> list[Note]:
    root, next_root = A_ROOTS[bar % 4], A_ROOTS[(bar + 1) % 4]
    return [
        Note(0.0, 1.4, root, 100),
        Note(1.5, 0.45, root, 78),
        Note(2.0, 0.9, root + 7, 90),
        Note(3.0, 0.45, root + 12, 84),
        Note(3.5, 0.45, _approach(next_root, A_SCALE), 80),
    ]


def _a_keys(bar: int) -> list[Note]:
    chord = A_RHODES[bar % 4]
    return (
        strum(0.0, 1.4, chord, 70, spread_ms=3)
        + strum(1.5, 0.4, chord, 56, spread_ms=3)
        + strum(2.5, 1.4, chord, 64, spread_ms=3)
    )


def _a_drums(bar: int) -> dict[str, list[Note]]:
    fill = bar % 4 == 3 and bar < EXCERPT_BARS[0]
    kick = [Note(b, 0.25, 36, 104) for b in (0.0, 2.0, 2.5)]
    if bar % 4 == 3:
        kick.append(Note(3.75, 0.25, 36, 88))
    snare = [Note(1.0, 0.25, 38, 100), Note(3.0, 0.25, 38, 104)]
    snare += [Note(1.75, 0.2, 38, 30), Note(2.75, 0.2, 38, 26)]
    hats = []
    for step in range(12 if fill else 16):
        if step == 14:
            hats.append(Note(3.5, 0.5, 46, 74))  # open hat into the next bar
        elif step != 15:
            velocity = 88 if step % 4 == 0 else 68 if step % 2 == 0 else 44
            hats.append(Note(step / 4, 0.2, 42, velocity))
    toms = [Note(3.0 + i / 4, 0.3, k, 96 - 4 * i) for i, k in enumerate((50, 48, 45, 43))]
    cymbals = [Note(0.0, 4.0, 49, 100)] if bar % 4 == 0 else []
    return {
        "kick": kick,
        "snare": snare,
        "hats": hats,
        "toms": toms if fill else [],
        "cymbals": cymbals,
    }


def song_a() -> Song:
    bars = range(RENDER_BARS)
    drums = [_a_drums(b) for b in bars]
    parts = [
        Part("guitar", "guitar", 27, repeat_bars(_a_guitar(b) for b in bars), jitter_ms=5),
        Part("bass", "bass", 33, repeat_bars(_a_bass(b) for b in bars), jitter_ms=4),
        Part("keys", "keys", 4, repeat_bars(_a_keys(b) for b in bars), jitter_ms=6),
    ]
    for mic in ("kick", "snare", "hats", "toms", "cymbals"):
        notes = repeat_bars(d[mic] for d in drums)
        parts.append(Part(f"drums-{mic}", "drums", 0, notes, drums=True, jitter_ms=3))
    return Song(
        slug="song-a",
        title="Glass Tidewater",
        artist="Marrow & Lune",
        album="Test Recordings",
        genre="Indie pop",
        year=2025,
        holders="Ada Marrow:0.5;Lune Okafor:0.5",
        rate=44100,
        bpm=136.0,
        key="A major",
        swing=0.56,
        parts=tuple(parts),
        stems={
            "guitar": StemInfo("clean electric guitar", "guitar", "harmony"),
            "bass": StemInfo("fingered electric bass", "bass", "bass"),
            "drums": StemInfo("drum kit", "drums", "rhythm"),
            "keys": StemInfo("electric piano", "keyboard", "harmony"),
        },
    )


def di_take() -> Part:
    """Strummed open chords over song A's changes, as a producer would play them into an
    interface: no amp, no effects."""
    bars = []
    for bar in range(RENDER_BARS):
        chord = A_DI_CHORDS[bar % 4]
        notes: list[Note] = []
        starts = [s for s, _ in A_DI_STRUMS] + [4.0]
        for (beat, down), nxt in zip(A_DI_STRUMS, starts[1:], strict=False):
            notes += strum(beat, nxt - beat, chord, 92 if down else 70, down, spread_ms=9)
        bars.append(notes)
    return Part("di", "di", 27, repeat_bars(bars), jitter_ms=7, velocity_sd=8)


# Song B -------------------------------------------------------------------------------------

B_ROOT = {"E": 40, "G": 43, "A": 45, "B": 47, "C": 48, "D": 50}
# The riff in eighths, one string per bar: a capital is an open power chord on that root, a
# small letter the same chord palm-muted, "~" holds the chord before it.
B_RIFF = ("e e G e e e A G", "C ~ c c D c c B", "G ~ g g g A g g", "D ~ ~ d d C B b")


def _riff_steps(bar: str) -> list[tuple[int, int, int, bool]]:
    """(eighth, length in eighths, root key, palm muted) of each chord in a riff bar."""
    steps: list[tuple[int, int, int, bool]] = []
    for i, token in enumerate(bar.split()):
        if token == "~":
            step, length, key, palm = steps[-1]
            steps[-1] = (step, length + 1, key, palm)
        else:
            steps.append((i, 1, B_ROOT[token.upper()], token.islower()))
    return steps


B_ORGAN = ((55, 59, 64, 67), (55, 60, 64, 67), (55, 59, 62, 67), (54, 57, 62, 66))
B_ORGAN_FROM_BAR = 5  # the organ comes in on the excerpt's second bar


def _b_riff(bar: int, muted: bool) -> list[Note]:
    if bar == RENDER_BARS - 1:  # the last bar: one ringing E5
        return [] if muted else strum(0.0, 3.8, (40, 47, 52), 110, spread_ms=5)
    notes: list[Note] = []
    for step, length, key, palm in _riff_steps(B_RIFF[bar % 4]):
        if palm != muted:
            continue
        accent = 8 if step % 2 == 0 else 0
        if palm:
            notes += strum(step / 2, 0.42, (key, key + 7), 88 + accent, spread_ms=3)
        else:
            notes += strum(step / 2, length / 2 - 0.05, (key, key + 7, key + 12), 104 + accent)
    return notes


def _b_bass(bar: int) -> list[Note]:
    if bar == RENDER_BARS - 1:
        return [Note(0.0, 3.8, 28, 104)]
    return [
        Note(step / 2, 0.45 if palm else length / 2 - 0.05, key - 12, 90 if palm else 98)
        for step, length, key, palm in _riff_steps(B_RIFF[bar % 4])
    ]


def _b_keys(bar: int) -> list[Note]:
    if bar < B_ORGAN_FROM_BAR:
        return []
    chord = B_ORGAN[bar % 4]
    if bar == RENDER_BARS - 1:
        return strum(0.0, 3.9, B_ORGAN[0], 96, spread_ms=2)
    return strum(0.0, 2.4, chord, 96, spread_ms=2) + strum(2.5, 1.45, chord, 90, spread_ms=2)


def _b_drums(bar: int) -> dict[str, list[Note]]:
    last, fill = bar == RENDER_BARS - 1, bar == EXCERPT_BARS[0] - 1
    kick = [Note(0.0, 0.25, 36, 110)]
    if not last:
        kick += [Note(b, 0.25, 36, 100) for b in (2.0, 2.5)]
        if bar % 4 == 3:
            kick.append(Note(3.75, 0.25, 36, 92))
    snare = [] if last else [Note(1.0, 0.25, 38, 116), Note(3.0, 0.25, 38, 118)]
    if fill:
        snare = [Note(1.0, 0.25, 38, 116)] + [
            Note(2 + i / 4, 0.2, 38, 70 + 10 * i) for i in range(4)
        ]
    ride = bar in (6, 7)
    hats = (
        []
        if last or ride
        else [Note(i / 2, 0.2, 42, 96 if i % 2 == 0 else 70) for i in range(6 if fill else 8)]
    )
    cymbals = [Note(i / 2, 0.4, 51, 92 if i % 2 == 0 else 72) for i in range(8)] if ride else []
    if bar in (0, 4, 8):
        cymbals.append(Note(0.0, 4.0, 49, 112))
    if bar == 6:
        cymbals.append(Note(0.0, 4.0, 57, 110))
    toms = [Note(3.0 + i / 4, 0.3, k, 108 - 4 * i) for i, k in enumerate((48, 47, 45, 43))]
    return {
        "kick": kick,
        "snare": snare,
        "hats": hats,
        "toms": toms if fill else [],
        "cymbals": cymbals,
    }


def song_b() -> Song:
    bars = range(RENDER_BARS)
    drums = [_b_drums(b) for b in bars]
    parts = []
    # The riff is tracked twice, one take for each side, as rock guitars are.
    for side in ("left", "right"):
        for muted, program in ((True, 28), (False, 27)):
            notes = repeat_bars(_b_riff(b, muted) for b in bars)
            kind = "muted" if muted else "open"
            parts.append(Part(f"guitar-{side}-{kind}", "guitar", program, notes, jitter_ms=5))
    parts += [
        Part("bass", "bass", 34, repeat_bars(_b_bass(b) for b in bars), jitter_ms=4),
        Part("keys", "keys", 18, repeat_bars(_b_keys(b) for b in bars), jitter_ms=5),
    ]
    for mic in ("kick", "snare", "hats", "toms", "cymbals"):
        push = 8.0 if mic == "snare" else 0.0  # a laid-back backbeat
        notes = repeat_bars(d[mic] for d in drums)
        parts.append(
            Part(f"drums-{mic}", "drums", 16, notes, drums=True, jitter_ms=3, push_ms=push)
        )
    return Song(
        slug="song-b",
        title="Iron Orchard",
        artist="Kestrel Drive",
        album="Test Recordings",
        genre="Rock",
        year=2025,
        holders="Kestrel Drive Music:0.6;Tomas Vey:0.4",
        rate=48000,
        bpm=140.0,
        key="E minor",
        swing=0.5,
        parts=tuple(parts),
        stems={
            "guitar": StemInfo("overdriven electric guitar", "guitar", "harmony"),
            "bass": StemInfo("picked electric bass", "bass", "bass"),
            "drums": StemInfo("drum kit", "drums", "rhythm"),
            "keys": StemInfo("rock organ", "keyboard", "harmony"),
        },
        rests_bars={"keys": ((0.0, float(B_ORGAN_FROM_BAR)),)},
    )
