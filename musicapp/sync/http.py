"""HTTP with retries for the sync client: exponential backoff with jitter, Retry-After, cancel.

A mixin over ``SyncEngine``'s client, state and retry settings, so the engine holds the sync
itself and this file how one request is made.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from musicapp.jobs import CancelToken
from musicapp.sync.errors import SyncError

if TYPE_CHECKING:
    from musicapp.sync.state import SyncState

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
START_OVER = (
    "start over (Sync settings → Start over, or `musicapp sync --start-over`): the whole "
    "ledger is sent to the server and the old receipts are kept in an archive"
)
# What a message quotes of a server's error detail: a server must not fill the status bar.
MAX_DETAIL_CHARS = 500


class RetryingHTTP:
    """Requests to the rights server, retried on what a retry can fix."""

    _client: httpx.Client | None
    state: SyncState
    max_attempts: int
    # Whether the server answered anything in this sync: a refusal before it ever did means
    # nothing is there, after it a restart, worth the retries.
    contacted: bool = False
    base_delay_s: float
    max_delay_s: float
    _sleep: Callable[[float], None] | None
    _rng: random.Random

    if TYPE_CHECKING:

        @property
        def server_url(self) -> str: ...

    def _request(
        self,
        method: str,
        path: str,
        cancel: CancelToken,
        *,
        json_body: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        """``json_body`` is encoded by httpx; ``content`` is JSON bytes encoded already."""
        assert self._client is not None
        headers = {}
        if content is not None:
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.state.get('token')}"
        problem = ""
        for attempt in range(self.max_attempts):
            cancel.check()
            retry_after: float | None = None
            try:
                resp = self._client.request(
                    method, path, json=json_body, content=content, params=params, headers=headers
                )
            except httpx.TransportError as exc:
                problem = unreachable(exc, self.server_url)
                log.info("sync: %s %s: %s: %s", method, path, type(exc).__name__, exc)
                if attempt >= 1 and not self.contacted and lasting(exc):
                    break  # nothing there at all (not a restart mid-sync): say so now
            else:
                self.contacted = True
                if auth and resp.status_code == 401:
                    raise SyncError(
                        f"the server at {self.server_url} does not accept this device's token "
                        f"(its accounts were reset, or this device was removed there). To "
                        f"register again, {START_OVER}"
                    )
                if resp.status_code not in RETRY_STATUS:
                    return resp
                problem = f"the server answered {resp.status_code} ({detail(resp)})"
                retry_after = retry_after_s(resp)
            if attempt + 1 == self.max_attempts:
                break
            delay = min(self.max_delay_s, self.base_delay_s * 2**attempt)
            delay *= 0.5 + 0.5 * self._rng.random()  # jitter: clients do not retry in step
            if retry_after is not None:
                delay = max(delay, min(retry_after, self.max_delay_s))
            log.info("sync: %s %s failed (%s); retrying in %.2f s", method, path, problem, delay)
            self._wait(delay, cancel)
        if problem.startswith("cannot reach"):
            raise SyncError(problem)
        raise SyncError(f"{method} {path}: gave up after {self.max_attempts} attempts: {problem}")

    def _wait(self, delay: float, cancel: CancelToken) -> None:
        if self._sleep is not None:
            self._sleep(delay)
            return
        end = time.monotonic() + delay
        while (left := end - time.monotonic()) > 0:
            cancel.check()
            time.sleep(min(left, 0.1))

    def _expect(self, resp: httpx.Response, *codes: int) -> dict[str, Any]:
        if resp.status_code not in codes:
            raise SyncError(
                f"{resp.request.method} {resp.request.url.path}: the server answered "
                f"{resp.status_code}: {detail(resp)}"
            )
        body = resp.json()
        if not isinstance(body, dict):
            raise SyncError(f"{resp.request.url.path}: the server's answer is not a JSON object")
        return body


def _cause(exc: httpx.TransportError) -> str:
    """What a network failure is: "refused", "unknown host", "timeout", "tls" or "other"
    (from the exception's type and text, which vary with the platform)."""
    text = str(exc).lower()
    if "refused" in text or "errno 111" in text or "errno 61" in text:
        return "refused"
    if (
        "name or service not known" in text
        or "nodename nor servname" in text
        or "getaddrinfo" in text
    ):
        return "unknown host"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if "ssl" in text or "certificate" in text:
        return "tls"
    return "other"


WHY = {
    "refused": "nothing answers at that address (is the server running?)",
    "unknown host": "that host name is not known (check the address)",
    "timeout": "it did not answer in time",
    "tls": "its secure connection could not be checked (https certificate)",
    "other": "the network connection failed",
}


def lasting(exc: httpx.TransportError) -> bool:
    """A failure that waiting seconds does not fix (nothing listening at the address, a host
    name unknown, a certificate refused): tried once more, then said, rather than retried for
    a quarter of a minute (issue 19: 13 s of retries before the error)."""
    return isinstance(exc, httpx.ConnectError) and _cause(exc) in ("refused", "unknown host", "tls")


def unreachable(exc: httpx.TransportError, server_url: str) -> str:
    """What a network failure means and what to do, in words (the exception's own text goes
    to the log)."""
    return (
        f"cannot reach the rights server at {server_url}: {WHY[_cause(exc)]}. Your takes and "
        "ledger stay here and are sent at the next sync; the server's address is in Sync settings."
    )


def json_object(resp: httpx.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200] or resp.reason_phrase
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])[:MAX_DETAIL_CHARS]
    return str(body)[:200]


def retry_after_s(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None
