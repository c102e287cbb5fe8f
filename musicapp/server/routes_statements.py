"""Royalty statements as JSON or CSV."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from musicapp.server import statements
from musicapp.server.auth import Caller
from musicapp.server.errors import ApiError
from musicapp.server.fastjson import FastJSONRoute
from musicapp.server.fields import MAX_ID, parse_time

router = APIRouter(prefix="/v1", tags=["statements"], route_class=FastJSONRoute)


@router.get("/statements")
def statement(
    request: Request,
    account: Caller,
    holder_id: str = Query(..., min_length=1, max_length=MAX_ID),
    from_: str = Query(..., alias="from"),
    to: str = Query(...),
    format: Literal["json", "csv"] = Query("json"),
) -> Any:
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
        report = statements.statement(conn, holder_id, start, end)
    if format == "csv":
        return PlainTextResponse(statements.to_csv(report), media_type="text/csv")
    return report
