"""The audit harness's figures: per-take and per-clip rows summed up into tables, with goals.

Tables print in the house style (fixed-width columns under a "## title") or, with
``markdown=True``, as Markdown tables for docs/audit.md.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from musicapp.attribution.scoring import percentile, ratio

LEVELS = ("song", "parameter", "audio", "temporal")
# The goals. Song level figures are for the combination (the app's method).
GOALS = {
    "top3": 0.95,
    "share_l1": 0.15,
    "clip_recall": 0.95,
    "clip_fp_clean": 0.01,
    "within_bar": 0.95,
    "audit_30s_p95_s": 3.0,
}
GAIN_BANDS = ((-20.0, -15.0), (-15.0, -10.0), (-10.0, -5.0), (-5.0, 0.0))
STRETCH_BANDS = ((0.75, 0.9), (0.9, 1.1), (1.1, 1.25))
SEMITONE_BANDS = ((0, 0), (1, 3), (4, 6))


def summarise_takes(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per method: the song-level figures over all takes and per level."""
    by_method: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_method[r["method"]].append(r)
    out: dict[str, Any] = {}
    for method, rs in by_method.items():
        out[method] = {"all": _take_figures(rs)}
        for level in LEVELS:
            mine = [r for r in rs if r["level"] == level]
            if mine:
                out[method][level] = _take_figures(mine)
    return out


def _take_figures(rs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    judged = [r for r in rs if r["top1"] is not None]
    l1 = [r["share_l1"] for r in rs]
    times = [r["elapsed_s"] for r in rs]
    audio_s = sum(r["duration_s"] for r in rs)
    return {
        "takes": len(rs),
        "top1": ratio(sum(1 for r in judged if r["top1"]), len(judged)),
        "top3": ratio(sum(1 for r in judged if r["top3"]), len(judged)),
        "refs_recall": ratio(sum(r["refs_found"] for r in rs), sum(r["refs_wanted"] for r in rs)),
        "timeline": ratio(sum(r["tl_agree"] for r in rs), sum(r["tl_seconds"] for r in rs)),
        "share_l1_mean": statistics.fmean(l1) if l1 else math.nan,
        "share_l1_median": statistics.median(l1) if l1 else math.nan,
        "wrong_found": ratio(sum(1 for r in rs if r.get("wrong_found")), len(rs)),
        "s_per_audio_s": sum(times) / audio_s if audio_s else math.nan,
    }


def summarise_clips(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    hidden = [r for r in rows if r["hidden"]]
    clean = [r for r in rows if not r["hidden"]]
    out: dict[str, Any] = {"all": _clip_figures(hidden, clean)}
    out["mp3"] = {
        "no": _clip_figures(
            [r for r in hidden if not r["mp3_kbps"]], [r for r in clean if not r["mp3_kbps"]]
        ),
        "yes": _clip_figures(
            [r for r in hidden if r["mp3_kbps"]], [r for r in clean if r["mp3_kbps"]]
        ),
    }
    out["gain_db"] = _bands(hidden, "gain_db", GAIN_BANDS, lambda v: f"{v[0]:g}..{v[1]:g} dB")
    out["stretch"] = _bands(hidden, "stretch", STRETCH_BANDS, lambda v: f"x{v[0]:g}..{v[1]:g}")
    out["semitones"] = _bands(
        [dict(r, semis_abs=abs(r["semitones"])) for r in hidden],
        "semis_abs",
        SEMITONE_BANDS,
        lambda v: "0 st" if v[1] == 0 else f"±{v[0]}..{v[1]} st",
    )
    return out


def _bands(
    hidden: Sequence[dict[str, Any]],
    key: str,
    bands: Iterable[tuple[float, float]],
    label: Callable[[tuple[float, float]], str],
) -> dict[str, Any]:
    out = {}
    for lo, hi in bands:
        mine = [r for r in hidden if lo <= r[key] <= hi]
        out[label((lo, hi))] = _clip_figures(mine, [])
    return out


def _clip_figures(hidden: Sequence[dict[str, Any]], clean: Sequence[dict[str, Any]]) -> dict:
    found = [r for r in hidden if r["found"]]
    starts = [r["start_err_bars"] for r in found]
    ends = [r["end_err_bars"] for r in found]
    return {
        "hidden": len(hidden),
        "clean": len(clean),
        "recall": ratio(len(found), len(hidden)),
        "fp_clean": ratio(sum(1 for r in clean if r["false_positive"]), len(clean)),
        "fp_wrong_song": ratio(sum(1 for r in hidden if r["false_positive"]), len(hidden)),
        "audit_wrong_clean": ratio(sum(1 for r in clean if r.get("audit_wrong_found")), len(clean)),
        "within_bar": ratio(sum(1 for r in found if r["within_bar"]), len(found)),
        "start_err_bars_p50": percentile(starts, 50),
        "end_err_bars_p50": percentile(ends, 50),
        "start_err_bars_p95": percentile(starts, 95),
        "end_err_bars_p95": percentile(ends, 95),
    }


def summarise_cost(
    take_rows: Sequence[dict[str, Any]], clip_rows: Sequence[dict[str, Any]], cost_s: float
) -> dict[str, Any]:
    """Audit times of the takes of ``cost_s`` seconds (the combination, the index loaded)."""
    from musicapp.attribution.auditor import COMBINED

    combined = [r for r in take_rows if r["method"] == COMBINED]
    at_cost = [r["elapsed_s"] for r in combined if abs(r["duration_s"] - cost_s) < 0.5]
    clip_t = [r["elapsed_s"] for r in clip_rows]
    return {
        "takes_at_cost_s": len(at_cost),
        "audit_30s_p50_s": percentile(at_cost, 50),
        "audit_30s_p95_s": percentile(at_cost, 95),
        "audit_30s_max_s": max(at_cost) if at_cost else math.nan,
        "find_material_p50_s": percentile(clip_t, 50),
        "find_material_p95_s": percentile(clip_t, 95),
    }


# -- printing ------------------------------------------------------------------------------


def _pct(v: float) -> str:
    return "n/a" if v is None or math.isnan(v) else f"{100 * v:.1f} %"


def _num(v: float, digits: int = 3) -> str:
    return "n/a" if v is None or math.isnan(v) else f"{v:.{digits}f}"


def _verdict(value: float, goal: float, at_least: bool) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return "met" if (value >= goal if at_least else value <= goal) else "NOT met"


def render(title: str, header: Sequence[str], rows: Sequence[Sequence[str]], md: bool) -> str:
    if md:
        lines = [f"#### {title}", "", "| " + " | ".join(header) + " |"]
        lines.append("|" + "|".join("---" for _ in header) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines) + "\n"
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    fmt = lambda cells: "  ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )
    return "\n".join([f"## {title}", "", fmt(header), *(fmt(r) for r in rows)]) + "\n"


def tables(figures: dict[str, Any], md: bool = False) -> str:
    """Every table of the run, from the figures dict the JSON also holds."""
    from musicapp.attribution.auditor import COMBINED

    d = figures["data"]
    levels = ", ".join(f"{n} {lvl}" for lvl, n in d["takes_by_level"].items())
    data_rows = [
        ["catalogue songs", f"{d['songs']:,} (built in {d['catalogue_build_s']:.0f} s)"],
        ["held-out songs", str(d["held_out"])],
        ["takes", f"{d['takes']} ({levels})"],
        ["user clips", f"{d['clips_hidden']} hidden + {d['clips_clean']} clean"],
    ]
    out = [render("Data", ["", "count"], data_rows, md)]
    takes = figures["takes"]
    header = [
        "method",
        "takes",
        "top-1",
        "top-3",
        "refs recall",
        "timeline",
        "L1 mean",
        "L1 median",
        "wrong song found",
    ]

    def trow(name: str, a: dict[str, Any]) -> list[str]:
        return [
            name,
            str(a["takes"]),
            _pct(a["top1"]),
            _pct(a["top3"]),
            _pct(a["refs_recall"]),
            _pct(a["timeline"]),
            _num(a["share_l1_mean"]),
            _num(a["share_l1_median"]),
            _pct(a.get("wrong_found", math.nan)),
        ]

    rows = [trow(method, f["all"]) for method, f in takes.items()]
    out.append(
        render("Takes: song-level attribution against the engine's provenance", header, rows, md)
    )
    rows = [
        trow(f"{method} / {level}", f[level])
        for method, f in takes.items()
        for level in LEVELS
        if level in f
    ]
    out.append(render("Takes by level", header, rows, md))

    clips = figures["clips"]
    cheader = [
        "clips",
        "hidden",
        "clean",
        "recall",
        "FP clean",
        "FP wrong song",
        "audit claims a song in clean",
        "within 1 bar",
        "start err p50/p95 (bars)",
        "end err p50/p95 (bars)",
    ]

    def crow(name: str, c: dict[str, Any]) -> list[str]:
        return [
            name,
            str(c["hidden"]),
            str(c["clean"]),
            _pct(c["recall"]),
            _pct(c["fp_clean"]),
            _pct(c["fp_wrong_song"]),
            _pct(c.get("audit_wrong_clean", math.nan)),
            _pct(c["within_bar"]),
            f"{_num(c['start_err_bars_p50'], 2)} / {_num(c['start_err_bars_p95'], 2)}",
            f"{_num(c['end_err_bars_p50'], 2)} / {_num(c['end_err_bars_p95'], 2)}",
        ]

    rows = [
        crow("all", clips["all"]),
        crow("no MP3", clips["mp3"]["no"]),
        crow("MP3 round trip", clips["mp3"]["yes"]),
    ]
    for key in ("gain_db", "stretch", "semitones"):
        rows += [crow(name, c) for name, c in clips[key].items()]
    out.append(render("User clips: hidden catalogue material (find_material)", cheader, rows, md))

    cost = figures["cost"]
    comb = takes.get(COMBINED, {}).get("all", {})
    a = comb if comb else {}
    goal_rows = [
        [
            "top-3, combination",
            _pct(a.get("top3", math.nan)),
            f">= {_pct(GOALS['top3'])}",
            _verdict(a.get("top3", math.nan), GOALS["top3"], True),
        ],
        [
            "share L1 (mean), combination",
            _num(a.get("share_l1_mean", math.nan)),
            f"<= {GOALS['share_l1']}",
            _verdict(a.get("share_l1_mean", math.nan), GOALS["share_l1"], False),
        ],
    ]
    base = takes.get("baseline", {}).get("all")
    if base and comb:
        gap = comb["top3"] - base["top3"]
        goal_rows.append(["top-3 gap over the baseline", f"{100 * gap:+.1f} points", "clear", ""])
    c = clips["all"]
    goal_rows += [
        [
            "hidden-material recall",
            _pct(c["recall"]),
            f">= {_pct(GOALS['clip_recall'])}",
            _verdict(c["recall"], GOALS["clip_recall"], True),
        ],
        [
            "false positives on clean clips",
            _pct(c["fp_clean"]),
            f"<= {_pct(GOALS['clip_fp_clean'])}",
            _verdict(c["fp_clean"], GOALS["clip_fp_clean"], False),
        ],
        [
            "found excerpts placed within one bar",
            _pct(c["within_bar"]),
            f">= {_pct(GOALS['within_bar'])}",
            _verdict(c["within_bar"], GOALS["within_bar"], True),
        ],
        [
            f"audit of a 30 s take, p50 / p95 / max ({cost['takes_at_cost_s']} takes)",
            f"{_num(cost['audit_30s_p50_s'], 2)} / {_num(cost['audit_30s_p95_s'], 2)} / "
            f"{_num(cost['audit_30s_max_s'], 2)} s",
            f"<= {GOALS['audit_30s_p95_s']:g} s (p95)",
            _verdict(cost["audit_30s_p95_s"], GOALS["audit_30s_p95_s"], False),
        ],
        [
            "audit time per audio second (all takes, combination)",
            f"{_num(a.get('s_per_audio_s', math.nan), 3)} s",
            "",
            "",
        ],
        [
            "first audit (index loading)",
            f"{_num(cost.get('first_audit_s', math.nan), 2)} s",
            "",
            "",
        ],
        [
            "find_material per clip, p50 / p95",
            f"{_num(cost['find_material_p50_s'], 2)} / {_num(cost['find_material_p95_s'], 2)} s",
            "",
            "",
        ],
        [
            f"index build ({cost.get('index_songs', 0)} songs)",
            f"{_num(cost.get('index_build_s', math.nan), 1)} s",
            "",
            "",
        ],
    ]
    if cost.get("workers", 1) > 1:
        goal_rows.append(
            [
                f"scored in {cost['workers']} processes: times other than the 30 s takes' were "
                "measured under that load",
                "",
                "",
                "",
            ]
        )
    out.append(render("Goals and cost", ["figure", "value", "goal", ""], goal_rows, md))
    scale = figures.get("scale", {})
    if scale:
        rows = [[name, s.get("text", "")] for name, s in scale.items()]
        out.append(render("Index lookups at scale", ["lookups", "measured"], rows, md))
    return "\n".join(out)
