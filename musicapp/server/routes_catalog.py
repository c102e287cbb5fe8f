"""Songs, consent (set, revoke, history) and the change feed."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from musicapp.server import registry
from musicapp.server.auth import Caller, require_role
from musicapp.server.fastjson import FastJSONRoute
from musicapp.server.fields import MAX_DB_INT, MAX_ID, Id, SongFacts, UtcTime, Word
from musicapp.server.inline import InlineCaller
from musicapp.server.writes import run_write
from musicapp.transparency import feedsig, signing

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
async def add_song(body: SongIn, request: Request, account: Caller) -> Any:
    require_role(account, "admin")
    facts = dict(body.song)
    song, _created = await run_write(
        request.app.state.server, lambda conn: registry.add_song(conn, facts)
    )
    return {"song": song}


@router.post("/consent", status_code=201)
async def set_consent(body: ConsentIn, request: Request, account: Caller) -> Any:
    return await run_write(
        request.app.state.server,
        lambda conn: registry.set_consent(
            conn,
            account,
            body.song_id,
            body.holder_id,
            body.permissions,
            body.uses,
            body.effective_from,
            body.prices,
        ),
    )


@router.post("/consent/revoke", status_code=201)
async def revoke(body: RevokeIn, request: Request, account: Caller) -> Any:
    return await run_write(
        request.app.state.server,
        lambda conn: registry.revoke_consent(
            conn, account, body.song_id, body.holder_id, body.revoked_at
        ),
    )


@router.get("/consent/{song_id}/history")
def history(
    request: Request, account: Caller, song_id: str = Path(min_length=1, max_length=MAX_ID)
) -> Any:
    with request.app.state.server.engine.connect() as conn:
        return {"records": registry.consent_history(conn, account, song_id)}


@router.get("/feed")
async def feed(
    request: Request,
    account: InlineCaller,
    since: int = Query(0, ge=0, le=MAX_DB_INT),
    limit: int = Query(500, ge=1, le=1000),
    nonce: str | None = Query(
        None,
        pattern=feedsig.NONCE_PATTERN,
        description="the client's random nonce, echoed in the signed page (replay protection)",
    ),
) -> Response:
    server = request.app.state.server
    as_of = registry.now_iso()  # before the read: every change committed by then is in it
    with server.engine.connect() as conn:
        page = registry.feed(conn, since, limit)
    # ASCII-escaped JSON: any text a record holds goes out (JSONResponse would fail on a lone
    # surrogate, and that page would then fail for every client, forever).
    body = json.dumps(_signed(request, page, since, nonce, as_of), separators=(",", ":"))
    return Response(body, media_type="application/json")


def _signed(
    request: Request, page: dict[str, Any], since: int, nonce: str | None, as_of: str
) -> dict[str, Any]:
    """The page with what its signature covers (transparency/feedsig.py) and the signature."""
    state = request.app.state
    signer = getattr(state, "feed_signer", None)
    if signer is None:  # made once: libsodium expands the key for every signature otherwise
        key = state.server.key
        signer = state.feed_signer = (signing.Signer(key), signing.key_id(key))
    message = feedsig.page_message(
        nonce=nonce,
        since=since,
        next_=page["next"],
        more=page["more"],
        as_of=as_of,
        changes=page["changes"],
    )
    sign, key_id = signer
    return {
        **page,
        "since": since,
        "nonce": nonce,
        "as_of": as_of,
        "key_id": key_id,
        "signature": sign(message),
    }
