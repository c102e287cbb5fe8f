"""What attribution and signing cost an export: a 3-minute 44.1 kHz stereo take, each format.

Run: PYTHONPATH=. .venv/bin/python benchmarks/export.py [--repeats N] [--seconds S] [--dir DIR]
     [--json OUT]
Audio: the demo recipe's first songs rendered and mixed as the demo catalogue renders them
(musicapp/testing/demo_music.py), one after another, cut to 180 s: real notes, silences and a
stereo image, so FLAC compresses as it would for a take. Its attribution names those songs by
their share of the time. Deterministic: the same command renders the same audio (times aside).

Per format (WAV 24-bit, FLAC 24-bit, MP3 320 kbit/s), each row the median of N runs (default 3)
after one untimed warm-up (which also makes the device's signing identity):
- baseline: the same audio written by soundfile alone (``sf.write``, float in, libsndfile's own
  conversion), or for MP3 encoded by lameenc with our LAME settings and written;
- export: ``export_audio`` without C2PA (quantise, write, digests, tags, ledger append, sidecar);
- export + sign: ``export_audio`` with a C2PA manifest (WAV and FLAC today; MP3 is reported as it
  is: signed or not);
- verify online: ``verify_file(path, ledger)`` on the signed export;
- verify offline: ``verify_offline(path, ca, data_dir=)``, the file and the CA certificate only.
Ratios are to the baseline of the same format, measured in the same process. docs/export.md has
a run's table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lameenc
import numpy as np
import soundfile as sf

from musicapp.config import CATALOGUE_RATE
from musicapp.export import export_audio, verify_file
from musicapp.export.c2pa_manifest import ManifestRequest
from musicapp.export.offline import verify_offline
from musicapp.ledger import Ledger
from musicapp.testing.demo_music import attribution_for, demo_music

SR = CATALOGUE_RATE
FORMATS = (("wav", 24), ("flac", 24), ("mp3", 320))
MP3_LAME_QUALITY = 2  # musicapp/export/mp3.py's setting, so the baseline encodes the same way


def _baseline(path: Path, audio: np.ndarray, fmt: str, depth: int) -> None:
    if fmt == "mp3":
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(depth)
        encoder.set_in_sample_rate(SR)
        encoder.set_out_sample_rate(SR)
        encoder.set_channels(audio.shape[0])
        encoder.set_quality(MP3_LAME_QUALITY)
        pcm = np.clip(np.round(audio.T * 32767.0), -32768, 32767).astype("<i2")
        with open(path, "wb") as f:
            f.write(bytes(encoder.encode(pcm.tobytes())))
            f.write(bytes(encoder.flush()))
        return
    sf.write(path, audio.T, SR, subtype=f"PCM_{depth}", format=fmt.upper())


def _median(runs: int, once: Callable[[int], Any]) -> tuple[float, Any]:
    """(median seconds of ``runs`` calls of ``once(i)``, the last call's result)."""
    times, result = [], None
    for i in range(runs):
        t0 = time.perf_counter()
        result = once(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def _one_format(
    fmt: str,
    depth: int,
    audio: np.ndarray,
    attribution: dict[str, Any],
    data: Path,
    ledger: Ledger,
    repeats: int,
) -> dict[str, Any]:
    """One format's row: medians, ratios, sizes, and what the signed export's checks said."""
    options: dict[str, Any] = {"bitrate": depth} if fmt == "mp3" else {"bits": depth}

    def export(name: str, sign: bool) -> Any:
        return export_audio(
            audio,
            SR,
            data / name,
            dict(attribution),
            ledger,
            title="benchmark take",
            c2pa=ManifestRequest(data) if sign else None,
            **options,
        )

    export(f"warm.{fmt}", True)  # imports, the signing identity, caches: untimed
    base_s, _ = _median(repeats, lambda i: _baseline(data / f"base{i}.{fmt}", audio, fmt, depth))
    plain_s, _ = _median(repeats, lambda i: export(f"plain{i}.{fmt}", False))
    signed_s, result = _median(repeats, lambda i: export(f"signed{i}.{fmt}", True))
    online_s, online = _median(repeats, lambda i: verify_file(result.path, ledger))
    ca = data / "c2pa" / "ca.pem"
    offline_s, offline = _median(repeats, lambda i: verify_offline(result.path, ca, data_dir=data))
    row = {
        "depth": f"{depth}-bit" if fmt != "mp3" else f"{depth} kbit/s",
        "baseline_s": base_s,
        "export_s": plain_s,
        "export_sign_s": signed_s,
        "verify_online_s": online_s,
        "verify_offline_s": offline_s,
        "export_ratio": plain_s / base_s,
        "export_sign_ratio": signed_s / base_s,
        "baseline_bytes": (data / f"base0.{fmt}").stat().st_size,
        "export_bytes": (data / f"plain0.{fmt}").stat().st_size,
        "signed_bytes": result.path.stat().st_size,
        "c2pa": result.c2pa or "no manifest (format not signed)",
        "online_ok": online.ok,
        "offline_ok": offline.ok,
        "offline_checks": {
            c.name: "skipped" if c.skipped else ("ok" if c.ok else "FAILED") for c in offline.checks
        },
    }
    for f in data.glob(f"*.{fmt}*"):
        f.unlink()  # 3-minute 24-bit takes add up; keep the folder small
    return row


def measure(seconds: float = 180.0, repeats: int = 3, folder: Path | None = None) -> dict[str, Any]:
    """Every figure of the benchmark (what --json writes)."""
    used, audio = demo_music(seconds)
    attribution = attribution_for(used)
    figures: dict[str, Any] = {
        "audio": {
            "seconds": audio.shape[1] / SR,
            "sample_rate": SR,
            "channels": audio.shape[0],
            "songs": [f"{title} ({artist}) {secs:.1f} s" for _, title, artist, secs in used],
        },
        "repeats": repeats,
        "formats": {},
    }
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        data = Path(tmp)
        with Ledger(data / "ledger.sqlite") as ledger:
            for fmt, depth in FORMATS:
                figures["formats"][fmt] = _one_format(
                    fmt, depth, audio, attribution, data, ledger, repeats
                )
    return figures


def lines(figures: dict[str, Any]) -> list[str]:
    """The table: one row per format, times as medians, ratios to the soundfile baseline."""
    a = figures["audio"]
    out = [
        f"audio: {a['seconds']:.0f} s, {a['sample_rate']} Hz, {a['channels']} channels; demo songs "
        f"rendered and mixed: {'; '.join(a['songs'])}",
        f"median of {figures['repeats']} runs each; ratios are to the baseline (soundfile "
        "alone; lameenc alone for MP3)",
        "",
        f"{'format':16} {'baseline':>9} {'export':>9} {'x':>6} {'+sign':>9} {'x':>6} "
        f"{'verify':>8} {'offline':>8} {'MB base':>8} {'MB out':>8}  manifest",
    ]
    for fmt, f in figures["formats"].items():
        out.append(
            f"{fmt.upper() + ' ' + f['depth']:16} {f['baseline_s']:8.3f}s {f['export_s']:8.3f}s "
            f"{f['export_ratio']:5.2f}x {f['export_sign_s']:8.3f}s {f['export_sign_ratio']:5.2f}x "
            f"{f['verify_online_s']:7.3f}s {f['verify_offline_s']:7.3f}s "
            f"{f['baseline_bytes'] / 1e6:8.2f} {f['signed_bytes'] / 1e6:8.2f}  {f['c2pa']}"
        )
    out.append("")
    for fmt, f in figures["formats"].items():
        checks = ", ".join(f"{k} {v}" for k, v in f["offline_checks"].items())
        verdict = "ok" if f["offline_ok"] else "NOT OK"
        out.append(f"offline verification of the {fmt.upper()} ({verdict}): {checks}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--dir", type=Path, default=None, help="measure on this disk")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    figures = measure(args.seconds, args.repeats, args.dir)
    for line in lines(figures):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
