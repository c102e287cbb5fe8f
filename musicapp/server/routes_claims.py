"""Rights claims: a device claims a song of its user's own, the admin confirms or rejects it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field, StringConstraints

from musicapp.server import claims
from musicapp.server.auth import Caller
from musicapp.server.fastjson import FastJSONRoute
from musicapp.server.fields import MAX_ID, Id, SongFacts, Word
from musicapp.server.writes import run_write

router = APIRouter(prefix="/v1", tags=["rights claims"], route_class=FastJSONRoute)

ClaimId = Annotated[str, Path(min_length=1, max_length=MAX_ID)]


class ClaimIn(BaseModel):
    song: SongFacts = Field(
        description="musicapp.core.codec.song_to_dict form; one rights holder, split 1.0"
    )
    holder_id: Id = Field(description="the song's one rights holder: the claimant")
    permissions: list[Word] = Field(max_length=20)
    uses: list[Word] = Field(max_length=20, description='must include "private"')


class RejectIn(BaseModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=claims.MAX_REASON)]


@router.post("/claims", status_code=201)
async def make_claim(body: ClaimIn, request: Request, response: Response, account: Caller) -> Any:
    """201 with a new claim; 200 with the existing one when the same device claims the same
    song for the same holder again while it is pending or confirmed."""
    song = dict(body.song)
    claim, created = await run_write(
        request.app.state.server,
        lambda conn: claims.make_claim(
            conn, account, song, body.holder_id, body.permissions, body.uses
        ),
    )
    if not created:
        response.status_code = 200
    return {"claim": claim}


@router.get("/claims")
def list_claims(
    request: Request,
    account: Caller,
    status: Literal["pending", "confirmed", "rejected"] | None = Query(None),
    limit: int = Query(500, ge=1, le=claims.MAX_LIST),
) -> Any:
    """Every claim for an admin, a device's own for a device; oldest first."""
    with request.app.state.server.engine.connect() as conn:
        return {"claims": claims.list_claims(conn, account, status, limit)}


@router.get("/claims/{claim_id}")
def get_claim(request: Request, account: Caller, claim_id: ClaimId) -> Any:
    with request.app.state.server.engine.connect() as conn:
        return {"claim": claims.get_claim(conn, account, claim_id)}


@router.post("/claims/{claim_id}/confirm")
async def confirm(request: Request, account: Caller, claim_id: ClaimId) -> Any:
    return await run_write(
        request.app.state.server, lambda conn: claims.confirm(conn, account, claim_id)
    )


@router.post("/claims/{claim_id}/reject")
async def reject(body: RejectIn, request: Request, account: Caller, claim_id: ClaimId) -> Any:
    return await run_write(
        request.app.state.server,
        lambda conn: claims.reject(conn, account, claim_id, body.reason),
    )
