"""Royalty statements as JSON or CSV, a page at a time (``statements.py``), served on the event
loop (``inline.py``): a page is one index range read and one sum."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from musicapp.server import statements
from musicapp.server.errors import ApiError
from musicapp.server.fastjson import FastJSONRoute
from musicapp.server.fields import MAX_ID, MAX_TIME_TEXT, parse_time
from musicapp.server.inline import InlineCaller

router = APIRouter(prefix="/v1", tags=["statements"], route_class=FastJSONRoute)


@router.get("/statements")
async def statement(
    request: Request,
    account: InlineCaller,
    holder_id: str = Query(..., min_length=1, max_length=MAX_ID),
    from_: str = Query(..., alias="from", max_length=MAX_TIME_TEXT),
    to: str = Query(..., max_length=MAX_TIME_TEXT),
    format: Literal["json", "csv"] = Query("json"),
    cursor: str | None = Query(
        None, max_length=1000, description="next_cursor of the previous page"
    ),
    limit: int = Query(statements.DEFAULT_LIMIT, ge=1, le=statements.MAX_LIMIT),
) -> Response:
    if account.role != "admin" and not (
        account.role == "holder" and account.holder_id == holder_id
    ):
        raise ApiError(
            403, f"holder_id: only {holder_id!r}'s own account (or an admin) may read this"
        )
    start, end = parse_time(from_, "from"), parse_time(to, "to")
    if end <= start:
        raise ApiError(422, f"to: {to} is not after from ({from_})")
    with request.app.state.server.engine.connect() as conn:
        report = statements.statement(conn, holder_id, start, end, cursor, limit)
    if format == "csv":
        # The cursor of the next page travels in a header: CSV has no place for it.
        headers = {"X-Next-Cursor": report["next_cursor"]} if report["next_cursor"] else None
        return Response(statements.to_csv(report), media_type="text/csv", headers=headers)
    return Response(statements.to_json(report), media_type="application/json")
