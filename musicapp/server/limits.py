"""Write rate limits (token bucket per account or client IP) and the request body size limit.

Both are plain ASGI middleware so they act before a body is parsed: a flood of writes costs a
dictionary lookup, and an oversized body is refused (413) without being buffered past the limit.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Sequence
from typing import Any

WRITE_METHODS = {b"POST", b"PUT", b"PATCH", b"DELETE", "POST", "PUT", "PATCH", "DELETE"}


class TokenBucket:
    """``rate`` tokens per second up to ``burst``, per key; thread-safe."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed, else the seconds until a token is available."""
        now = time.monotonic()
        with self._lock:
            tokens, at = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1 - tokens) / self.rate if self.rate > 0 else 3600.0


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
    """413 for bodies over ``max_body``; 429 + Retry-After when a caller's write bucket is empty."""

    def __init__(self, app: Any, max_body: int, bucket: TokenBucket) -> None:
        self.app, self.max_body, self.bucket = app, max_body, bucket

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization")
        if auth:
            key = "t:" + hashlib.sha256(auth).hexdigest()
        else:
            client = scope.get("client")
            key = "ip:" + (client[0] if client else "?")
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
