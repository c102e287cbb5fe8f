"""Reading, writing, resampling and channel conversion of audio arrays (channels, samples)."""

from __future__ import annotations

import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from musicapp.core import InvalidInput

MIN_SAMPLE_RATE = 4000  # below this nothing musical survives; likely a corrupt header
MAX_SAMPLE_RATE = 384000
MAX_CHANNELS = 64
# Shorter than a bar of music: too little to match a tone on, regenerate or keep as a take.
MIN_AUDIO_S = 1.0
# A real WAV or AIFF has a handful of chunks; walking at most this many bounds the work that a
# file of millions of empty chunks could cause.
MAX_CHUNKS = 1024
_WAV_PCM, _WAV_FLOAT, _WAV_EXTENSIBLE = 1, 3, 0xFFFE
# A resampling ratio with a larger term would need a very long polyphase filter (and
# torchaudio's sinc resampler runs out of memory on such pairs): it is approximated instead.
MAX_POLY_TERM = 2000
# Kaiser beta for resample_poly: about 100 dB of stop-band rejection, so nothing audible folds
# back, for a slightly wider transition band than scipy's default (beta 5).
RESAMPLE_KAISER_BETA = 10.0
# 5.1 (L R C LFE Ls Rs) to stereo after ITU-R BS.775: centre and surrounds at -3 dB, LFE left
# out; scaled so a full-scale input cannot clip.
_DOWNMIX_51 = np.array(
    [[1.0, 0.0, 0.7071, 0.0, 0.7071, 0.0], [0.0, 1.0, 0.7071, 0.0, 0.0, 0.7071]]
) / (1.0 + 2 * 0.7071)


class AudioError(InvalidInput):
    """An audio file or array that cannot be used; the message names the file or what is wrong."""


@dataclass(frozen=True)
class AudioInfo:
    """What a sound file holds, read from its header without decoding the samples."""

    path: Path
    sample_rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def audio_info(path: str | os.PathLike[str]) -> AudioInfo:
    """The header of a sound file, checked: exists, not empty, a format we decode, sane rate and
    channel count, and for WAV and AIFF a header that agrees with itself and with the file's
    size (`wav_header_problem`). Cheap for any length, so long files can be refused before they
    are decoded."""
    path = Path(path)
    if not path.exists():
        raise AudioError(f"audio file {path}: not found")
    if not path.is_file():
        raise AudioError(f"audio file {path}: is not a file")
    if path.stat().st_size == 0:
        raise AudioError(f"audio file {path}: cannot be read (the file is empty, 0 bytes)")
    check_wav_header(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError, TypeError, ValueError) as exc:
        raise AudioError(
            f"audio file {path}: cannot be read (not a WAV, FLAC, MP3 or OGG file, or its "
            f"header is damaged: {exc})"
        ) from exc
    fmt = str(info.format)
    if fmt == "RAW":  # headerless: rate and layout would be guesses
        raise AudioError(f"audio file {path}: cannot be read (raw samples without a header)")
    sr, channels, frames = int(info.samplerate), int(info.channels), int(info.frames)
    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"audio file {path}: sample rate {sr} Hz is outside "
            f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz (damaged header?)"
        )
    if not 1 <= channels <= MAX_CHANNELS:
        raise AudioError(f"audio file {path}: {channels} channels is not a usable channel count")
    if frames <= 0:
        raise AudioError(f"audio file {path}: contains no samples")
    return AudioInfo(path, sr, channels, frames, fmt, str(info.subtype))


def check_wav_header(path: str | os.PathLike[str]) -> None:
    """Raise AudioError naming the file when `wav_header_problem` finds one (see there)."""
    problem = wav_header_problem(path)
    if problem:
        raise AudioError(f"audio file {path}: {problem}")


def wav_header_problem(path: str | os.PathLike[str]) -> str | None:
    """What is wrong with a WAV or AIFF file's header, in words a musician can act on, or None
    (also for any other format, which libsndfile checks itself).

    libsndfile quietly reads whatever there is of a file whose data chunk claims more bytes
    than the file holds (an interrupted copy, or a header never finished), and reads a WAV
    whose bits per sample disagree with its block align at the wrong sample size (noise): both
    would become a short or garbled take that looks fine. Refused here: a data chunk (WAV
    `data`, AIFF `SSND`) longer than the rest of the file, and for PCM and float WAVs a sample
    size, block align (bytes per frame) or byte rate that do not agree."""
    try:
        with Path(path).open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(12)
            if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
                kind, order, data_id = "WAV", "<" if head[:4] == b"RIFF" else ">", b"data"
            elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
                kind, order, data_id = "AIFF", ">", b"SSND"
            else:
                return None
            seen_format = kind != "WAV"
            seen_data = False
            for _ in range(MAX_CHUNKS):
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                name, length = chunk[:4], struct.unpack(order + "I", chunk[4:])[0]
                start = f.tell()
                if name == data_id and not seen_data:
                    if length > size - start:
                        return (
                            f"truncated {kind}: its header says the audio data is {length:,} "
                            f"bytes, the file holds only {size - start:,} after the header (the "
                            "file was cut off, or the program that wrote it never finished it); "
                            "copy or export it again"
                        )
                    seen_data = True
                elif name == b"fmt " and kind == "WAV" and not seen_format:
                    problem = _wav_format_problem(f.read(min(length, 40)), order)
                    if problem:
                        return f"damaged WAV header: {problem}; export it again"
                    seen_format = True
                if seen_data and seen_format:
                    return None
                f.seek(start + length + (length & 1))  # chunks are padded to an even size
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


def _wav_format_problem(body: bytes, order: str) -> str | None:
    """The inconsistency in a WAV `fmt ` chunk's numbers, or None. Only PCM and float are
    checked: compressed codecs (ADPCM, GSM) have block layouts of their own."""
    if len(body) < 16:
        return f"the format chunk is {len(body)} bytes, too short to describe the audio"
    tag, channels, rate, byte_rate, align, bits = struct.unpack(order + "HHIIHH", body[:16])
    valid_bits = bits
    if tag == _WAV_EXTENSIBLE and len(body) >= 26:
        # WAVE_FORMAT_EXTENSIBLE: valid bits at 18, the real format tag opens the GUID at 24.
        valid_bits = struct.unpack(order + "H", body[18:20])[0]
        tag = struct.unpack(order + "H", body[24:26])[0]
    if tag not in (_WAV_PCM, _WAV_FLOAT):
        return None
    if channels == 0:
        return "it says the audio has 0 channels"
    if not (1 <= bits <= 32 if tag == _WAV_PCM else bits in (32, 64)):
        sizes = "integer samples are 8 to 32 bits" if tag == _WAV_PCM else "float are 32 or 64"
        return f"{bits} bits per sample is not a sample size ({sizes})"
    frame = channels * -(-bits // 8)
    if align != frame:
        return (
            f"{bits}-bit samples in {channels} channel(s) take {frame} bytes per frame, "
            f"but the block align says {align}"
        )
    if byte_rate != rate * align:
        return (
            f"the byte rate {byte_rate:,} is not the sample rate times the bytes per frame "
            f"({rate:,} x {align} = {rate * align:,})"
        )
    if valid_bits > bits:
        return f"{valid_bits} valid bits do not fit in {bits}-bit samples"
    return None


def check_duration(
    info: AudioInfo,
    max_duration_s: float | None,
    what: str = "",
    min_duration_s: float | None = None,
) -> None:
    """Refuse a file longer than `max_duration_s` or shorter than `min_duration_s` (None: no
    limit) from its header, before it is decoded."""
    purpose = f" for {what}" if what else ""
    if max_duration_s is not None and info.duration_s > max_duration_s:
        raise AudioError(
            f"audio file {info.path}: lasts {_clock(info.duration_s)}, longer than the "
            f"{_clock(max_duration_s)} allowed{purpose}; cut it shorter or pick a range"
        )
    if min_duration_s is not None and info.duration_s < min_duration_s:
        raise AudioError(_too_short(info.path, info.duration_s, min_duration_s, purpose))


def _too_short(path: Path, seconds: float, min_duration_s: float, purpose: str = "") -> str:
    return (
        f"audio file {path}: too short, it lasts {seconds:.3f} s and at least "
        f"{min_duration_s:g} s is needed{purpose}"
    )


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def read_audio(
    path: str | os.PathLike[str],
    max_duration_s: float | None = None,
    min_duration_s: float | None = None,
) -> tuple[np.ndarray, int]:
    """Read a sound file as float32 (channels, samples) and its sample rate.

    The header is checked first (`audio_info`), so a file over `max_duration_s` is refused
    without decoding it. The decoded audio is then checked against the header: fewer frames
    than it promised (a cut-off file; not for MP3, whose counts are estimates), samples that
    are not finite, or less than `min_duration_s` (MIN_AUDIO_S for anything kept as a take)
    are refused. Every failure is an AudioError naming the file."""
    info = audio_info(path)
    check_duration(info, max_duration_s)
    path = info.path
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        raise AudioError(
            f"audio file {path}: truncated or damaged {info.format}, it cannot be decoded to "
            f"the end ({exc}); copy or export it again"
        ) from exc
    except MemoryError as exc:
        raise AudioError(
            f"audio file {path}: too large to decode into memory ({_clock(info.duration_s)}, "
            f"{info.channels} channels)"
        ) from exc
    decoded = data.shape[0]
    if decoded == 0:
        raise AudioError(f"audio file {path}: contains no samples")
    if decoded < info.frames and info.format != "MP3":
        raise AudioError(
            f"audio file {path}: truncated {info.format}, its header says {info.frames:,} "
            f"frames ({info.duration_s:.3f} s) but only {decoded:,} ({decoded / sr:.3f} s) "
            "could be decoded; copy or export it again"
        )
    audio = np.ascontiguousarray(data.T)
    finite = np.isfinite(audio)
    if not finite.all():
        bad = int(finite.size - np.count_nonzero(finite))
        first = int(np.argmin(finite.all(axis=0)))
        raise AudioError(
            f"audio file {path}: damaged, {bad:,} samples are not numbers (NaN or infinite), "
            f"the first at {first / sr:.3f} s; export it again"
        )
    if min_duration_s is not None and decoded / sr < min_duration_s:
        raise AudioError(_too_short(path, decoded / sr, min_duration_s))
    return audio, int(sr)


def load_audio(
    path: str | os.PathLike[str],
    sample_rate: int,
    channels: int = 2,
    max_duration_s: float | None = None,
    min_duration_s: float | None = None,
) -> np.ndarray:
    """Read any readable file at `sample_rate` with `channels` channels: what an engine wants
    from the user's own audio whatever rate and layout it came in (checked as `read_audio`)."""
    audio, sr = read_audio(path, max_duration_s, min_duration_s)
    return to_channels(resample(audio, sr, sample_rate), channels)


def write_wav(
    path: str | os.PathLike[str], audio: np.ndarray, sr: int, subtype: str = "PCM_16"
) -> Path:
    """Write (channels, samples) audio as WAV, atomically: a reader never sees half a file."""
    path = Path(path)
    audio = as_audio(audio, what=str(path))
    if sr <= 0:
        raise AudioError(f"audio file {path}: sample rate must be positive, got {sr}")
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary file sits beside the target so os.replace never crosses file systems.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        sf.write(tmp, np.clip(audio, -1.0, 1.0).T, sr, subtype=subtype, format="WAV")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def as_audio(audio: np.ndarray, what: str = "audio") -> np.ndarray:
    """Check and return audio as float32 (channels, samples); a 1-D array is taken as mono."""
    arr = np.asarray(audio)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise AudioError(f"{what}: expected (channels, samples), got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise AudioError(f"{what}: contains no samples")
    return arr.astype(np.float32, copy=False)


def resample(audio: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Resample (channels, samples) audio, band-limited, keeping pitch and duration.

    scipy's polyphase filter with a Kaiser window of about 100 dB rejection: no torch import,
    and nothing audible folds back at 8 kHz or 96 kHz. An odd rate pair whose exact ratio has
    huge terms (44101 -> 32000) uses the nearest ratio with terms up to MAX_POLY_TERM (pitch
    off by far less than a thousandth of a cent) rather than a filter millions of taps long;
    the length is always round(n * sr_to / sr_from)."""
    from fractions import Fraction

    from scipy.signal import resample_poly

    if sr_from <= 0 or sr_to <= 0:
        raise AudioError(f"resample: sample rates must be positive, got {sr_from} -> {sr_to}")
    audio = as_audio(audio)
    if sr_from == sr_to:
        return audio.copy()
    ratio = Fraction(int(sr_to), int(sr_from))
    if max(ratio.numerator, ratio.denominator) > MAX_POLY_TERM:
        ratio = ratio.limit_denominator(max(1, int(MAX_POLY_TERM / max(1.0, float(ratio)))))
    window = ("kaiser", RESAMPLE_KAISER_BETA)
    out = resample_poly(audio, ratio.numerator, ratio.denominator, axis=1, window=window)
    n = int(round(audio.shape[1] * sr_to / sr_from))
    if out.shape[1] < n:
        out = np.pad(out, ((0, 0), (0, n - out.shape[1])))
    return np.ascontiguousarray(out[:, :n], dtype=np.float32)


def to_channels(audio: np.ndarray, n: int) -> np.ndarray:
    """Convert to n channels: mono is copied out, several to mono are averaged; 5.1 to stereo
    follows ITU-R BS.775 (centre and surrounds at -3 dB, no LFE), other multichannel layouts
    to stereo average the even-numbered channels into left and the odd ones into right (files
    store L/R pairs), so no channel is silently dropped."""
    if n < 1:
        raise AudioError(f"to_channels: channel count must be at least 1, got {n}")
    audio = as_audio(audio)
    have = audio.shape[0]
    if have == n:
        return audio
    if n == 1:
        return audio.mean(axis=0, keepdims=True)
    if have == 1:
        return np.repeat(audio, n, axis=0)
    if n == 2 and have == 6:
        return (_DOWNMIX_51 @ audio).astype(np.float32)
    if n == 2 and have > 2:
        return np.stack([audio[0::2].mean(axis=0), audio[1::2].mean(axis=0)])
    if have > n:
        return audio[:n]
    # More channels than we have: repeat the existing ones in order (stereo -> L R L R ...).
    return audio[np.arange(n) % have]
