"""JSON bodies through pydantic-core's parser, and the input guard every route runs behind.

FastAPI parses a JSON body with ``await request.json()`` (``json.loads``) and then validates the
objects. For a 1,000-event ledger upload (about 1 MB) ``json.loads`` takes 16 ms and
``pydantic_core.from_json`` 6-9 ms, with the same results: big integers stay integers, NaN and
Infinity parse as floats, and the last of duplicate keys wins. A body it cannot parse goes to
``json.loads`` after all (which also takes lone surrogates such as ``"\\ud800"``), so the 422
names the position exactly as FastAPI's own parsing does; any other parse failure (too deep, not
UTF-8, a number of 5,000 digits) becomes the same kind of 422 instead of a bare 400.

``FastJSONRoute`` is the documented way to change the request class of a router's routes
(FastAPI's "Custom Request and APIRoute class"). It is also the one place that refuses, before
any route model or database sees them, the values nothing behind the API can hold: NUL
characters (PostgreSQL text cannot), lone surrogates (no UTF-8 encoding exists, so neither
database nor response can carry them), non-finite numbers (canonical JSON has none), bodies
nested deeper than ``MAX_DEPTH``, and query or path values over ``MAX_PARAM`` characters. The
app refuses to start with a route that is not one (``app.create_app``). ``json_response``
encodes with ``pydantic_core.to_json`` (2 ms against json.dumps's 7 ms for a batch's receipts).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

import pydantic_core
from fastapi import Request, Response
from fastapi.routing import APIRoute

from musicapp.core.times import excerpt
from musicapp.server.errors import ApiError

MAX_DEPTH = 200  # about where pydantic-core stops parsing too
MAX_PARAM = 1000

_UNSET = object()


def _parse_slowly(body: bytes) -> Any:
    """``json.loads``, with every failure a JSONDecodeError (FastAPI turns those into a 422)."""
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", "", 0) from None
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError("not UTF-8 text", "", exc.start) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise json.JSONDecodeError(str(exc).split(":")[0], "", 0) from None


class FastJSONRequest(Request):
    _parsed: Any = _UNSET
    # True when pydantic-core parsed the body: it refuses lone surrogates and nests at most
    # about 200 deep, which lets ``body_problem`` skip most of its walk.
    _parsed_strictly = False

    async def json(self) -> Any:
        if self._parsed is _UNSET:
            body = await self.body()
            try:
                self._parsed = pydantic_core.from_json(body)
                self._parsed_strictly = True
            except ValueError:
                self._parsed = _parse_slowly(body)
        return self._parsed


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"contains a lone surrogate ({excerpt(exc.object[exc.start])}), not a character"
    return None


def _is_held(value: Any) -> bool:
    """True when every part of ``value`` is something the server can hold; the fast walk."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is str:
            if _text_problem(item) is not None:
                return False
        elif kind is dict:
            if depth >= MAX_DEPTH:
                return False
            for key, sub in item.items():
                if _text_problem(key) is not None:
                    return False
                stack.append((sub, depth + 1))
        elif kind is list:
            if depth >= MAX_DEPTH:
                return False
            stack.extend((sub, depth + 1) for sub in item)
        elif kind is float and not math.isfinite(item):
            return False
    return True


def _plainly_held(value: Any, raw: bytes) -> bool:
    """True when a body pydantic-core parsed (``raw``) certainly holds nothing ``_is_held``
    refuses; a third of the cost of that walk for a 1,000-event upload.

    What is left to find after pydantic-core: a NUL can only come from a ``\\u0000`` escape
    (raw control characters are refused), and a non-finite number shows as NaN or Infinity
    once encoded again (overflowing numbers such as 1e999 parse as infinity). A string that
    merely contains those words costs the full walk, nothing more.
    """
    if b"\\u0000" in raw:
        return False
    again = pydantic_core.to_json(value, inf_nan_mode="constants")
    return b"NaN" not in again and b"Infinity" not in again


def body_problem(value: Any, raw: bytes | None = None) -> str | None:
    """What in a parsed JSON body the server cannot hold, as "<field path>: <why>", or None.

    ``raw``: the body's bytes, given only when pydantic-core parsed them (a faster check).
    """
    if raw is not None and _plainly_held(value, raw):
        return None
    if _is_held(value):
        return None
    # The slow walk again, naming the path (the fast one builds no names).
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        where = path or "body"
        if isinstance(item, str):
            problem = _text_problem(item)
            if problem is not None:
                return f"{where}: {problem}"
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                return f"{where}: nested deeper than {MAX_DEPTH} levels"
            if isinstance(item, list):
                stack.extend((sub, f"{path}[{i}]", depth + 1) for i, sub in enumerate(item))
                continue
            for key, sub in item.items():
                name = f"{path}.{excerpt(key)}" if path else excerpt(key)
                problem = _text_problem(key)
                if problem is not None:
                    return f"{name}: the key {problem}"
                stack.append((sub, name, depth + 1))
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{where}: {item!r} is not a finite number (JSON has no NaN or Infinity)"
    return None


def params_problem(request: Request) -> str | None:
    """What in the query or path parameters the server cannot hold, naming the parameter."""
    pairs = [*request.query_params.multi_items(), *request.path_params.items()]
    for name, value in pairs:
        for text, what in ((name, "the name"), (str(value), "the value")):
            problem = _text_problem(text)
            if problem is None and len(text) > MAX_PARAM:
                problem = f"is longer than {MAX_PARAM} characters"
            if problem is not None:
                return f"{excerpt(name)}: {what} {problem}"
    return None


def _is_json(request: Request) -> bool:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    kind, _, sub = media.partition("/")
    return kind == "application" and (sub == "json" or sub.endswith("+json"))


class FastJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_body = self.body_field is not None

        async def route(request: Request) -> Response:
            guarded = FastJSONRequest(request.scope, request.receive)
            problem = params_problem(guarded)
            if problem is None and takes_body and _is_json(guarded):
                try:
                    value = await guarded.json()
                except ValueError:
                    pass  # not JSON: the handler's 422 says where, as FastAPI's own parsing does
                else:
                    raw = await guarded.body() if guarded._parsed_strictly else None
                    problem = body_problem(value, raw)
            if problem is not None:
                raise ApiError(422, problem)
            return await handler(guarded)

        return route


def json_response(content: Any, status_code: int = 200) -> Response:
    """A JSON response of plain JSON values (dicts, lists, str, int, float, bool, None)."""
    return Response(
        pydantic_core.to_json(content), status_code=status_code, media_type="application/json"
    )
