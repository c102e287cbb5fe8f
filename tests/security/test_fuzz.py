"""Property-based fuzzing of the rights server's whole OpenAPI surface: no input, from any caller,
gets a server error.

Schemathesis turns every operation the app's own OpenAPI document lists into a Hypothesis
strategy, in both its modes: requests that fit the schema (positive) and requests that break it
(negative: wrong types, missing fields, bodies that are not JSON). Each operation is tried as
every kind of caller (none, an unknown token, admin, holder, device), so the fuzz reaches the
code behind authorisation too, over a server that holds songs, consent and logged events. It
runs on SQLite, and on PostgreSQL too when MUSICAPP_TEST_POSTGRES_URL is set (``database_url``).

Examples per operation, caller and mode: ``MUSICAPP_FUZZ_EXAMPLES`` (default 8: up to 80 requests
per operation, about 1,100 per database, half a minute each on two cores; operations with few
distinct requests get fewer); ``MUSICAPP_FUZZ_SEED`` repeats a run (the failure message prints
the seed it used). Every 5xx, and every exception the app lets out, is collected rather than
shrunk, so one run reports all of them at once.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from musicapp.server.app import create_app
from musicapp.server.settings import ServerSettings
from musicapp.testing.server_helpers import Env, auth

EXAMPLES = int(os.environ.get("MUSICAPP_FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("MUSICAPP_FUZZ_SEED") or random.randrange(2**32))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture
def fuzz_env(tmp_path: Path, database_url: str | None) -> Iterator[Env]:
    """A server with songs, consent and a device's logged events; write limits out of the way
    (a 429 would only hide what lies behind it)."""
    settings = ServerSettings(
        data_dir=tmp_path / "server",
        database_url=database_url,
        write_rate_per_s=1e6,
        write_burst=10**6,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        env = Env(client, tmp_path)
        env.add_songs()
        consent = {
            "song_id": "song-a",
            "holder_id": "h-ann",
            "permissions": ["song_inference"],
            "uses": ["private", "commercial"],
            "prices": {"commercial": 0.1},
        }
        assert env.post("/v1/consent", env.ann, consent).status_code == 201
        device = env.device()
        for i in range(3):
            device.ledger.append("verification", {"allowed": True, "i": i})
        env.device_token = device.token  # type: ignore[attr-defined]
        r = env.post("/v1/ledger/events", device.token, {"events": device.upload_dicts()})
        assert r.status_code == 200, r.text
        device.ledger.close()
        yield env
        client.app.state.server.engine.dispose()  # type: ignore[attr-defined]


def _callers(env: Env) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "unknown token": auth("not-a-token-of-this-server"),
        "admin": auth(env.admin),
        "holder": auth(env.ann),
        "device": auth(env.device_token),  # type: ignore[attr-defined]
    }


def _send(client: TestClient, case: Any, headers: dict[str, str]) -> tuple[int, str]:
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    kwargs.pop("cookies", None)
    if "data" in kwargs:
        kwargs["content"] = kwargs.pop("data")
    try:
        response = client.request(**kwargs)
    except Exception as exc:  # a crash that escaped the app altogether
        return 599, f"{type(exc).__name__}: {exc}"
    return response.status_code, response.text[:200]


def _fuzz(operation: Any, mode: GenerationMode, send: Any) -> None:
    """Send ``EXAMPLES`` generated requests for one operation in one mode through ``send``."""

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        send(case)

    try:
        run()
    except Unsatisfiable:
        # Only an operation without parameters or body (GET /v1/server-key) has no request that
        # breaks its schema; the positive mode still sends it.
        assert mode is GenerationMode.NEGATIVE


def test_no_request_to_any_operation_gets_a_server_error(fuzz_env: Env) -> None:
    schema = schemathesis.openapi.from_dict(fuzz_env.client.get("/openapi.json").json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13, "the fuzz no longer sees the API's operations"
    failures: list[str] = []
    sent: Counter[str] = Counter()
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        for caller, headers in _callers(fuzz_env).items():

            def send(case: Any, label: str = label, caller: str = caller, headers=headers) -> None:
                status, text = _send(fuzz_env.client, case, headers)
                sent[label] += 1
                if status >= 500:
                    kwargs = case.as_transport_kwargs(base_url="")
                    body = kwargs.get("json", kwargs.get("data"))
                    failures.append(
                        f"{label} as {caller}: {status} {text!r} for "
                        f"params={kwargs.get('params')!r} body={str(body)[:200]!r}"
                    )

            for mode in MODES:
                _fuzz(operation, mode, send)
    total = sum(sent.values())
    print(f"fuzz: {total} requests over {len(operations)} operations, seed {SEED}")
    assert all(sent[f"{o.method.upper()} {o.path}"] > 0 for o in operations)
    assert not failures, (
        f"{len(failures)} of {total} requests got a server error (MUSICAPP_FUZZ_SEED={SEED}):\n"
        + "\n".join(failures[:40])
    )
