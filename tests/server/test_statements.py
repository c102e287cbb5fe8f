"""Statements: price × share × split by hand for a small case; CSV and JSON say the same."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from musicapp.testing.server_helpers import Env, generation_payload, verification_payload


def _consent(env: Env, token: str, holder: str, prices: dict[str, float]) -> int:
    r = env.post(
        "/v1/consent",
        token,
        {
            "song_id": "song-a",
            "holder_id": holder,
            "permissions": ["song_inference"],
            "uses": ["private", "non_commercial", "commercial"],
            "prices": prices,
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


def test_statement_amounts_by_hand_and_csv_agrees(env: Env) -> None:
    env.add_songs()
    _consent(env, env.ann, "h-ann", {"commercial": 0.10, "non_commercial": 0.01})
    _consent(env, env.label, "h-label", {"commercial": 0.05})
    device = env.device()
    verification = device.ledger.append(
        "verification", verification_payload("commercial", {"song-a": {"h-ann": 1}})
    )
    # Ann raises her prices after that verification: the generation still pays version 1's.
    _consent(env, env.ann, "h-ann", {"commercial": 0.20, "non_commercial": 0.02})
    first = device.ledger.append(
        "generation",
        generation_payload("commercial", [("song-a", 0.75), ("song-b", 0.25)], verification.id),
    )
    second = device.ledger.append(
        "generation", generation_payload("non_commercial", [("song-a", 1.0)])
    )
    r = env.post("/v1/ledger/events", device.token, {"events": device.upload_dicts()})
    assert r.status_code == 200, r.text

    now = datetime.now(UTC)
    period = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    ann = env.get("/v1/statements", env.ann, holder_id="h-ann", **period).json()
    assert ann["currency"] == "EUR"
    lines = [
        (x["event_id"], x["song_id"], x["use"], x["price_version"], x["price"], x["flags"])
        for x in ann["lines"]
    ]
    assert lines == [
        (first.id, "song-a", "commercial", 1, 0.10, []),  # the version relied on
        # No verification cited: the version in force when it was received, and a flag.
        (second.id, "song-a", "non_commercial", 2, 0.02, ["unverified", "version_not_cited"]),
    ]
    assert ann["lines"][0]["amount"] == pytest.approx(0.75 * 0.6 * 0.10)
    assert ann["lines"][1]["amount"] == pytest.approx(1.0 * 0.6 * 0.02)
    assert ann["total"] == pytest.approx(0.75 * 0.6 * 0.10 + 1.0 * 0.6 * 0.02)

    label = env.get("/v1/statements", env.label, holder_id="h-label", **period).json()
    assert [x["amount"] for x in label["lines"]] == pytest.approx([0.75 * 0.4 * 0.05, 0.0])
    bob = env.get("/v1/statements", env.bob, holder_id="h-bob", **period).json()
    assert [(x["song_id"], x["price"], x["amount"]) for x in bob["lines"]] == [
        ("song-b", 0.0, 0.0)  # Bob never set prices
    ]

    text = env.get("/v1/statements", env.ann, holder_id="h-ann", format="csv", **period)
    assert text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert [r["event_id"] for r in rows] == [x["event_id"] for x in ann["lines"]]
    for row, line in zip(rows, ann["lines"], strict=True):
        assert row["song_id"] == line["song_id"] and row["use"] == line["use"]
        for col in ("share", "split", "price", "amount"):
            assert float(row[col]) == line[col]
        assert (row["flags"].split(";") if row["flags"] else []) == line["flags"]

    before = {"from": "2020-01-01T00:00:00+00:00", "to": "2021-01-01T00:00:00+00:00"}
    assert env.get("/v1/statements", env.ann, holder_id="h-ann", **before).json()["lines"] == []
    r = env.get("/v1/statements", env.ann, holder_id="h-ann", **{**period, "to": "soon"})
    assert r.status_code == 422 and r.json()["detail"].startswith("to")
