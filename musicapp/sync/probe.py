"""Test connection (Sync settings): does a rights server answer at an address, and is it the one
this data folder synced with? One unauthenticated request (``GET /v1/server-key``), a few
seconds at most, no retries; the answer in words the settings dialog shows as it is."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from musicapp.sync.http import unreachable

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Probe:
    ok: bool  # a rights server answered
    words: str


def probe(
    url: str,
    pinned_key: str | None,
    transport: httpx.BaseTransport | None = None,
    timeout_s: float = TIMEOUT_S,
) -> Probe:
    """What is at ``url``, compared with the key pinned here (None: never synced)."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        return Probe(False, "The address must start with http:// or https://")
    try:
        with httpx.Client(base_url=url, transport=transport, timeout=timeout_s) as client:
            resp = client.get("/v1/server-key")
    except httpx.TransportError as exc:
        return Probe(False, unreachable(exc, url).split(". Your takes")[0] + ".")
    try:
        body = resp.json() if resp.status_code == 200 else None
    except ValueError:
        body = None
    key = body.get("public_key") if isinstance(body, dict) else None
    if not isinstance(key, str) or not key:
        return Probe(
            False,
            f"Something answers at {url} (HTTP {resp.status_code}), but not a musicapp rights "
            "server: check the address.",
        )
    short = str(body.get("key_id") or "")[:12] if isinstance(body, dict) else ""
    if pinned_key is None:
        return Probe(True, f"A rights server answers at {url} (key {short}…). Save, then Sync now.")
    if key == pinned_key:
        return Probe(
            True,
            f"The rights server this data folder synced with answers at {url} (the same key, "
            f"{short}…): saving it changes nothing but the address.",
        )
    return Probe(
        True,
        f"A rights server answers at {url}, but not the one this data folder synced with (another "
        "key): using it means starting over with it.",
    )
