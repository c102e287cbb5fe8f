"""``create_app(settings)``: the FastAPI app of the rights server (OpenAPI docs at /docs).

The app owns one ``Server`` (engine, signing key, write lock) on ``app.state.server``. Writes
run under one process-wide lock: SQLite allows one writer anyway, and the Merkle log must
append in one order. A write runs on the event loop when the lock is free
(``writes.run_write``).

Every answer to a refused request is ``{"detail": "<field>: <what is wrong>"}`` with a 4xx, and
no error body carries more of the caller's input than a short excerpt (``core.times.excerpt``): a
validation error lists where and why, never the value. Every route runs behind the input guard
of ``fastjson.FastJSONRoute``; the app refuses to start with one that does not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import Engine

from musicapp.core.times import excerpt
from musicapp.server import ca, db, files, migrations
from musicapp.server.auth import lookup_token
from musicapp.server.errors import ApiError
from musicapp.server.fastjson import FastJSONRoute
from musicapp.server.limits import LimitsMiddleware, TokenBucket
from musicapp.server.settings import ServerSettings
from musicapp.server.sigcheck import SignatureChecker
from musicapp.transparency import signing

log = logging.getLogger(__name__)

MAX_DETAIL = 2000  # characters of an error sentence
MAX_PROBLEMS = 20  # validation problems listed in one answer


@dataclass
class Server:
    settings: ServerSettings
    engine: Engine
    key: signing.Ed25519PrivateKey
    write_lock: threading.Lock
    signatures: SignatureChecker
    ca: ca.ServerCA
    inline_writes: bool = True  # writes.run_write: on the event loop when the lock is free

    def close(self) -> None:
        self.signatures.close()
        self.engine.dispose()


def open_server(settings: ServerSettings) -> Server:
    """Create the data folder, keys, CA and schema if missing; shared by the app and the CLI.

    The folder and its secret files are made 0700/0600 (or checked, ``files``) first. A CA
    certificate naming another log key than the server's refuses the start (``ca``).
    """
    url = settings.resolved_database_url()
    files.secure_data_dir(settings.data_dir, settings.key_path, url, settings.ca_key_path)
    key = signing.load_or_create_key(settings.key_path)
    authority = ca.load_or_create(
        settings.ca_key_path, settings.ca_cert_path, key, settings.key_path
    )
    engine = db.make_engine(url)
    migrations.migrate(engine)
    checker = SignatureChecker(settings.sig_workers)
    return Server(settings, engine, key, threading.Lock(), checker, authority)


def safe_text(text: str, limit: int = MAX_DETAIL) -> str:
    """``text`` as a response can carry it: lone surrogates escaped, at most ``limit`` long."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else f"{text[:limit]}... (cut at {limit} characters)"


def _loc_part(part: Any) -> str | int:
    return part if isinstance(part, int) else excerpt(str(part))


def _field(loc: tuple[Any, ...]) -> str:
    parts = [_loc_part(p) for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) or p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def _problem(error: dict[str, Any]) -> str:
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":  # loc is ("body", character position)
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        why = (error.get("ctx") or {}).get("error")
        return f"body: not valid JSON{at}" + (f" ({excerpt(str(why), 100)})" if why else "")
    return f"{_field(loc)}: {excerpt(str(error.get('msg', 'invalid')), 200)}"


def validation_body(errors: Sequence[Any]) -> dict[str, Any]:
    """The 422 body for pydantic/FastAPI errors: where and why, never the input itself."""
    shown = errors[:MAX_PROBLEMS]
    problems = [_problem(e) for e in shown]
    if len(errors) > len(shown):
        problems.append(f"and {len(errors) - len(shown)} more")
    listed = [
        {
            "loc": [_loc_part(p) for p in e.get("loc", ())],
            "msg": excerpt(str(e.get("msg", "")), 200),
            "type": str(e.get("type", "")),
        }
        for e in shown
    ]
    return {"detail": safe_text("; ".join(problems)), "errors": listed}


def _unguarded(routes: list[Any]) -> list[str]:
    out: list[str] = []
    for route in routes:
        # FastAPI keeps an included router as one route that holds it (``original_router``).
        inner = getattr(route, "original_router", None)
        if inner is not None:
            out += _unguarded(inner.routes)
        elif isinstance(route, APIRoute) and not isinstance(route, FastJSONRoute):
            out.append(f"{sorted(route.methods or ())} {route.path}")
    return out


def _check_routes(app: FastAPI) -> None:
    unguarded = _unguarded(app.router.routes)
    if unguarded:
        raise RuntimeError(
            "these routes bypass the input guard (give their APIRouter "
            f"route_class=FastJSONRoute): {', '.join(unguarded)}"
        )


def create_app(settings: ServerSettings) -> FastAPI:
    from musicapp.server import (
        routes_accounts,
        routes_ca,
        routes_catalog,
        routes_claims,
        routes_ledger,
        routes_royalties,
        routes_statements,
    )

    server = open_server(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        server.close()

    app = FastAPI(
        title="musicapp rights server",
        version="1",
        description="Consent registry, catalogue feed, ledger intake with signed receipts.",
        lifespan=lifespan,
    )
    app.state.server = server

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        body = {"detail": safe_text(exc.detail), **exc.extra}
        return JSONResponse(body, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(validation_body(list(exc.errors())), 422)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises it after this answer, so the server's log still has the traceback.
        log.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        detail = "internal error: the server could not answer this request (see its log)"
        return JSONResponse({"detail": detail}, 500)

    for module in (
        routes_accounts,
        routes_ca,
        routes_catalog,
        routes_claims,
        routes_ledger,
        routes_statements,
        routes_royalties,
    ):
        app.include_router(module.router)
    _check_routes(app)
    app.state.write_bucket = TokenBucket(settings.write_rate_per_s, settings.write_burst)
    app.add_middleware(
        LimitsMiddleware,
        max_body=settings.max_body_bytes,
        bucket=app.state.write_bucket,
        identify=partial(lookup_token, server.engine),
    )
    return app
