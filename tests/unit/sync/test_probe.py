"""Test connection (issue 19): in words, whether a rights server answers at an address and
whether it is the one this data folder synced with, recognised by its key."""

from __future__ import annotations

import httpx

from musicapp.sync.probe import probe
from musicapp.testing.fake_server import FakeServer


def key_of(server: FakeServer) -> str:
    with httpx.Client(base_url="https://x.test", transport=server.transport()) as client:
        return str(client.get("/v1/server-key").json()["public_key"])


def test_a_server_is_named_as_new_the_same_or_another_by_its_key() -> None:
    server, other = FakeServer(), FakeServer()
    fresh = probe("https://rights.test", None, server.transport())
    assert fresh.ok and fresh.words.startswith("A rights server answers at https://rights.test")
    same = probe("http://localhost:8000", key_of(server), server.transport())
    assert (
        same.ok and "the same key" in same.words and "changes nothing but the address" in same.words
    )
    moved = probe("https://rights.test", key_of(other), server.transport())
    assert moved.ok and "not the one this data folder synced with" in moved.words


def test_nothing_there_or_something_else_is_said_plainly() -> None:
    def refused(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    down = probe("http://127.0.0.1:9", None, httpx.MockTransport(refused))
    assert not down.ok
    assert down.words == (
        "cannot reach the rights server at http://127.0.0.1:9: nothing answers at that address "
        "(is the server running?)."
    )
    web = httpx.MockTransport(lambda r: httpx.Response(404, text="<html>Not found</html>"))
    page = probe("https://example.org", None, web)
    assert not page.ok and "not a musicapp rights server" in page.words and "404" in page.words
    assert probe("rights.test", None).words.startswith("The address must start with")
