"""Catalogue at scale: autocomplete, tree expansion and cold open on a synthetic catalogue.

    .venv/bin/python benchmarks/catalog.py [--songs 1000000] [--db PATH]

Builds the synthetic catalogue (musicapp.testing.synthetic) at PATH unless one of that size is
already there, then prints one table. Baselines, run in the same process on the same prefixes:
"bare" is the SQL that suggest() runs (search.tier_queries, until the limit is found), executed
directly through sqlite3; "naive" is the plain ranked FTS5 query over every match (ORDER BY
bm25); "unranked" is FTS5's first 10 matches in index order, the floor of any FTS5 search.
"search" loads the 10 whole songs (rights holders, splits and stems) that suggest() only names.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from musicapp.catalog import search as search_sql
from musicapp.catalog.store import CatalogStore
from musicapp.testing import synthetic

GOALS = {"autocomplete_p95_ms": 20.0, "ratio": 1.5, "expand_ms": 50.0}
COMMON = ["the", "a", "love", "my", "i", "you", "night", "baby", "me", "in"]


def prefixes(store: CatalogStore, n_sampled: int = 160, seed: int = 3) -> list[str]:
    """What users type: common words with a one-letter tail, and cut-off titles and artists."""
    rng = random.Random(seed)
    out = ["the r", "a l", "love y", "t", "l", "the", "lo", "my h", "i w", "you a"]
    out += [f"{w} {c}" for w in COMMON for c in "abdelmrst"]
    with store._lock:  # the benchmark reads raw rows; the app never does
        rows = store._db.execute(
            "SELECT title, artist FROM songs WHERE rowid % 997 = 0 LIMIT 5000"
        ).fetchall()
    for _ in range(n_sampled):
        text = rng.choice(rows)[rng.random() < 0.3].lower()
        words = text.split()
        k = rng.randint(1, min(3, len(words)))
        head, last = words[: k - 1], words[k - 1]
        out.append(" ".join([*head, last[: rng.randint(1, max(1, len(last)))]]))
    return list(dict.fromkeys(out))


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


# bm25 weights for the naive baseline, one per FTS column (song_id, title, artist, album, genre,
# subgenre, tags): the weighting a plain ranked FTS5 search would use.
NAIVE_WEIGHTS = (0.0, 10.0, 6.0, 4.0, 3.0, 3.0, 1.0)


def bench_search(store: CatalogStore, db: sqlite3.Connection, texts: list[str]) -> list[str]:
    weights = ", ".join(str(w) for w in NAIVE_WEIGHTS)
    naive_sql = (
        "SELECT song_id FROM songs_fts WHERE songs_fts MATCH ? "
        f"ORDER BY bm25(songs_fts, {weights}), song_id LIMIT 10"
    )
    unranked_sql = "SELECT song_id FROM songs_fts WHERE songs_fts MATCH ? LIMIT 10"
    cols: dict[str, list[float]] = {
        k: [] for k in ("suggest", "search", "bare", "naive", "unranked")
    }
    for text in texts:
        q = search_sql.fts_query(text)
        store.browse.search(text, 10)  # warm the page cache for this query alike for all
        cols["suggest"].append(timed(lambda t=text: store.browse.suggest(t, 10), 5))
        cols["search"].append(timed(lambda t=text: store.browse.search(t, 10), 3))
        cols["bare"].append(timed(lambda t=text: run_bare(db, t, 10), 5))
        cols["naive"].append(timed(lambda q=q: db.execute(naive_sql, [q]).fetchall(), 1))
        cols["unranked"].append(timed(lambda q=q: db.execute(unranked_sql, [q]).fetchall(), 5))
    lines = [f"autocomplete over {len(texts)} prefixes (ms)      p50      p95      max"]
    for k, v in cols.items():
        lines.append(f"  {k:36} {pct(v, 50):8.2f} {pct(v, 95):8.2f} {max(v):8.2f}")
    ratio = pct(cols["suggest"], 95) / pct(cols["bare"], 95)
    lines.append(f"  suggest/bare at p95: {ratio:.2f}x (goal <= {GOALS['ratio']}x)")
    for k in ("naive", "unranked"):
        ratio = pct(cols["suggest"], 95) / pct(cols[k], 95)
        lines.append(f"  suggest/{k} at p95: {ratio:.2f}x")
    p95 = pct(cols["search"], 95)
    lines.append(f"  search p95 {p95:.2f} ms (goal <= {GOALS['autocomplete_p95_ms']:.0f} ms)")
    worst = sorted(zip(cols["suggest"], texts, strict=True), reverse=True)[:5]
    lines.append("  slowest suggest: " + ", ".join(f"{t!r} {ms:.2f}" for ms, t in worst))
    return lines


def run_bare(db: sqlite3.Connection, text: str, limit: int) -> list[object]:
    """What suggest() runs, without the store: the tier queries until `limit` ids are found."""
    found: dict[object, object] = {}
    for sql, params in search_sql.tier_queries(text, limit):
        for row in db.execute(sql, params):
            found.setdefault(row[0], row)
        if len(found) >= limit:
            break
    return list(found.values())[:limit]


def bench_tree(store: CatalogStore) -> list[str]:
    lines = ["expand the largest node per level (ms)       first 200     all   children"]
    for key, _label in store.browse.hierarchies():
        path: tuple[str, ...] = ()
        while True:
            first = timed(lambda p=path, k=key: store.browse.children(p, k, 0, 200), 3)
            all_ms = timed(lambda p=path, k=key: store.browse.children(p, k), 1)
            nodes = store.browse.children(path, key)
            name = key + ":" + ("/".join(path) or "(root)")
            lines.append(f"  {name[:44]:44} {first:8.2f} {all_ms:8.2f} {len(nodes):8}")
            if not nodes or nodes[0].song_id is not None:
                break
            path = max(nodes, key=lambda n: n.count).path
    return lines


def cold_open(db_path: Path) -> str:
    code = (
        "import time; t=time.perf_counter(); from pathlib import Path;"
        "from musicapp.catalog.store import CatalogStore;"
        f"s=CatalogStore(Path({str(db_path)!r}), Path({str(db_path.parent / 'audio')!r}));"
        "t1=time.perf_counter(); s.browse.children(()); s.browse.search('the r', 10);"
        "print(f'{(t1-t)*1000:.0f} {(time.perf_counter()-t)*1000:.0f}')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    open_ms, first_ms = out.stdout.split()
    return f"cold open (new process, incl. imports): {open_ms} ms; + root and one search: {first_ms} ms"


# The app's window on this catalogue, offscreen: "ready" once it is shown, the tree's root is
# in and the event loop has turned, so a click would be handled.
_WINDOW_CODE = """
import sys, time
from musicapp.config import Settings
from musicapp.context import AppContext
from musicapp.ui.app import make_application
from musicapp.ui.main_window import MainWindow
from PySide6.QtCore import QTimer
app = make_application()
ctx = AppContext.open(Settings()).__enter__()
window = MainWindow(ctx)
window.show()
def ready():
    print("ready", flush=True)
    app.quit()
QTimer.singleShot(0, ready)
app.exec()
"""


def window_start(db_path: Path, runs: int = 3) -> str:
    """Seconds from launching a new process to an interactive window, best and worst of runs."""
    times = []
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "MUSICAPP_DATA_DIR": data,
            "MUSICAPP_CATALOG": str(db_path),
        }
        for _ in range(runs):
            t0 = time.perf_counter()
            with subprocess.Popen(
                [sys.executable, "-c", _WINDOW_CODE], env=env, stdout=subprocess.PIPE, text=True
            ) as proc:
                assert proc.stdout is not None
                for line in proc.stdout:
                    if line.strip() == "ready":
                        times.append(time.perf_counter() - t0)
                        break
                proc.wait(timeout=60)
    if not times:
        return "window start: the window never became ready"
    return (
        f"window start to interactive (new process, offscreen): best {min(times):.2f} s, "
        f"worst {max(times):.2f} s of {runs} (goal <= 2 s)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--songs", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=None)
    args = ap.parse_args(argv)
    db_path = args.db or Path(tempfile.gettempdir()) / f"musicapp-synthetic-{args.songs}.sqlite"
    store = CatalogStore(db_path, db_path.parent / "audio")
    if store.count() not in (0, args.songs):
        print(f"{db_path} holds {store.count()} songs, not {args.songs}: use another --db")
        return 2
    if store.is_empty():
        t0 = time.perf_counter()
        synthetic.build(store, synthetic.SyntheticSpec(songs=args.songs))
        print(f"built {args.songs:,} songs in {time.perf_counter() - t0:.0f} s")
    store.close()
    lines = [cold_open(db_path), window_start(db_path)]
    store = CatalogStore(db_path, db_path.parent / "audio")
    db = sqlite3.connect(db_path)
    texts = prefixes(store)
    lines += bench_search(store, db, texts)
    lines += bench_tree(store)
    print(f"catalogue: {store.count():,} songs at {db_path}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
