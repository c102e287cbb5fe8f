"""Songs, consent (set, revoke, history) and the change feed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from musicapp.server import registry
from musicapp.server.auth import Caller, require_role
from musicapp.server.fastjson import FastJSONRoute
from musicapp.server.fields import MAX_DB_INT, MAX_ID, Id, SongFacts, UtcTime, Word

router = APIRouter(prefix="/v1", tags=["catalogue and consent"], route_class=FastJSONRoute)


class SongIn(BaseModel):
    song: SongFacts = Field(description="musicapp.core.codec.song_to_dict form")


class ConsentIn(BaseModel):
    song_id: Id
    holder_id: Id
    permissions: list[Word] = Field(max_length=20)
    uses: list[Word] = Field(max_length=20)
    effective_from: UtcTime | None = None
    prices: dict[Word, float] | None = None


class RevokeIn(BaseModel):
    song_id: Id
    holder_id: Id
    revoked_at: UtcTime | None = None


@router.post("/songs", status_code=201)
def add_song(body: SongIn, request: Request, account: Caller) -> Any:
    require_role(account, "admin")
    server = request.app.state.server
    with server.write_lock, server.engine.begin() as conn:
        song, _created = registry.add_song(conn, dict(body.song))
    return {"song": song}


@router.post("/consent", status_code=201)
def set_consent(body: ConsentIn, request: Request, account: Caller) -> Any:
    server = request.app.state.server
    with server.write_lock, server.engine.begin() as conn:
        record = registry.set_consent(
            conn,
            account,
            body.song_id,
            body.holder_id,
            body.permissions,
            body.uses,
            body.effective_from,
            body.prices,
        )
    return record


@router.post("/consent/revoke", status_code=201)
def revoke(body: RevokeIn, request: Request, account: Caller) -> Any:
    server = request.app.state.server
    with server.write_lock, server.engine.begin() as conn:
        return registry.revoke_consent(conn, account, body.song_id, body.holder_id, body.revoked_at)


@router.get("/consent/{song_id}/history")
def history(
    request: Request, account: Caller, song_id: str = Path(min_length=1, max_length=MAX_ID)
) -> Any:
    with request.app.state.server.engine.connect() as conn:
        return {"records": registry.consent_history(conn, account, song_id)}


@router.get("/feed")
def feed(
    request: Request,
    account: Caller,
    since: int = Query(0, ge=0, le=MAX_DB_INT),
    limit: int = Query(500, ge=1, le=1000),
) -> JSONResponse:
    with request.app.state.server.engine.connect() as conn:
        return JSONResponse(registry.feed(conn, since, limit))
