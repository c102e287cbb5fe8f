"""The studio's refusals (`InvalidInput`) in the window's words, and one-click fixes for them.

`str(exc)` is worded for the command line ("… (--user-audio)"); the window words the same
refusal from its structured fields instead, naming its own controls and the songs' titles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from musicapp.core import InvalidInput, Level, Song

if TYPE_CHECKING:
    from musicapp.ui.references_widget import ReferencesWidget

# Where the window takes each request field a refusal can ask for.
FIELD_PLACES = {"user_audio": "Your audio → Load audio…"}


def readable(exc: InvalidInput, songs: Mapping[str, Song]) -> str:
    """`exc` for the window: song titles for the ids of `songs`, and where in the window to give
    a missing field (the command line names its option there instead)."""
    message = exc.detail
    for sid, song in songs.items():
        message = re.sub(rf"\b(reference|song) {re.escape(sid)}\b", f"“{song.title}”", message)
    place = FIELD_PLACES.get(exc.field or "") if exc.option else None
    return f"{message} ({place})" if place else message


def level_fixes(
    references: ReferencesWidget, leave_audio_out: Callable[[], None] | None = None
) -> list[tuple[str, Callable[[], None]]]:
    """One-click fixes for references that mix levels an engine cannot combine (your-audio
    levels with song or parameter level): all at the your-audio level, or all whole songs
    (then your audio, if loaded, is left out too: ``leave_audio_out``, no file is touched)."""
    levels = references.levels()
    mine = sorted(levels & {Level.AUDIO, Level.TEMPORAL}, key=lambda lv: lv.value)
    if not mine or not levels - set(mine):
        return []
    target = mine[0]

    def set_all(level: Level) -> None:
        for row in range(references.count()):
            if references.level_at(row) is not level:
                references.set_level(row, level)

    def whole_songs() -> None:
        set_all(Level.SONG)
        if leave_audio_out is not None:
            leave_audio_out()

    whole = "Make every reference a whole song"
    if leave_audio_out is not None:
        whole += " (without your audio)"
    return [
        (f"Make every reference {LEVEL_NAMES[target]}", lambda: set_all(target)),
        (whole, whole_songs),
    ]


LEVEL_NAMES = {Level.AUDIO: "audio-level", Level.TEMPORAL: "temporal"}
