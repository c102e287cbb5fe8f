"""What an export does to a take's sound on the way out: sample rate, channels, loudness under a
true-peak ceiling, and dither, as the user chose in the Export dialog or on the command line.

A take is kept as the engine's float samples at the engine's rate (``takes.py``); an export
without mastering writes exactly those. With mastering, the steps run in a fixed order, each
only when asked for:

1. channels: stereo to mono is the plain average (what a mono speaker plays), mono to stereo is
   the same signal on both sides;
2. sample rate: band-limited polyphase resampling (``audio.io.resample``);
3. loudness: one gain to the target integrated loudness (ITU-R BS.1770-4, ``audio.loudness``),
   lowered when the result's true peak would pass the ceiling. Gain only, no limiter, so the
   sound is not changed, only its level; the report says when the ceiling held the level below
   the target;
4. dither: TPDF noise of one step of the written depth (16 or 24 bits) before the samples are
   rounded, so quiet fades do not turn into distortion. Seeded from the take, so the same
   export twice gives the same file.

What was done is returned as a plain dict, written into the export's record (the ``mastering``
field of the attribution inside the file and of its ledger event), so anyone can see that the
file is not the take sample for sample, and why.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from musicapp.audio.io import AudioError, as_audio, resample, to_channels
from musicapp.audio.loudness import SILENCE_LUFS, integrated_lufs, true_peak_dbtp
from musicapp.core import InvalidInput

EXPORT_RATES = (44100, 48000, 88200, 96000)  # offered besides the take's own rate
LOUDNESS_RANGE = (-36.0, -5.0)  # LUFS targets accepted (streaming services ask -14 to -16)
CEILING_RANGE = (-9.0, 0.0)  # dBTP ceilings accepted
DEFAULT_TARGET_LUFS = -14.0
DEFAULT_CEILING_DBTP = -1.0
DEFAULT_TEMPLATE = "{title} - {date} - {take}"
TEMPLATE_FIELDS = ("title", "take", "date", "time", "engine", "references", "format")


@dataclass(frozen=True)
class Mastering:
    """The user's choices; None everywhere means "as the take was made"."""

    sample_rate: int | None = None
    channels: int | None = None  # 1 or 2
    target_lufs: float | None = None  # loudness normalisation when set
    ceiling_dbtp: float = DEFAULT_CEILING_DBTP  # true-peak ceiling of the normalisation
    dither: bool = True  # TPDF before rounding to 16 or 24 bits

    @classmethod
    def from_report(cls, report: object) -> Mastering | None:
        """The choices that gave ``report`` (a record's ``mastering`` field), so a re-export
        masters the take the same way; None when the record has none."""
        if not isinstance(report, dict) or not report:
            return None
        try:
            loudness = report.get("loudness") or {}
            return cls(
                sample_rate=int(report["sample_rate"]["to"]) if "sample_rate" in report else None,
                channels=int(report["channels"]["to"]) if "channels" in report else None,
                target_lufs=float(loudness["target_lufs"]) if loudness else None,
                ceiling_dbtp=float(loudness.get("ceiling_dbtp", DEFAULT_CEILING_DBTP)),
                dither="dither" in report,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(f"the record's mastering field cannot be read ({exc})") from None

    def check(self) -> None:
        """InvalidInput naming the field and what is allowed."""
        if self.sample_rate is not None and not 8000 <= self.sample_rate <= 192000:
            raise InvalidInput(
                f"export sample rate: {self.sample_rate} Hz is outside 8,000 to 192,000 Hz"
            )
        if self.channels not in (None, 1, 2):
            raise InvalidInput(f"export channels: {self.channels} (1 for mono or 2 for stereo)")
        low, high = LOUDNESS_RANGE
        if self.target_lufs is not None and not low <= self.target_lufs <= high:
            raise InvalidInput(
                f"export loudness: {self.target_lufs:g} LUFS is outside {low:g} to {high:g} LUFS"
            )
        low, high = CEILING_RANGE
        if not low <= self.ceiling_dbtp <= high:
            raise InvalidInput(
                f"export true-peak ceiling: {self.ceiling_dbtp:g} dBTP is outside "
                f"{low:g} to {high:g} dBTP"
            )


@dataclass(frozen=True)
class Mastered:
    audio: np.ndarray
    sample_rate: int
    report: dict[str, Any]  # what was done, for the record; empty when nothing was


def _tpdf(shape: tuple[int, ...], bits: int, seed: str) -> np.ndarray:
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8]))
    step = 1.0 / (2 ** (bits - 1))
    return ((rng.random(shape) - rng.random(shape)) * step).astype(np.float32)


def master(
    audio: np.ndarray, sr: int, mastering: Mastering, bits: int | None, seed: str
) -> Mastered:
    """``audio`` (channels, samples) at ``sr`` after ``mastering``; ``bits`` is the PCM depth
    the file will be written at (None for MP3, which is not dithered here)."""
    mastering.check()
    audio = as_audio(audio, "export")
    report: dict[str, Any] = {}
    if mastering.channels is not None and mastering.channels != audio.shape[0]:
        report["channels"] = {"from": int(audio.shape[0]), "to": mastering.channels}
        audio = to_channels(audio, mastering.channels)
    rate = mastering.sample_rate or sr
    if rate != sr:
        report["sample_rate"] = {"from": sr, "to": rate}
        audio = resample(audio, sr, rate)
    if mastering.target_lufs is not None:
        report["loudness"] = _normalise_report(audio, rate, mastering)
        audio = (audio * np.float32(10 ** (report["loudness"]["gain_db"] / 20))).astype(np.float32)
    if bits is not None and mastering.dither and (report or bits == 16):
        # A changed take is dithered at either depth, the take as made only when cut to 16 bits.
        audio = audio + _tpdf(audio.shape, bits, seed)
        report["dither"] = {"kind": "tpdf", "bits": bits}
    return Mastered(np.ascontiguousarray(audio, dtype=np.float32), rate, report)


def _normalise_report(audio: np.ndarray, sr: int, m: Mastering) -> dict[str, Any]:
    assert m.target_lufs is not None
    before = integrated_lufs(audio, sr)
    if before <= SILENCE_LUFS:
        raise AudioError("export loudness: the take is silent; there is no loudness to match")
    gain_db = m.target_lufs - before
    peak = true_peak_dbtp(audio, sr)
    held = peak + gain_db > m.ceiling_dbtp
    if held:
        gain_db = m.ceiling_dbtp - peak
    return {
        "target_lufs": m.target_lufs,
        "ceiling_dbtp": m.ceiling_dbtp,
        "measured_lufs": round(before, 2),
        "gain_db": round(gain_db, 2),
        "result_lufs": round(before + gain_db, 2),
        "true_peak_dbtp": round(peak + gain_db, 2),
        "held_by_ceiling": held,
    }


def describe(report: dict[str, Any]) -> str:
    """One line a musician reads: "48 kHz from 32 kHz · −14.0 LUFS (−1.0 dBTP) · TPDF dither"."""
    parts = []
    if "channels" in report:
        parts.append("mono" if report["channels"]["to"] == 1 else "stereo")
    if "sample_rate" in report:
        r = report["sample_rate"]
        parts.append(f"{r['to'] / 1000:g} kHz from {r['from'] / 1000:g} kHz")
    if "loudness" in report:
        n = report["loudness"]
        text = f"{n['result_lufs']:.1f} LUFS, true peak {n['true_peak_dbtp']:.1f} dBTP"
        if n["held_by_ceiling"]:
            text += (
                f" (held below {n['target_lufs']:g} LUFS by the {n['ceiling_dbtp']:g} dBTP ceiling)"
            )
        parts.append(text)
    if "dither" in report:
        parts.append(f"TPDF dither at {report['dither']['bits']} bits")
    return " · ".join(parts) or "as made"


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def file_name(template: str, fields: dict[str, str], suffix: str) -> str:
    """The file name ``template`` gives for ``fields`` (``{title} - {date} - {take}``), made safe
    for every file system (no slashes, colons or control characters) and ending in ``suffix``;
    InvalidInput naming an unknown field or an empty result."""
    stamp = datetime.now(UTC).astimezone()
    values = {"date": stamp.strftime("%Y-%m-%d"), "time": stamp.strftime("%H%M"), **fields}
    for name in re.findall(r"{([^{}]*)}", template):
        if name not in TEMPLATE_FIELDS:
            known = ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
            raise InvalidInput(f"file name template: unknown field {{{name}}} (known: {known})")
    try:
        text = template.format_map({k: _UNSAFE.sub("-", str(v)) for k, v in values.items()})
    except (ValueError, IndexError, KeyError) as exc:
        raise InvalidInput(f"file name template {template!r}: {exc}") from None
    text = _UNSAFE.sub("-", text).strip(" .-")
    if not text:
        raise InvalidInput(f"file name template {template!r}: gives an empty name")
    return text[:180] + suffix
