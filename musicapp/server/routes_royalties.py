"""Period statements under a chosen mechanism, and the inputs to recompute them
(``royalty_period.py``; docs/server-api.md, "Royalty statements under a mechanism").

Both routes are plain ``def``: a period is read and computed whole, which takes longer than the
event loop should be held (the per-event statements of ``routes_statements`` are a range read
and are served inline).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from musicapp.royalties import statement
from musicapp.royalties.period import Policy
from musicapp.server import royalty_period
from musicapp.server.auth import Account, Caller
from musicapp.server.errors import ApiError
from musicapp.server.fastjson import FastJSONRoute
from musicapp.server.fields import MAX_DB_INT, MAX_ID, MAX_TIME_TEXT, parse_time

router = APIRouter(prefix="/v1/royalties", tags=["royalties"], route_class=FastJSONRoute)


def period_of(from_: str, to: str) -> tuple[datetime, datetime]:
    """[from, to) in UTC; 422 naming the field for a bad time or an empty period."""
    start, end = parse_time(from_, "from"), parse_time(to, "to")
    if end <= start:
        raise ApiError(422, f"to: {to} is not after from ({from_})")
    return start, end


def _may_read(account: Account, holder_id: str) -> None:
    """The rule of ``GET /v1/statements``: an admin, or the holder's own account."""
    if account.role != "admin" and not (
        account.role == "holder" and account.holder_id == holder_id
    ):
        raise ApiError(
            403, f"holder_id: only {holder_id!r}'s own account (or an admin) may read this"
        )


def _json(text: str) -> Response:
    return Response(text.encode(), media_type="application/json")


@router.get("/statement")
def royalty_statement(
    request: Request,
    account: Caller,
    holder_id: str = Query(..., min_length=1, max_length=MAX_ID),
    from_: str = Query(..., alias="from", max_length=MAX_TIME_TEXT),
    to: str = Query(..., max_length=MAX_TIME_TEXT),
    mechanism: Literal["proportional", "top_k_uniform", "top_k_proportional"] = Query(
        "proportional"
    ),
    k: int = Query(3, ge=1, le=MAX_DB_INT, description="songs kept per use (Top-K mechanisms)"),
    pricing: Literal["tier", "flat"] = Query("tier"),
    pool_cents: int | None = Query(
        None,
        ge=0,
        le=royalty_period.MAX_CENTS,
        description="the pool; absent: the period's priced revenue",
    ),
    training_fraction: float = Query(0.0, ge=0.0, le=1.0),
    training: Literal["flat", "estimate"] = Query("flat"),
    minimum_cents: int = Query(0, ge=0, le=royalty_period.MAX_CENTS),
) -> Response:
    """The holder's statement for [from, to) under the mechanism, as canonical JSON
    (``royalties.statement.to_json``: the bytes ``musicapp-server statement`` prints)."""
    _may_read(account, holder_id)
    start, end = period_of(from_, to)
    try:
        policy = Policy(
            mechanism=mechanism,
            k=k,
            pricing=pricing,
            pool_cents=pool_cents,
            training_fraction=training_fraction,
            training=training,
            minimum_cents=minimum_cents,
        )
    except ValueError as exc:  # Policy names the field first
        raise ApiError(422, str(exc)) from None
    with request.app.state.server.engine.connect() as conn:
        stated = royalty_period.holder_statement(conn, holder_id, start, end, policy)
    return _json(statement.to_json(stated))


@router.get("/basis")
def royalty_basis(
    request: Request,
    account: Caller,
    from_: str = Query(..., alias="from", max_length=MAX_TIME_TEXT),
    to: str = Query(..., max_length=MAX_TIME_TEXT),
) -> Response:
    """The period's inputs (``royalties.basis``), whole, to an admin or any holder: a holder's
    share of a pool depends on every use in the period and every holder's weight in it."""
    if account.role not in ("admin", "holder"):
        raise ApiError(403, f"this needs an admin or holder account; yours is a {account.role}")
    start, end = period_of(from_, to)
    with request.app.state.server.engine.connect() as conn:
        basis = royalty_period.basis_dict(conn, start, end)
    return _json(statement.to_json(basis))
