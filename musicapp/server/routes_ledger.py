"""Ledger intake (per-device streams) and the log's signed head and proofs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from musicapp.server import translog
from musicapp.server.auth import Account, Caller, require_role
from musicapp.server.errors import ApiError
from musicapp.server.fastjson import FastJSONRoute, json_response
from musicapp.server.fields import MAX_DB_INT, Id, Position, SignedTime
from musicapp.server.inline import InlineCaller
from musicapp.server.writes import INLINE_EVENTS, run_write

router = APIRouter(prefix="/v1", tags=["ledger and log"], route_class=FastJSONRoute)

HEX64 = r"^[0-9a-f]{64}$"
BASE64 = r"^[A-Za-z0-9+/]+={0,2}$"


class EventIn(BaseModel):
    seq: Position
    event_id: Id
    kind: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    payload: dict[str, Any]
    created_at: SignedTime
    prev_hash: str = Field(pattern=HEX64)
    hash: str = Field(pattern=HEX64)
    signature: str = Field(min_length=1, max_length=100, pattern=BASE64)


class BatchIn(BaseModel):
    events: list[EventIn] = Field(max_length=1000)
    device_id: Id | None = Field(
        default=None, description="optional: the stream meant; refused (403) if not the caller's"
    )


@router.post("/ledger/events")
async def upload(body: BatchIn, request: Request, account: Caller) -> Response:
    require_role(account, "device")
    if body.device_id is not None and body.device_id != account.id:
        raise ApiError(403, f"device_id: a device may append only to its own stream ({account.id})")
    server = request.app.state.server
    # A big batch is checked and appended in the thread pool: on the loop it would hold every
    # other caller for its length (writes.py).
    small = len(body.events) <= INLINE_EVENTS
    if small:
        events, signatures_ok = _checked(server, body, account)
    else:
        events, signatures_ok = await run_in_threadpool(_checked, server, body, account)
    committed: list[Callable[[], None]] = []
    outcome = await run_write(
        server,
        lambda conn: translog.append_events(
            conn, server.key, account, events, signatures_ok, committed
        ),
        inline=small,
    )
    return _answer(committed, *outcome)


def _checked(
    server: Any, body: BatchIn, account: Account
) -> tuple[list[dict[str, Any]], list[bool]]:
    """The events as plain dicts (without model_dump's per-event serialiser pass), prepared
    (``translog.prepare``), with their signatures checked: all outside the write lock, so other
    devices' uploads can append meanwhile."""
    events = [
        {
            "seq": e.seq,
            "event_id": e.event_id,
            "kind": e.kind,
            "payload": e.payload,
            "created_at": e.created_at,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
            "signature": e.signature,
        }
        for e in body.events
    ]
    assert account.public_key is not None
    answers = server.signatures.start(
        account.public_key, [(e["hash"], e["signature"]) for e in events]
    )
    translog.prepare(events)  # payload encoding and event hashes while the workers check
    return events, answers()


def _answer(
    committed: list[Callable[[], None]],
    receipts: list[dict[str, Any]],
    error: ApiError | None,
    proof: dict[str, Any] | None,
) -> Response:
    for publish in committed:  # the transaction has committed: share its Merkle nodes
        publish()
    if error is not None:
        raise ApiError(error.status, error.detail, accepted=receipts)
    # The receipts are already JSON values: jsonable_encoder over a thousand receipts would
    # cost more than building them.
    return json_response({"receipts": receipts, **({"consistency": proof} if proof else {})})


@router.get("/log/sth")
async def sth(request: Request, account: InlineCaller) -> Any:
    server = request.app.state.server
    with server.engine.connect() as conn:
        head = translog.current_head(conn)
    if head is None:  # only an empty log has no signed head yet: sign one under the lock
        head = await run_in_threadpool(_sign_first_head, server)
    assert head is not None  # signed just now
    return head.to_dict()


def _sign_first_head(server: Any) -> Any:
    with server.write_lock, server.engine.begin() as conn:
        return translog.latest_head(conn, server.key)


@router.get("/log/consistency")
async def consistency(
    request: Request,
    account: InlineCaller,
    first: int = Query(..., ge=0, le=MAX_DB_INT),
    second: int = Query(..., ge=0, le=MAX_DB_INT),
) -> Any:
    with request.app.state.server.engine.connect() as conn:
        return {
            "first": first,
            "second": second,
            "proof": translog.consistency(conn, first, second),
        }


@router.get("/log/inclusion")
async def inclusion(
    request: Request,
    account: InlineCaller,
    leaf_index: int = Query(..., ge=0, le=MAX_DB_INT),
    tree_size: int = Query(..., ge=0, le=MAX_DB_INT),
) -> Any:
    with request.app.state.server.engine.connect() as conn:
        proof = translog.inclusion(conn, leaf_index, tree_size)
    return {"leaf_index": leaf_index, "tree_size": tree_size, "inclusion": proof}
