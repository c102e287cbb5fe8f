"""Which rights-server URLs the client talks to: HTTPS, or plain HTTP only to this computer.

Every request after registration carries the device's bearer token, and the feed decides what
consent the app believes, so a plain-HTTP server elsewhere on the network would hand both to
anyone on the path. Loopback is exempt (nothing leaves the machine: a local test server); any
other plain-HTTP server needs the user's explicit say-so, which the status then shows.
"""

from __future__ import annotations

import ipaddress

import httpx

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class InsecureServer(ValueError):
    """A server URL the client refuses to send its token to; the message says why and how."""


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower().rstrip(".")
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_insecure(url: str) -> bool:
    """True for plain HTTP to a host other than this computer (False for what is not a URL:
    ``check_server_url`` refuses that)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return False
    return parsed.scheme == "http" and not is_loopback(parsed.host)


def check_server_url(url: str, allow_insecure_http: bool) -> None:
    """Raise InsecureServer unless ``url`` is https://, http:// to loopback, or plain HTTP the
    user allowed."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise InsecureServer(f"the rights server URL {url!r} is not a URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InsecureServer(
            f"the rights server URL {url!r} must start with https:// (or http:// for a server "
            f"on this computer)"
        )
    if is_insecure(url) and not allow_insecure_http:
        raise InsecureServer(
            f"refusing plain HTTP to {parsed.host}: this device's token and the consent feed "
            f"would cross the network unencrypted. Use https:// (see docs/server-api.md, "
            f"running the server behind TLS), or, on a network you trust, allow it "
            f"explicitly: `musicapp sync --server {url} --allow-insecure-http` (or Sync "
            f"settings → Allow plain HTTP)"
        )
