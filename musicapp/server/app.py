"""``create_app(settings)``: the FastAPI app of the rights server (OpenAPI docs at /docs).

The app owns one ``Server`` (engine, signing key, write lock) on ``app.state.server``. Writes
run under one process-wide lock: SQLite allows one writer anyway, and the Merkle log must
append in one order.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from musicapp.server import db
from musicapp.server.errors import ApiError
from musicapp.server.limits import LimitsMiddleware, TokenBucket
from musicapp.server.settings import ServerSettings
from musicapp.server.sigcheck import SignatureChecker
from musicapp.transparency import signing


@dataclass
class Server:
    settings: ServerSettings
    engine: Engine
    key: signing.Ed25519PrivateKey
    write_lock: threading.Lock
    signatures: SignatureChecker

    def close(self) -> None:
        self.signatures.close()
        self.engine.dispose()


def open_server(settings: ServerSettings) -> Server:
    """Create the data folder, key and schema if missing; shared by the app and the CLI."""
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    engine = db.make_engine(settings.resolved_database_url())
    db.migrate(engine)
    key = signing.load_or_create_key(settings.key_path)
    return Server(settings, engine, key, threading.Lock(), SignatureChecker(settings.sig_workers))


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "body"


def _problem(error: dict[str, Any]) -> str:
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":  # loc is ("body", character position)
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        why = (error.get("ctx") or {}).get("error")
        return f"body: not valid JSON{at}" + (f" ({why})" if why else "")
    return f"{_field(loc)}: {error.get('msg', 'invalid')}"


def create_app(settings: ServerSettings) -> FastAPI:
    from musicapp.server import routes_accounts, routes_catalog, routes_ledger, routes_statements

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
        return JSONResponse({"detail": exc.detail, **exc.extra}, exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(e) for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(problems), "errors": jsonable(exc.errors())}, 422)

    for module in (routes_accounts, routes_catalog, routes_ledger, routes_statements):
        app.include_router(module.router)
    app.add_middleware(
        LimitsMiddleware,
        max_body=settings.max_body_bytes,
        bucket=TokenBucket(settings.write_rate_per_s, settings.write_burst),
    )
    return app


def jsonable(errors: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(errors, custom_encoder={Exception: str})
