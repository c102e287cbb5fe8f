"""The studio's refusals (`InvalidInput`) in the window's words.

`str(exc)` is worded for the command line ("… (--user-audio)"); the window words the same
refusal from its structured fields instead, naming its own controls and the songs' titles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from musicapp.core import InvalidInput, Song

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
