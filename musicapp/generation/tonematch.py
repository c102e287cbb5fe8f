"""The tone-match engine: the user's own stem moved toward the tone of weighted references.

No model and no reference audio in the output: the references only set the target of a DSP
chain (EQ, drive, compression, level; `audio.tone`). Their say in the result is their weight,
so the references share, by weight, what the chain changed in the take (the energy the dry
input at its best level does not explain), and the user's own audio has the rest: at wet 0 % the
take owes the references nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from musicapp.audio.io import audio_info, check_duration
from musicapp.audio.splice import range_samples, splice
from musicapp.core import USER_INDEX, GenerationRequest, InvalidInput, Level, Role
from musicapp.core.provenance import Provenance, SourceShare, TimelineSlot, normalise
from musicapp.generation.base import (
    ENGINE_LABELS,
    USER_SOURCE,
    Conditioning,
    GenerationResult,
    Material,
    check_conditioning,
    number_option,
)
from musicapp.generation.layers import stem_sum
from musicapp.jobs import CancelToken, Progress, ProgressCallback

if TYPE_CHECKING:
    from musicapp.audio.tone import ToneReport

MAX_USER_S = 20 * 60.0  # longer user audio is refused before it is decoded (see check_request)
SPLICE_S = 0.03  # equal-power crossfade at each edge of a user range
PEAK_CEILING = 10 ** (-0.3 / 20)  # as the tone chain's own limit
CONTEXT_S = 0.5  # of the user's audio either side of a range, processed and cut away
TIMELINE_MIN_FRACTION = 0.01
LEVELS = frozenset({Level.AUDIO, Level.TEMPORAL})
SWITCHES = ("drive", "dynamics")  # options that are "on" (default) or "off"


class ToneMatchEngine:
    """Matches the tone of the user's audio (a DI or amped guitar, say) to the references'.

    Each reference gives a target tone: the stems whose role, family or name is the reference's
    role (when the studio handed stems over), else its mix, cut to its time range. Targets blend
    by weight. With `request.user_range` only that range is processed (and analysed), then
    spliced back with crossfades; the rest stays sample for sample.

    Request options: "wet" (0-1, default 1) mixes the processed audio with the untouched input;
    "drive" = "off" never adds saturation; "dynamics" = "off" adds no compressor.
    """

    name = "tonematch"
    label = ENGINE_LABELS["tonematch"]
    levels = LEVELS
    roles = frozenset(Role)
    needs_weights = False

    def __init__(self, max_user_s: float = MAX_USER_S) -> None:
        self.max_user_s = max_user_s

    def check_request(self, request: GenerationRequest) -> None:
        """Refuse, before any audio is decoded, what this engine cannot do: references that are
        not audio or temporal level, no user audio, user audio that is unreadable or longer than
        `max_user_s` (checked from the file's header), bad options."""
        for ref in request.references:
            if ref.level not in LEVELS:
                raise InvalidInput(
                    f"reference {ref.song_id}: tone match reshapes your own audio, so every "
                    f"reference must be audio or temporal level, not {ref.level.value}"
                )
        if not request.user_audio:
            raise InvalidInput(
                "user audio: tone match needs your own audio",
                field="user_audio",
                option="--user-audio",
            )
        info = audio_info(request.user_audio)
        check_duration(info, self.max_user_s, "tone matching")
        if request.user_range is not None:
            request.user_range.check_within(info.duration_s, f"your audio {request.user_audio}")
        _options(request)

    def generate(
        self,
        request: GenerationRequest,
        conditioning: Conditioning,
        progress: ProgressCallback,
        cancel: CancelToken,
    ) -> GenerationResult:
        # Imported here so listing the engines does not pull in scipy.
        from musicapp.audio.loudness import SILENCE_LUFS
        from musicapp.audio.tone import ToneTarget, match_tone, tone_profile

        check_conditioning(self, request, conditioning)
        user = conditioning.user_audio
        if user is None:
            raise InvalidInput("user audio: tone match needs your own audio")
        wet, drive, dyn = _options(request)
        sr = conditioning.sample_rate
        targets = []
        for i, mat in enumerate(conditioning.materials):
            cancel.check()
            progress(Progress(0.6 * i / len(conditioning.materials), "generate", _what(mat)))
            profile = tone_profile(target_audio(mat), sr)
            if profile.loudness_lufs <= SILENCE_LUFS:
                raise InvalidInput(
                    f"reference {mat.song.id}: silent in the part used, it has no tone to match"
                )
            targets.append(ToneTarget(profile, mat.reference.weight))
        cancel.check()
        progress(Progress(0.6, "generate", "matching the tone"))
        rng = request.user_range
        if rng is not None:
            start, end = range_samples(rng, sr, user.shape[1], "your audio")
            # Processed with some audio either side, so the EQ and the compressor are settled
            # at the joins instead of ringing from a cut.
            lo = max(0, start - int(CONTEXT_S * sr))
            hi = min(user.shape[1], end + int(CONTEXT_S * sr))
            wide, report = match_tone(user[:, lo:hi], sr, targets, wet, drive, dyn)
            part = wide[:, start - lo : end - lo]
            # The range keeps the level of the audio around it: the tone changes at the joins,
            # the loudness does not jump.
            part = level_like(part, user[:, start:end])
            # An equal-power join of correlated signals can rise above either one: clip (only
            # such samples change; the untouched audio is within [-1, 1] already).
            audio = np.clip(splice(user, part, rng, sr, SPLICE_S), -1.0, 1.0)
        else:
            start, end = 0, user.shape[1]
            audio, report = match_tone(user, sr, targets, wet, drive, dyn)
        cancel.check()
        prov = tone_provenance(request, conditioning, audio, user, wet, (start, end))
        prov = replace(prov, method=f"{prov.method}; {describe(report)}")
        progress(Progress(1.0, "generate", "done"))
        return GenerationResult(audio.astype(np.float32, copy=False), sr, prov)


def level_like(part: np.ndarray, dry: np.ndarray) -> np.ndarray:
    """`part` at the RMS level of `dry` (what it replaces), peaks kept under full scale."""
    have = float(np.sqrt(np.mean(part.astype(np.float64) ** 2)))
    want = float(np.sqrt(np.mean(dry.astype(np.float64) ** 2)))
    if have <= 0 or want <= 0:
        return part
    gain = want / have
    peak = float(np.max(np.abs(part))) * gain
    if peak > PEAK_CEILING:
        gain *= PEAK_CEILING / peak
    return (part * np.float32(gain)).astype(np.float32)


def _options(request: GenerationRequest) -> tuple[float, bool, bool]:
    wet = number_option(request, "wet", 0.0, 1.0, 1.0)
    switches = []
    for name in SWITCHES:
        value = request.options.get(name, "on") or "on"
        if value not in ("on", "off"):
            raise InvalidInput(f"option {name}: {value!r} must be on or off")
        switches.append(value == "on")
    return float(1.0 if wet is None else wet), switches[0], switches[1]


def describe(report: ToneReport) -> str:
    """The fitted chain in a line, for the ledger's record of how the take was made."""
    comp = f"compressor {report.compressor_ratio:g}:1" if report.compressor_ratio > 1 else ""
    parts = [
        f"EQ up to {float(np.max(np.abs(report.eq_db))):.1f} dB",
        f"drive {report.drive_db:.1f} dB" if report.drive_db > 0 else "no drive",
        comp or "no compressor",
        f"gain {report.gain_db:+.1f} dB",
    ]
    return ", ".join(parts)


def _what(mat: Material) -> str:
    return f"measuring the tone of {mat.song.title}"


def target_audio(mat: Material) -> np.ndarray:
    """What a reference's tone is measured on: the sum of the stems it asks for (its part, a
    stem name or family such as "guitar"; else the stems playing its role, matched against a
    stem's role, family or name), or the mix when it asks for none or none was handed over."""
    ref = mat.reference
    wanted = ref.part or (str(ref.role.value) if ref.role is not None else "")
    if wanted:
        names = [
            s.name
            for s in mat.song.stems
            if s.name in mat.stems and wanted in (s.role, s.family, s.name)
        ]
        if names:
            return stem_sum(mat, names)
    return mat.mix


def reshaped_energy(
    out: np.ndarray, dry: np.ndarray, sr: int, start: int = 0, end: int | None = None
) -> tuple[float, np.ndarray]:
    """How much of `out` is not the user's own audio: the energy left in the processed part
    [start, end) once the dry input, at its best-fitting level there, is taken away (a level
    change alone is not the references'), as a fraction of the whole take's energy; and the
    same per second. 0 at wet 0 %, whatever the chain did."""
    end = out.shape[1] if end is None else end
    o = out.astype(np.float64)
    d = dry.astype(np.float64)
    po, pd = o[:, start:end], d[:, start:end]
    gain = float(np.sum(po * pd) / max(np.sum(pd * pd), 1e-20))
    resid = np.zeros_like(o)
    resid[:, start:end] = (po - gain * pd) ** 2
    total = o**2
    n_s = int(np.ceil(out.shape[1] / sr - 1e-9))
    edges = np.minimum(np.arange(n_s + 1) * sr, out.shape[1])
    r_sec = np.add.reduceat(resid.sum(axis=0), edges[:-1]) if n_s else np.zeros(0)
    t_sec = np.add.reduceat(total.sum(axis=0), edges[:-1]) if n_s else np.zeros(0)
    per_second = np.where(t_sec > 0, r_sec / np.maximum(t_sec, 1e-30), 0.0)
    whole = float(resid.sum() / total.sum()) if total.sum() > 0 else 0.0
    return min(1.0, whole), np.clip(per_second, 0.0, 1.0)


def tone_provenance(
    request: GenerationRequest,
    conditioning: Conditioning,
    out: np.ndarray,
    dry: np.ndarray,
    wet: float,
    span: tuple[int, int] | None = None,
) -> Provenance:
    """Shares measure what is audible: the references share (by weight) the energy the tone
    chain added or changed (`reshaped_energy`), the user's own audio has the rest. The timeline
    does the same per second."""
    sr = conditioning.sample_rate
    reshaped, per_second = reshaped_energy(out, dry, sr, *(span or (0, out.shape[1])))
    weights = normalise([m.reference.weight for m in conditioning.materials])
    shares = tuple(
        SourceShare(m.index, m.song.id, reshaped * w)
        for m, w in zip(conditioning.materials, weights, strict=True)
    ) + (SourceShare(USER_INDEX, USER_SOURCE, 1.0 - reshaped),)
    by_song: dict[str, float] = {}
    for m, w in zip(conditioning.materials, weights, strict=True):
        by_song[m.song.id] = by_song.get(m.song.id, 0.0) + w
    slots = []
    duration_s = out.shape[1] / sr
    for c, part in enumerate(per_second):
        a, b = float(c), min(c + 1.0, duration_s)
        fractions = {USER_SOURCE: 1.0 - float(part)}
        fractions.update({sid: float(part) * w for sid, w in by_song.items()})
        sources = tuple(
            sorted(
                ((sid, f) for sid, f in fractions.items() if f > TIMELINE_MIN_FRACTION),
                key=lambda x: -x[1],
            )
        )
        slots.append(TimelineSlot(a, b, sources))
    rng = request.user_range
    where = f" on {rng.start_s:g}-{rng.end_s:g} s" if rng else ""
    return Provenance(
        shares=shares,
        timeline=tuple(slots),
        engine=ToneMatchEngine.name,
        method=f"tone match (EQ, drive, compression, loudness){where}, wet {wet:g}",
        notes=(
            f"the tone chain changed {100 * reshaped:.1f} % of the take's energy: that is the "
            "references' share; the rest is your own audio",
        ),
    )
