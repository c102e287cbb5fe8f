"""The audio engine in one run: tone matching against matchering, separation against a bare
apply_model, and separation memory at 3 and 30 minutes.

    .venv/bin/python benchmarks/audio.py

Each part is its own script too (benchmarks/audio_tone.py, benchmarks/audio_stems.py); this
prints both tables. Separation uses a tiny randomly initialised HTDemucs (no real weights
here): it times the wrapper's overhead and memory, not separation quality.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audio_stems  # noqa: E402
import audio_tone  # noqa: E402


def main() -> int:
    t0 = time.perf_counter()
    for title, part in (("tone matching", audio_tone), ("stem separation", audio_stems)):
        print(f"== {title}")
        print("\n".join(part.lines()))
        print()
    print(f"(whole benchmark: {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
