"""Stem separation: Demucs from local weights, a labelled DSP fallback, and a result cache."""

from musicapp.stems.cache import CachedStems, CacheKey, StemCache
from musicapp.stems.fallback import FALLBACK_LABEL, FALLBACK_STEMS
from musicapp.stems.separate import SeparationOptions, separate_to_dir
from musicapp.stems.service import StemMethod, StemsResult, stems_for, stems_job

__all__ = [
    "FALLBACK_LABEL",
    "FALLBACK_STEMS",
    "CacheKey",
    "CachedStems",
    "SeparationOptions",
    "StemCache",
    "StemMethod",
    "StemsResult",
    "separate_to_dir",
    "stems_for",
    "stems_job",
]
