"""Write rate limits (token bucket per account, or per client address) and the body size limit.

Both are plain ASGI middleware so they act before a body is parsed: a flood of writes costs a
dictionary lookup and one indexed token lookup, and an oversized body is refused (413) without
being buffered past the limit.

A caller is its account only when its bearer token is one the server knows; a missing, junk or
revoked token counts as the client address. Keying by the raw header instead let anyone mint a
fresh bucket per request by sending a made-up token (the open device registration was unlimited
that way), and grew the bucket table by one entry per made-up token. The account found here is
handed to the route (``auth.current_account``), so a write still costs one token lookup.
Idle buckets are dropped once they would have refilled (they are then the same as a new one),
and the table never holds more than ``max_keys``, so memory stays bounded whatever callers send.
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from musicapp.server.auth import CALLER_SCOPE_KEY, token_from_header

WRITE_METHODS = {b"POST", b"PUT", b"PATCH", b"DELETE", "POST", "PUT", "PATCH", "DELETE"}


class TokenBucket:
    """``rate`` tokens per second up to ``burst``, per key; thread-safe, bounded in size."""

    def __init__(
        self,
        rate: float,
        burst: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self.max_keys, self._clock = rate, burst, max_keys, clock
        # Least recently used first, so idle buckets are found at the front.
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._state)

    def _forget_idle(self, now: float) -> None:
        if self.rate <= 0:
            return  # never refills: only max_keys bounds the table
        refilled_after = self.burst / self.rate
        while self._state:
            key, (_tokens, at) = next(iter(self._state.items()))
            if now - at < refilled_after:
                break
            del self._state[key]

    def take(self, key: str) -> float:
        """0 when allowed, else the seconds until a token is available."""
        now = self._clock()
        with self._lock:
            self._forget_idle(now)
            tokens, at = self._state.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.rate if self.rate > 0 else 3600.0
            self._state[key] = (tokens, now)
            if len(self._state) > self.max_keys:
                self._state.popitem(last=False)
            return wait


def address_key(scope: Any) -> str:
    """The caller's address; an IPv6 address by its /64, the block one subscriber gets."""
    client = scope.get("client")
    host = client[0] if client else "?"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"ip:{host}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"


async def _send_json(
    send: Any, status: int, body: dict[str, Any], headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class LimitsMiddleware:
    """413 for bodies over ``max_body``; 429 + Retry-After when a caller's write bucket is empty.

    ``identify(token)`` returns the token's account (anything with an ``id``) or None.
    """

    def __init__(
        self,
        app: Any,
        max_body: int,
        bucket: TokenBucket,
        identify: Callable[[str], Any | None],
    ) -> None:
        self.app, self.max_body, self.bucket, self.identify = app, max_body, bucket, identify

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        token = token_from_header(headers.get(b"authorization", b"").decode("latin-1"))
        account = None
        if token is not None:
            # Inline: one indexed read costs less than two thread handoffs (server/inline.py).
            account = self.identify(token)
            scope[CALLER_SCOPE_KEY] = (token, account)
        key = f"a:{account.id}" if account is not None else address_key(scope)
        wait = self.bucket.take(key)
        if wait > 0:
            await _send_json(
                send,
                429,
                {"detail": f"too many write requests; retry in {math.ceil(wait)} s"},
                [(b"retry-after", str(max(1, math.ceil(wait))).encode())],
            )
            return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _send_json(
                send, 413, {"detail": f"request body: larger than {self.max_body} bytes"}
            )
            return
        # Chunked or lying bodies: read up to the limit, then replay what was read.
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_body:
                await _send_json(
                    send, 413, {"detail": f"request body: larger than {self.max_body} bytes"}
                )
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
