"""Royalty statements per rights holder and period: a range of ``statement_lines`` and its sum.

The lines were computed when their events were logged (``lines.py``), so a statement costs an
index range read for its page and one aggregate for its totals, however many events the period
holds, and an event nobody can read can never reach it (the intake refuses those). Pages are
ordered by (event time in UTC, device, seq, song) and continue from an opaque cursor.

``from_log`` builds the same statement from the stored events alone, recomputing every line:
its JSON and CSV are byte for byte those of the stored lines (the tests check it), which is what
lets anyone holding the log and the registry's feed audit a statement.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from datetime import UTC, datetime
from typing import Any, cast

import pydantic_core
from sqlalchemy import BindParameter, Connection, and_, bindparam, func, or_, select

from musicapp.server import backfill, db, lines
from musicapp.server.errors import ApiError

COLUMNS = (
    "event_id",
    "song_id",
    "use",
    "share",
    "split",
    "price_version",
    "price",
    "amount",
    "flags",
)
DEFAULT_LIMIT = 1000
MAX_LIMIT = 5000


def utc_bound(value: datetime, field: str) -> str:
    """A period bound as the lines store times (UTC, fixed width); 422 naming the field when
    it lies outside the years 1 to 9999 once in UTC."""
    try:
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    except OverflowError:
        raise ApiError(
            422, f"{field}: {value.isoformat()} is outside the years 1 to 9999 in UTC"
        ) from None


def _cursor_of(line: lines.Line) -> str:
    key = [line.created_utc, line.device_id, line.seq, line.song_id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def parse_cursor(text: str) -> tuple[str, str, int, str]:
    """The line key a cursor continues after; 422 for anything this server did not give."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        key = json.loads(raw)
        ok = (
            isinstance(key, list)
            and len(key) == 4
            and all(isinstance(k, str) and len(k) <= 200 for k in (key[0], key[1], key[3]))
            and type(key[2]) is int
        )
    except (binascii.Error, ValueError):
        ok = False
    if not ok or len(text) > 1000:
        raise ApiError(422, "cursor: not a cursor this server gave (pass next_cursor as it is)")
    return key[0], key[1], key[2], key[3]


def _statements() -> tuple[Any, Any, Any]:
    """The three queries, built once: (first page, a page after a cursor, totals). Bound
    parameters keep them identical from call to call, so SQLAlchemy compiles each once."""
    c = db.statement_lines.c
    period = (
        c.holder_id == bindparam("holder"),
        c.created_utc >= bindparam("start"),
        c.created_utc < bindparam("end"),
    )
    t, d, q, s = (cast(BindParameter[Any], bindparam(k)) for k in ("t", "d", "q", "s"))
    # (created_utc, device_id, seq, song_id) > the cursor's key, spelt out: row values compare
    # the same on both databases, but the planners use the index more reliably this way.
    after = (
        c.created_utc >= t,
        or_(
            c.created_utc > t,
            and_(c.created_utc == t, c.device_id > d),
            and_(c.created_utc == t, c.device_id == d, c.seq > q),
            and_(c.created_utc == t, c.device_id == d, c.seq == q, c.song_id > s),
        ),
    )
    page = (
        select(*(c[name] for name in lines.LINE_COLUMNS))
        .order_by(c.created_utc, c.device_id, c.seq, c.song_id)
        .limit(bindparam("limit"))
    )
    totals = select(func.count(), func.coalesce(func.sum(c.amount_nano), 0)).where(*period)
    return page.where(*period), page.where(*period, *after), totals


_FIRST_PAGE, _NEXT_PAGE, _TOTALS = _statements()


def _page(
    conn: Connection,
    holder_id: str,
    start: str,
    end: str,
    after: tuple[str, str, int, str] | None,
    limit: int,
) -> list[lines.Line]:
    params: dict[str, Any] = {"holder": holder_id, "start": start, "end": end, "limit": limit}
    if after is not None:
        params.update(zip(("t", "d", "q", "s"), after, strict=True))
    rows = conn.execute(_FIRST_PAGE if after is None else _NEXT_PAGE, params)
    return [lines.Line._make(r) for r in rows]


def _totals(conn: Connection, holder_id: str, start: str, end: str) -> tuple[int, int]:
    row = conn.execute(_TOTALS, {"holder": holder_id, "start": start, "end": end}).one()
    return int(row[0]), int(row[1])


def _line_dict(line: lines.Line) -> dict[str, Any]:
    return {
        "event_id": line.event_id,
        "song_id": line.song_id,
        "use": line.use,
        "share": line.share,
        "split": line.split,
        "price_version": line.price_version,
        "price": line.price,
        "amount": line.amount_nano / lines.NANO,
        "flags": line.flags.split(",") if line.flags else [],
    }


def _report(
    holder_id: str,
    start: datetime,
    end: datetime,
    page: list[lines.Line],
    totals: tuple[int, int],
    next_cursor: str | None,
) -> dict[str, Any]:
    return {
        "holder_id": holder_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "currency": "EUR",
        "lines": [_line_dict(line) for line in page],
        "line_count": totals[0],  # in the whole period, every page
        "total": totals[1] / lines.NANO,
        "total_nano": totals[1],  # exact: integer nano-euros
        "next_cursor": next_cursor,
    }


def statement(
    conn: Connection,
    holder_id: str,
    start: datetime,
    end: datetime,
    cursor: str | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """One page of the holder's statement for [start, end) (``limit`` None: every line), with
    the totals of the whole period and the cursor of the next page (None on the last)."""
    lo, hi = utc_bound(start, "from"), utc_bound(end, "to")
    after = parse_cursor(cursor) if cursor else None
    page: list[lines.Line] = []
    while True:  # limit None: every line, read a bounded page at a time
        want = MAX_LIMIT if limit is None else limit
        got = _page(conn, holder_id, lo, hi, after, want + 1)
        more = len(got) > want
        page += got[:want]
        if not more or limit is not None:
            break
        after = _key(page[-1])
    next_cursor = _cursor_of(page[-1]) if more and page else None
    return _report(holder_id, start, end, page, _totals(conn, holder_id, lo, hi), next_cursor)


def _key(line: lines.Line) -> tuple[str, str, int, str]:
    return line.created_utc, line.device_id, line.seq, line.song_id


def from_log(conn: Connection, holder_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """The whole statement recomputed from the stored events and the registry, without reading
    ``statement_lines``: the audit of ``statement(..., limit=None)``."""
    lo, hi = utc_bound(start, "from"), utc_bound(end, "to")
    t = db.ledger_events.c
    mine = [
        line
        for line in backfill.recompute(conn, t.created_utc >= lo, t.created_utc < hi)
        if line.holder_id == holder_id
    ]
    mine.sort(key=_key)
    totals = (len(mine), sum(line.amount_nano for line in mine))
    return _report(holder_id, start, end, mine, totals, None)


def to_json(report: dict[str, Any]) -> bytes:
    """The JSON the API serves (compact, UTF-8; pydantic-core's encoder, several times faster
    than json.dumps for a page of lines): the same bytes for the same report."""
    return pydantic_core.to_json(report)


def to_csv(report: dict[str, Any]) -> str:
    """The lines as CSV: floats as Python writes them (exactly the JSON numbers), flags
    separated by ";"; no total row."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for line in report["lines"]:
        row = {k: repr(v) if isinstance(v, float) else v for k, v in line.items()}
        row["flags"] = ";".join(line["flags"])
        row["price_version"] = "" if line["price_version"] is None else line["price_version"]
        writer.writerow(row)
    return buf.getvalue()
