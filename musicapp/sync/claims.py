"""The user's claims on their own songs, sent to the rights server for its admin to confirm.

The rights wizard makes the user the holder of their own songs on this computer at once
(``catalog/own_rights.py``). With a rights server set, each such song is also *claimed* there:
``POST /v1/claims`` with the song as this computer knows it, the user as its one holder and the
uses they allowed. The server's admin confirms the claim (the server then registers the song
and publishes the holder's consent, version 1, which the next sync brings back like any other
consent) or rejects it with a reason. Until then the song is usable as the local records say;
the consent panel says where each decision came from.

Claims wait here (``sync.sqlite``, table ``claims``) until a sync sends them, so a declaration
made offline is sent later, once; a sync also asks the server how each pending claim stands.
A claim the server will not take (the song is registered there already, or the claim is not
valid) is kept with the server's words and not sent again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from musicapp.core.codec import song_to_dict
from musicapp.jobs import CancelToken
from musicapp.sync.errors import SyncError
from musicapp.sync.http import detail

if TYPE_CHECKING:
    from musicapp.core import Song
    from musicapp.sync.state import SyncState

SCHEMA = """CREATE TABLE IF NOT EXISTS claims (
    song_id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, claim_id TEXT,
    status TEXT NOT NULL, reason TEXT, updated_at TEXT NOT NULL)"""

UNSENT, PENDING, CONFIRMED, REJECTED, REFUSED = (
    "unsent",
    "pending",
    "confirmed",
    "rejected",
    "refused",
)
SERVER_STATUSES = (PENDING, CONFIRMED, REJECTED)

Request = Callable[..., httpx.Response]


@dataclass(frozen=True)
class Claim:
    """One song claimed (or waiting to be): how it stands on the rights server."""

    song_id: str
    title: str
    status: str  # unsent, pending, confirmed, rejected (by the admin), refused (by the server)
    reason: str = ""  # the admin's reason, or the server's words when it refused
    claim_id: str = ""
    updated_at: str = ""

    def words(self) -> str:
        """How it stands, in a sentence a musician reads."""
        return {
            UNSENT: "waiting for the next sync to be sent to the rights server",
            PENDING: "sent; waiting for the rights server's administrator to confirm it",
            CONFIRMED: "confirmed by the rights server's administrator",
            REJECTED: f"rejected by the rights server's administrator: {self.reason}",
            REFUSED: f"not taken by the rights server: {self.reason}",
        }.get(self.status, self.status)


class Claims:
    """The claims table of a SyncState (``state.claims``)."""

    def __init__(self, state: SyncState) -> None:
        self._state = state

    def queue(
        self, song: Song, holder_id: str, permissions: Iterable[str], uses: Iterable[str]
    ) -> None:
        """Claim ``song`` for ``holder_id`` at the next sync (again from the start when it was
        claimed before: a new declaration is a new claim)."""
        body = {
            "song": song_to_dict(song),
            "holder_id": holder_id,
            "permissions": sorted(set(permissions)),
            "uses": sorted(set(uses)),
        }
        with self._state._lock:
            self._state._db.execute(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, NULL, ?, NULL, ?)",
                [song.id, song.title, json.dumps(body), UNSENT, _now()],
            )

    def all(self) -> list[Claim]:
        """Every claim, by title."""
        with self._state._lock:
            rows = self._state._db.execute(
                "SELECT song_id, title, status, reason, claim_id, updated_at FROM claims "
                "ORDER BY title COLLATE NOCASE, song_id"
            ).fetchall()
        return [Claim(r[0], r[1], r[2], r[3] or "", r[4] or "", r[5]) for r in rows]

    def forget_server(self) -> None:
        """After a start over: the new server has none of them; each is sent to it again."""
        with self._state._lock:
            self._state._db.execute(
                "UPDATE claims SET claim_id = NULL, status = ?, reason = NULL, updated_at = ?",
                [UNSENT, _now()],
            )

    def exchange(self, request: Request, cancel: CancelToken) -> None:
        """Send the unsent claims and ask how the pending ones stand."""
        with self._state._lock:
            rows = self._state._db.execute(
                "SELECT song_id, body, claim_id, status FROM claims WHERE status IN (?, ?)",
                [UNSENT, PENDING],
            ).fetchall()
        for song_id, body, claim_id, status in rows:
            if status == UNSENT:
                resp = request("POST", "/v1/claims", cancel, json_body=json.loads(body))
            else:
                resp = request("GET", f"/v1/claims/{claim_id}", cancel)
            self._answer(song_id, status, resp)

    def _answer(self, song_id: str, status: str, resp: httpx.Response) -> None:
        code = resp.status_code
        if code in (200, 201):
            claim = _claim(resp)
            self._set(song_id, claim["status"], claim.get("reason") or "", claim["id"])
        elif status == UNSENT and code in (409, 422):
            self._set(song_id, REFUSED, detail(resp), None)
        elif status == PENDING and code == 404:  # the server forgot it (restored): send again
            self._set(song_id, UNSENT, "", None)
        else:
            raise SyncError(
                f"{resp.request.method} {resp.request.url.path}: the server answered {code}: "
                f"{detail(resp)}"
            )

    def _set(self, song_id: str, status: str, reason: str, claim_id: str | None) -> None:
        with self._state._lock:
            self._state._db.execute(
                "UPDATE claims SET status = ?, reason = ?, claim_id = ?, updated_at = ? "
                "WHERE song_id = ?",
                [status, reason or None, claim_id, _now(), song_id],
            )


def _claim(resp: httpx.Response) -> dict[str, Any]:
    """The claim in a server's answer, checked: an id and a status this client knows."""
    try:
        claim = resp.json()["claim"]
        if not isinstance(claim["id"], str) or not 0 < len(claim["id"]) <= 200:
            raise ValueError("id")
        if claim["status"] not in SERVER_STATUSES:
            raise ValueError("status")
        if not isinstance(claim.get("reason") or "", str):
            raise ValueError("reason")
    except (ValueError, KeyError, TypeError) as exc:
        raise SyncError(
            f"{resp.request.url.path}: the server's claim is not readable ({exc})"
        ) from None
    return dict(claim)


def _now() -> str:
    return datetime.now(UTC).isoformat()
