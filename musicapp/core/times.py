"""Times that cross a trust boundary: parsed once, normalised to UTC, bounded to years 1970-2999.

Consent times come from people (a holder's revocation date) and from the rights server's feed.
A time at the edge of what ``datetime`` holds ("9999-12-31T23:59:59-05:00") is a valid ISO
string that overflows the moment anything converts it to UTC, so every such time is converted
here, where a failure is an ``InvalidInput`` naming the field, and nowhere later.
"""

from __future__ import annotations

from datetime import UTC, datetime

from musicapp.core.model import InvalidInput

MIN_YEAR, MAX_YEAR = 1970, 2999
# What an error message quotes of the text it refuses: enough to recognise it, never a flood.
EXCERPT_CHARS = 40


def excerpt(text: object, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters of ``text``, printable whatever they hold (a lone surrogate
    or a NUL shown escaped), marked with the full length when cut: for error messages, which
    never carry a caller's whole input."""
    value = text if isinstance(text, str) else repr(text)
    shown = value[:limit].encode("utf-8", "backslashreplace").decode("utf-8")
    shown = shown.replace("\x00", "\\x00")
    return shown if len(value) <= limit else f"{shown}... ({len(value)} characters)"


def utc_time(value: str | datetime, field: str) -> datetime:
    """``value`` (ISO 8601 with a zone, or an aware datetime) in UTC, within MIN_YEAR..MAX_YEAR.

    InvalidInput names ``field`` and what is wrong: not a time, no zone, or out of range.
    """
    if isinstance(value, datetime):
        when, shown = value, value.isoformat()
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{field}: {excerpt(value)} is not an ISO-8601 time") from None
        shown = value
    else:
        raise InvalidInput(f"{field}: {excerpt(value)} is not an ISO-8601 time")
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidInput(f"{field}: {excerpt(shown)} has no time zone (add +00:00 or Z)")
    try:
        utc = when.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise InvalidInput(
            f"{field}: {excerpt(shown)} is out of range (times from {MIN_YEAR} to {MAX_YEAR}, UTC)"
        )
    return utc


def utc_iso(value: str | datetime, field: str) -> str:
    """``utc_time`` as ISO 8601 text (``+00:00``), the form stored and sent."""
    return utc_time(value, field).isoformat()
