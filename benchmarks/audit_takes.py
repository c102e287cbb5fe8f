"""The audit harness's takes: weight-free (concat) takes made through the real Studio, with truth.

Each take is one `Studio.generate` call on the harness catalogue (a Settings whose data folder is
inside the work folder, local-only, private use). About 40 % are song level, 30 % parameter
level (roles melody, harmony, rhythm, timbre: one layer each) and 30 % edit the user's own audio
(half audio level, half temporal level), the user's audio being a held-out song cut to the
take's length. Each has 1-4 random references among the songs whose consent allows the level,
random weights, and a duration of 15-40 s (a quarter of the song- and parameter-level takes are
exactly 30 s: the cost figure's takes). The truth is the take's own `Provenance`: song shares,
the user's share and the timeline.

A take is drawn from its own seed (SEED, index), so the set does not depend on what was built
before; a request the studio refuses (InvalidInput, Refused) is logged and redrawn from the next
sub-seed. Takes are kept as FLAC (24 bit) beside a truth JSON and reused on the next run.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile as sf

log = logging.getLogger("audit_takes")

SEED = 1515
LEVEL_MIX = (("song", 0.40), ("parameter", 0.30), ("audio", 0.15), ("temporal", 0.15))
ROLES = ("melody", "harmony", "rhythm", "timbre")
MIN_S, MAX_S = 15.0, 40.0
COST_S = 30.0  # the duration of the takes the cost figure is measured on
# Which levels a demo consent kind allows for private use (the extra songs are all "full").
LEVELS_ALLOWED = {
    "full": {"song", "parameter", "audio", "temporal"},
    "non_commercial": {"song", "parameter", "audio", "temporal"},
    "private_only": {"song", "parameter", "audio", "temporal"},
    "one_refuses_commercial": {"song", "parameter", "audio", "temporal"},
    "song_only": {"song"},
    "no_audio": {"song", "parameter"},
}
RETRIES = 8


@dataclass(frozen=True)
class TakeRecord:
    """One take and its truth, as kept in ``takes/NNNN.json``."""

    index: int
    level: str
    path: Path
    sample_rate: int
    duration_s: float
    song_shares: dict[str, float]
    user_share: float
    timeline: tuple[Any, ...]  # core.provenance.TimelineSlot
    references: tuple[dict[str, Any], ...]
    user_audio: str  # the held-out song under the take, "" for song and parameter level
    build_s: float

    @classmethod
    def load(cls, json_path: Path) -> TakeRecord:
        from musicapp.core.provenance import Provenance

        d = json.loads(json_path.read_text())
        prov = Provenance.from_dict(d["provenance"])
        return cls(
            index=int(d["index"]),
            level=str(d["level"]),
            path=json_path.with_suffix(".flac"),
            sample_rate=int(d["sample_rate"]),
            duration_s=float(d["duration_s"]),
            song_shares=prov.song_shares(),
            user_share=prov.user_share,
            timeline=prov.timeline,
            references=tuple(d["references"]),
            user_audio=str(d.get("user_audio", "")),
            build_s=float(d.get("build_s", 0.0)),
        )


def levels_for(n: int, seed: int = SEED) -> list[str]:
    """The level of each of n takes: LEVEL_MIX's shares, in a seeded order."""
    out: list[str] = []
    for level, share in LEVEL_MIX:
        out += [level] * round(n * share)
    out = (out + ["song"] * n)[:n]
    random.Random(seed).shuffle(out)
    return out


def eligible_songs(catalogue_songs: dict[str, Any], consent: dict[str, str]) -> dict[str, list]:
    """Per level, the songs whose consent allows it (for private use), with their durations."""
    out: dict[str, list] = {lvl: [] for lvl, _ in LEVEL_MIX}
    for sid, song in sorted(catalogue_songs.items()):
        for lvl in LEVELS_ALLOWED.get(consent.get(sid, ""), set()):
            out[lvl].append(song)
    return out


def _weights(rng: random.Random, n: int) -> list[float]:
    return [round(rng.uniform(0.2, 1.0), 3) for _ in range(n)]


def draw_request(
    index: int,
    level: str,
    attempt: int,
    songs: dict[str, list],
    held_out: list[Path],
    user_dir: Path,
) -> tuple[Any, str]:
    """The request of take ``index`` at ``attempt`` (and the held-out song under it, if any)."""
    from musicapp.core import GenerationRequest, Level, Reference, Role, TimeRange, Use

    rng = random.Random(f"{SEED}-{index}-{attempt}")
    n = rng.randint(1, 4)
    picks = rng.sample(songs[level], n)
    weights = _weights(rng, n)
    duration = round(rng.uniform(MIN_S, MAX_S), 1)
    if level in ("song", "parameter") and rng.random() < 0.25:
        duration = COST_S
    if level == "song":
        refs = tuple(
            Reference(s.id, Level.SONG, weight=w) for s, w in zip(picks, weights, strict=True)
        )
        return GenerationRequest(refs, Use.PRIVATE, duration, seed=index), ""
    if level == "parameter":
        roles = rng.sample(ROLES, n)
        refs = tuple(
            Reference(s.id, Level.PARAMETER, Role(r), weight=w)
            for s, w, r in zip(picks, weights, roles, strict=True)
        )
        return GenerationRequest(refs, Use.PRIVATE, duration, seed=index), ""
    held = held_out[rng.randrange(len(held_out))]
    info = sf.info(held)
    duration = min(duration, round(info.duration - 0.5, 1))
    # Each attempt draws its own held-out song, so each has its own file (a redraw once reused
    # the first attempt's, cut to another length: its time range fell outside it).
    user_path = user_dir / (f"{index:04d}.wav" if attempt == 0 else f"{index:04d}-{attempt}.wav")
    if not user_path.exists():
        audio, sr = sf.read(held, dtype="float32", always_2d=True)
        start = rng.randint(0, max(0, len(audio) - int(duration * sr)))
        tmp = user_path.with_suffix(".part.wav")
        sf.write(tmp, audio[start : start + int(duration * sr)], sr, "PCM_16")
        tmp.rename(user_path)
    if level == "audio":
        refs = tuple(
            Reference(s.id, Level.AUDIO, weight=w) for s, w in zip(picks, weights, strict=True)
        )
        req = GenerationRequest(refs, Use.PRIVATE, duration, index, user_audio=str(user_path))
        return req, held.stem
    refs_t = []
    for s, w in zip(picks, weights, strict=True):
        length = rng.uniform(8.0, min(16.0, s.duration_s - 1.0))
        start = rng.uniform(0.0, s.duration_s - length - 0.5)
        refs_t.append(
            Reference(s.id, Level.TEMPORAL, time_range=TimeRange(start, start + length), weight=w)
        )
    span = rng.uniform(0.3, 0.7) * duration
    u0 = rng.uniform(0.0, duration - span)
    req = GenerationRequest(
        tuple(refs_t),
        Use.PRIVATE,
        duration,
        index,
        user_audio=str(user_path),
        user_range=TimeRange(round(u0, 2), round(u0 + span, 2)),
    )
    return req, held.stem


def make_takes(
    studio: Any,
    catalog: Any,
    work: Path,
    held_out: list[Path],
    n: int,
    shard: tuple[int, int] = (0, 1),
) -> list[TakeRecord]:
    """Make (or reuse) takes 0..n-1 under ``work/takes``; return their records. ``shard``
    (i, k) makes only the takes whose index is i modulo k (the others are read if present)."""
    from musicapp.core import InvalidInput
    from musicapp.studio_types import Refused
    from musicapp.undeclared import UndeclaredMaterial

    takes_dir = work / "takes"
    user_dir = work / "user_audio"
    takes_dir.mkdir(parents=True, exist_ok=True)
    user_dir.mkdir(parents=True, exist_ok=True)
    import audit_data

    plan = json.loads((work / "plan.json").read_text())
    consent = {s["id"]: s["consent"] for s in audit_data.demo_data()["songs"]}
    consent.update({s["id"]: s["consent"] for s in plan["catalogue"]})
    all_songs = {s.id: s for s in catalog.all_songs()}
    songs = eligible_songs(all_songs, consent)
    records = []
    for index, level in enumerate(levels_for(n)):
        json_path = takes_dir / f"{index:04d}.json"
        if json_path.exists():
            records.append(TakeRecord.load(json_path))
            continue
        if index % shard[1] != shard[0]:
            continue
        for attempt in range(RETRIES):
            request, held = draw_request(index, level, attempt, songs, held_out, user_dir)
            t0 = time.perf_counter()
            try:
                take = studio.generate(request)
            except (InvalidInput, Refused, UndeclaredMaterial) as exc:
                # UndeclaredMaterial: the held-out song under an audio- or temporal-level take
                # holds a catalogue recording (two chorales on one hymn tune), and the studio
                # refuses it as it would a user's; another is drawn.
                log.info("take %d (%s) attempt %d redrawn: %s", index, level, attempt, exc)
                continue
            build_s = time.perf_counter() - t0
            audio, sr = sf.read(take.audio_path, dtype="float32", always_2d=True)
            sf.write(json_path.with_suffix(".flac"), audio, sr, "PCM_24")
            Path(take.audio_path).unlink(missing_ok=True)  # the float WAV is 3x the FLAC
            json_path.write_text(
                json.dumps(
                    {
                        "index": index,
                        "level": level,
                        "take_id": take.id,
                        "sample_rate": sr,
                        "duration_s": take.duration_s,
                        "references": [
                            {
                                "song_id": r.song_id,
                                "level": r.level.value,
                                "role": r.role.value if r.role else None,
                                "weight": r.weight,
                                "time_range": [r.time_range.start_s, r.time_range.end_s]
                                if r.time_range
                                else None,
                            }
                            for r in request.references
                        ],
                        "user_audio": held,
                        "user_range": [request.user_range.start_s, request.user_range.end_s]
                        if request.user_range
                        else None,
                        "provenance": take.provenance.to_dict(),
                        "build_s": round(build_s, 3),
                    },
                    indent=1,
                )
            )
            records.append(TakeRecord.load(json_path))
            if index % 10 == 0:
                log.info("take %d/%d (%s) made in %.1f s", index + 1, n, level, build_s)
            break
        else:
            log.warning(
                "take %d (%s): no request of %d was accepted; left out", index, level, RETRIES
            )
    return records
