"""The audit harness's scoring loop: every take with every method, every clip, optionally in
worker processes.

The cost figure must not be inflated by other audits running at the same time, so the takes it
is measured on (the combination on the 30 s takes) are always audited first, one at a time, in
the calling process. With ``workers`` > 1 everything else is spread over processes that each open
the catalogue and the (already built) audit index; their figures are the same, only their times
(per audio second, find_material) are then measured under that load, and the report says so.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from musicapp.attribution import scoring
from musicapp.attribution.auditor import COMBINED
from musicapp.config import Settings

log = logging.getLogger("audit")


def settings_for(data_dir: Path) -> Settings:
    """The harness's settings: its own data folder, local only; the studio does not audit the
    takes itself (when it can), since the harness audits each one with every method."""
    names = {f.name for f in dataclasses.fields(Settings)}
    extra = {"audit_takes": False} if "audit_takes" in names else {}
    return Settings(data_dir=data_dir, server_url="", **extra)


def sample_args(doc: str, argv: list[str] | None) -> argparse.Namespace:
    """``--work`` (a folder the harness built, with its audit index) and ``--songs`` (how many
    catalogue songs a script looks at), for the scripts that audit catalogue recordings."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--songs", type=int, default=60)
    return ap.parse_args(argv)


def seeded_songs(catalog: Any, n: int, seed: int) -> list[str]:
    """``n`` of the catalogue's song ids, the same ones on every run with the same seed."""
    ids = sorted(catalog.song_ids())
    random.Random(seed).shuffle(ids)
    return ids[:n]


def read(path: Path) -> tuple[np.ndarray, int]:
    audio, sr = sf.read(path, dtype="float32", always_2d=True)
    return np.ascontiguousarray(audio.T), int(sr)


def score_take(auditor: Any, take: Any, methods: tuple[str, ...]) -> list[dict[str, Any]]:
    """One take audited with each of ``methods``: a row of figures per method."""
    audio, sr = read(take.path)
    duration = audio.shape[1] / sr
    truth_s = scoring.truth_per_second(take.timeline, duration)
    rows = []
    for method in methods:
        t0 = time.perf_counter()
        result = auditor.audit(audio, sr, method=method)
        elapsed = time.perf_counter() - t0
        found, wanted = scoring.references_recall(result, take.song_shares)
        agree, seconds = scoring.timeline_agreement(
            truth_s, scoring.audit_per_second(result, duration)
        )
        rows.append(
            {
                "take": take.index,
                "level": take.level,
                "method": method,
                "duration_s": duration,
                "elapsed_s": elapsed,
                "top1": scoring.top_k_hit(result, take.song_shares, 1),
                "top3": scoring.top_k_hit(result, take.song_shares, 3),
                "refs_found": found,
                "refs_wanted": wanted,
                "tl_agree": agree,
                "tl_seconds": seconds,
                "share_l1": scoring.share_l1(result, take.song_shares),
                "truth_top": scoring.true_top(take.song_shares),
                "audit_top3": [s for s, _ in result.top(3)],
                # A song found outright that the take does not hold (what the result panel
                # would claim wrongly).
                "wrong_found": any(f.song_id not in take.song_shares for f in result.findings),
            }
        )
    return rows


def score_clip(auditor: Any, clip: Any) -> dict[str, Any]:
    """One clip through find_material, scored against what is hidden in it."""
    audio, sr = read(clip.path)
    t0 = time.perf_counter()
    findings = auditor.find_material(audio, sr)
    elapsed = time.perf_counter() - t0
    truth = scoring.ClipTruth(clip.song_id, clip.start_s, clip.end_s, clip.bar_s)
    s = scoring.score_clip(findings, truth)
    # The audit of the same clip as the user's file (its search is kept from find_material):
    # what `musicapp audit FILE` and the audit panel would claim found outright in it.
    claimed = {f.song_id for f in auditor.audit(audio, sr, user_audio=True).findings}
    return {
        "clip": clip.name,
        "hidden": clip.hidden,
        "song_id": clip.song_id,
        "found": s.found,
        "false_positive": s.false_positive,
        "start_err_bars": s.start_error_bars,
        "end_err_bars": s.end_error_bars,
        "within_bar": s.within_bar,
        "gain_db": clip.gain_db,
        "stretch": clip.stretch,
        "semitones": clip.semitones,
        "mp3_kbps": clip.mp3_kbps,
        "elapsed_s": elapsed,
        "findings": [f.song_id for f in findings],
        "audit_wrong_found": bool(claimed - {clip.song_id}),
    }


# -- worker processes ---------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _open_worker(data_dir: str, index_path: str) -> None:
    from musicapp.attribution.auditor import Auditor
    from musicapp.context import AppContext

    ctx = AppContext.open(settings_for(Path(data_dir)))
    _WORKER["ctx"] = ctx
    _WORKER["auditor"] = Auditor(Path(index_path), ctx.catalog)


def _take_job(take: Any, methods: tuple[str, ...]) -> list[dict[str, Any]]:
    return score_take(_WORKER["auditor"], take, methods)


def _clip_job(clip: Any) -> list[dict[str, Any]]:
    return [score_clip(_WORKER["auditor"], clip)]


def score_all(
    auditor: Any,
    takes: list[Any],
    clips: list[Any],
    methods: tuple[str, ...],
    cost_s: float,
    workers: int = 1,
    data_dir: Path | None = None,
    index_path: Path | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows for every (take, method) and every clip; the cost takes first, alone."""
    take_rows: list[dict[str, Any]] = []
    todo: list[tuple[Any, tuple[str, ...]]] = []
    for take in takes:
        if COMBINED in methods and abs(take.duration_s - cost_s) < 0.5:
            take_rows += score_take(auditor, take, (COMBINED,))
            rest = tuple(m for m in methods if m != COMBINED)
        else:
            rest = methods
        if rest:
            todo.append((take, rest))
    log.info("cost pass: %d takes of %g s audited alone", len(take_rows), cost_s)
    clip_rows: list[dict[str, Any]] = []
    if workers <= 1 or data_dir is None or index_path is None:
        for i, (take, rest) in enumerate(todo, start=1):
            take_rows += score_take(auditor, take, rest)
            if i % 25 == 0:
                log.info("audited %d/%d takes", i, len(todo))
        for i, clip in enumerate(clips, start=1):
            clip_rows.append(score_clip(auditor, clip))
            if i % 50 == 0:
                log.info("checked %d/%d clips", i, len(clips))
    else:
        take_rows += _in_workers(todo, clips, clip_rows, workers, data_dir, index_path)
    order = {m: i for i, m in enumerate(methods)}
    take_rows.sort(key=lambda r: (r["take"], order.get(r["method"], 99)))
    clip_rows.sort(key=lambda r: r["clip"])
    return take_rows, clip_rows


def _in_workers(
    todo: list[tuple[Any, tuple[str, ...]]],
    clips: list[Any],
    clip_rows: list[dict[str, Any]],
    workers: int,
    data_dir: Path,
    index_path: Path,
) -> list[dict[str, Any]]:
    ctx = multiprocessing.get_context(
        "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    )
    take_rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_open_worker, initargs=(str(data_dir), str(index_path))
    ) as pool:
        futures = {pool.submit(_take_job, t, m): "take" for t, m in todo}
        futures.update({pool.submit(_clip_job, c): "clip" for c in clips})
        for done, f in enumerate(as_completed(futures), start=1):
            (take_rows if futures[f] == "take" else clip_rows).extend(f.result())
            if done % 50 == 0:
                log.info("scored %d/%d takes and clips", done, len(futures))
    return take_rows


def timing_table(times: dict[str, list[float]], first_column: str) -> str:
    """Markdown rows of p50 and p95 seconds per variant and each p50's ratio to the first
    variant's (the baseline, measured in the same process)."""
    base = float(np.median(next(iter(times.values()))))
    rows = [f"| {first_column} | p50 s | p95 s | p50 ratio |", "|---|---|---|---|"]
    for name, ts in times.items():
        p50, p95 = float(np.median(ts)), float(np.percentile(ts, 95))
        rows.append(f"| {name} | {p50:.2f} | {p95:.2f} | {p50 / base:.2f} |")
    return "\n".join(rows)
