"""Constrained field types for the API's route models, and the one parser of times at the API.

Every limit here exists because something behind the API cannot hold more: ids and names go into
``String(200)`` columns and integers into PostgreSQL ``INTEGER`` columns (``db.py``); SQLite would
take anything, so without these checks the two databases would answer the same request
differently (201 on one, 500 on the other). Times are bounded to years a client can do
arithmetic on without overflowing (a revocation "at" 9999-12-31T23:59:59-05:00 is a year-10000
instant in UTC, which Python's datetime cannot represent).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from musicapp.core import InvalidInput
from musicapp.core.times import utc_time
from musicapp.server.errors import ApiError

MAX_ID = 200
MAX_NAME = 200
MAX_WORD = 100
MAX_TIME_TEXT = 40
MAX_DB_INT = 2**31 - 1  # PostgreSQL INTEGER: feed and ledger seqs, versions, tree sizes

Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID)]
"""A song, rights-holder, account or event id."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME)]
Word = Annotated[str, StringConstraints(min_length=1, max_length=MAX_WORD)]
"""One value of a small vocabulary (a permission, a use tier, an event kind)."""
Count = Annotated[int, Field(ge=0, le=MAX_DB_INT)]
"""A cursor or an index from 0."""
Position = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
"""A 1-based position or size."""


class _HolderFacts(TypedDict):
    __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]
    id: Id


class SongFacts(TypedDict):
    """A song in ``song_to_dict`` form: the ids the database keys it by are checked here, every
    other field is kept as sent (``registry.check_song`` checks the splits)."""

    __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]
    id: Id
    rights_holders: list[_HolderFacts]


def time_problem(text: str) -> tuple[datetime | None, str]:
    """(the time in UTC, "") or (None, why ``text`` is not a usable time): the one rule for times
    at every trust boundary (``core.times``: a zone, UTC, years 1970-2999)."""
    if len(text) > MAX_TIME_TEXT:
        return None, f"is longer than {MAX_TIME_TEXT} characters, so not an ISO-8601 time"
    try:
        return utc_time(text, "time"), ""
    except InvalidInput as exc:
        return None, str(exc).removeprefix("time: ")


def parse_time(text: str, field: str) -> datetime:
    """An ISO-8601 time with a zone, in UTC; ApiError 422 naming ``field`` otherwise."""
    value, problem = time_problem(text)
    if value is None:
        raise ApiError(422, f"{field}: {problem}")
    return value


def _checked_time(text: str) -> str:
    value, problem = time_problem(text)
    if value is None:
        raise PydanticCustomError("time", problem)
    return text


def _utc_time(text: str) -> str:
    value, problem = time_problem(text)
    if value is None:
        raise PydanticCustomError("time", problem)
    return value.isoformat()


SignedTime = Annotated[str, AfterValidator(_checked_time)]
"""A time kept exactly as sent (it is part of a signed event's hash), but checked."""
UtcTime = Annotated[str, AfterValidator(_utc_time)]
"""A time normalised to UTC ISO-8601 (``+00:00``) before anything stores or compares it."""
