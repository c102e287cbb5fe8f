"""Period statements under a mechanism (GET /v1/royalties/statement, musicapp-server statement
--holder): a holder who fetches the basis recomputes the server's statement to the cent, under
every mechanism; a changed parameter or cent never passes the check."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from musicapp.royalties import engine, period, statement
from musicapp.royalties.basis import basis_from_dict, basis_to_dict
from musicapp.royalties.period import Contribution, HolderTerms, Policy, UseEvent
from musicapp.server import cli
from musicapp.testing.server_helpers import Env, generation_payload, verification_payload

SONG_C: dict[str, Any] = {
    "id": "song-c",
    "title": "C",
    "artist": "Ann and Bob",
    "rights_holders": [
        {"id": "h-ann", "name": "Ann", "kind": "artist", "split": 0.5},
        {"id": "h-bob", "name": "Bob", "kind": "artist", "split": 0.5},
    ],
}
# Prices per holder and song (euros per use); Label sets none for non-commercial use.
PRICES = {
    ("song-a", "h-ann"): {"commercial": 0.10, "non_commercial": 0.01},
    ("song-a", "h-label"): {"commercial": 0.05},
    ("song-b", "h-bob"): {"commercial": 0.20, "non_commercial": 0.03},
    ("song-c", "h-ann"): {"commercial": 0.30},
    ("song-c", "h-bob"): {"commercial": 0.08, "non_commercial": 0.02},
}
MECHANISMS = [
    {"mechanism": "proportional"},
    {"mechanism": "top_k_uniform", "k": 1},
    {"mechanism": "top_k_uniform", "k": 2},
    {"mechanism": "top_k_proportional", "k": 1},
]


@pytest.fixture
def logged(env: Env) -> dict[str, str]:
    """Three songs, five holders' prices, two devices' generations; returns the period."""
    env.add_songs()
    assert env.post("/v1/songs", env.admin, {"song": SONG_C}).status_code == 201
    tokens = {"h-ann": env.ann, "h-label": env.label, "h-bob": env.bob}
    for (song, holder), prices in PRICES.items():
        body = {
            "song_id": song,
            "holder_id": holder,
            "permissions": ["song_inference"],
            "uses": ["private", "non_commercial", "commercial"],
            "prices": prices,
        }
        assert env.post("/v1/consent", tokens[holder], body).status_code == 201
    versions = {"song-a": {"h-ann": 1, "h-label": 1}, "song-b": {"h-bob": 1}}
    receipts: dict[str, str] = {}  # event id -> how a statement cites its receipt
    for n, uses in enumerate(
        [
            [
                ("commercial", [("song-a", 0.5), ("song-b", 0.3), ("song-c", 0.2)]),
                ("commercial", [("song-a", 0.2), ("song-c", 0.7), ("@user", 0.1)]),
            ],
            [
                ("non_commercial", [("song-a", 0.6), ("song-b", 0.4)]),
                ("commercial", [("song-b", 0.55), ("song-c", 0.45)]),
                ("non_commercial", [("song-c", 0.9), ("@user", 0.1)]),
            ],
        ]
    ):
        device = env.device()
        verification = device.ledger.append(
            "verification", verification_payload("commercial", versions)
        )
        for i, (use, shares) in enumerate(uses):
            cited = verification.id if (n + i) % 2 == 0 else None
            device.ledger.append("generation", generation_payload(use, shares, cited))
        r = env.post("/v1/ledger/events", device.token, {"events": device.upload_dicts()})
        assert r.status_code == 200, r.text
        ids = {e.seq: e.id for e in device.ledger.events()}
        for receipt in r.json()["receipts"]:
            receipts[ids[receipt["seq"]]] = f"{receipt['leaf_index']}@{receipt['tree_size']}"
        device.ledger.close()
    env.receipts = receipts  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    return {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }


def _recomputed(basis: dict[str, Any], stated: dict[str, Any], holder: str) -> dict[str, Any]:
    """What a holder does with the basis: the statement under the policy it states."""
    events, rights, period_from, period_to = basis_from_dict(basis)
    result = period.compute(events, rights, Policy.from_params(stated["policy"]))
    return statement.statement_of(result, period_from, period_to, holder)


@pytest.mark.parametrize("params", MECHANISMS, ids=lambda p: f"{p['mechanism']}-{p.get('k')}")
def test_a_holder_recomputes_the_servers_statement_to_the_cent(
    env: Env, logged: dict[str, str], params: dict[str, Any]
) -> None:
    basis_r = env.get("/v1/royalties/basis", env.ann, **logged)
    assert basis_r.status_code == 200, basis_r.text
    basis = basis_r.json()
    assert len(basis["events"]) == 5
    for holder, token in (("h-ann", env.ann), ("h-bob", env.bob), ("h-label", env.label)):
        r = env.get("/v1/royalties/statement", token, holder_id=holder, **logged, **params)
        assert r.status_code == 200, r.text
        stated = r.json()
        assert stated["policy"]["mechanism"] == params["mechanism"]
        assert stated["policy"].get("k") == params.get("k")
        assert stated["inputs_sha256"] == basis["inputs_sha256"]
        assert stated["payouts"][0]["earned_cents"] > 0
        mine = _recomputed(basis, stated, holder)
        assert statement.differences(stated, mine) == []
        assert r.text == statement.to_json(mine)  # the same bytes, not only the same values
        # Every line cites its event, the server's receipt and the consent version.
        for line in stated["lines"]:
            assert line["receipt"] == env.receipts[line["event_id"]]  # type: ignore[attr-defined]
            assert line["consent_version"] == 1
        assert (
            sum(ln["amount_cents"] for ln in stated["lines"])
            == (stated["payouts"][0]["earned_cents"])
        )


def test_proportional_agrees_with_the_per_event_lines(env: Env, logged: dict[str, str]) -> None:
    """Proportional with the pool left as the period's priced revenue pays each holder what
    their per-event lines add up to. The statement rounds twice: the pool to whole cents (off
    by at most half a cent overall, shared out in proportion) and each holder's part by largest
    remainder (under one cent), so a holder's cents lie within 1.5 cents of the lines' exact
    total, and the amounts per line within a cent of the lines' own."""
    for holder, token in (("h-ann", env.ann), ("h-bob", env.bob), ("h-label", env.label)):
        lines = env.get("/v1/statements", token, holder_id=holder, **logged).json()
        stated = env.get(
            "/v1/royalties/statement", token, holder_id=holder, mechanism="proportional", **logged
        ).json()
        exact_cents = lines["total_nano"] / 1e7
        earned = stated["payouts"][0]["earned_cents"]
        assert exact_cents > 1
        assert abs(earned - exact_cents) < 1.5, (holder, earned, exact_cents)
        per_line = {(x["event_id"], x["song_id"]): x["amount"] * 100 for x in lines["lines"]}
        got = {(x["event_id"], x["song_id"]): x["amount_cents"] for x in stated["lines"]}
        assert got.keys() == per_line.keys()
        for key, cents in got.items():
            assert abs(cents - per_line[key]) < 1.0 + 1e-9, key


def test_a_changed_k_is_stated_and_named(env: Env, logged: dict[str, str]) -> None:
    one, two = (
        env.get(
            "/v1/royalties/statement",
            env.ann,
            holder_id="h-ann",
            mechanism="top_k_uniform",
            k=k,
            **logged,
        ).json()
        for k in (1, 2)
    )
    assert (one["policy"]["k"], two["policy"]["k"]) == (1, 2)
    found = statement.differences(one, two)
    assert "statement.policy.k: stated 1, recomputed 2" in found
    # The money moved too: Top-1 pays only each use's largest song.
    assert one["payouts"] != two["payouts"]


def _cli(env: Env, *args: str) -> list[str]:
    settings = env.server.settings
    out = ["--data-dir", str(settings.data_dir)]
    if settings.database_url:
        out += ["--database-url", settings.database_url]
    return [*out, *args]


def test_cli_prints_and_verifies_the_statement(
    env: Env, logged: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = {"holder_id": "h-bob", "mechanism": "top_k_uniform", "k": 2, "minimum_cents": 5}
    served = env.get("/v1/royalties/statement", env.admin, **params, **logged)
    assert served.status_code == 200, served.text
    args = _cli(
        env, "statement", "--holder", "h-bob", "--from", logged["from"], "--to", logged["to"],
        "--mechanism", "top_k_uniform", "--k", "2", "--minimum-cents", "5",
    )  # fmt: skip
    assert cli.main(args) == 0
    assert capsys.readouterr().out.strip() == served.text  # the API's bytes, from the log

    untouched = tmp_path / "statement.json"
    untouched.write_text(served.text)
    assert cli.main([*args, "--verify", str(untouched)]) == 0
    assert capsys.readouterr().out.strip() == "statement verified"

    a_cent = json.loads(served.text)
    a_cent["lines"][0]["amount_cents"] += 1
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(a_cent))
    assert cli.main([*args, "--verify", str(changed)]) == 1
    out = capsys.readouterr().out
    assert "statement.lines[0].amount_cents" in out

    other_k = json.loads(served.text)
    other_k["policy"]["k"] = 3
    changed.write_text(json.dumps(other_k))
    assert cli.main([*args, "--verify", str(changed)]) == 1
    assert "statement.policy.k: stated 3, recomputed 2" in capsys.readouterr().out

    # The basis the CLI writes is the one the API serves.
    out_file = tmp_path / "basis.json"
    basis_args = _cli(env, "basis", "--from", logged["from"], "--to", logged["to"])
    assert cli.main([*basis_args, "--out", str(out_file)]) == 0
    assert out_file.read_text().strip() == env.get("/v1/royalties/basis", env.bob, **logged).text


def test_cli_refusals_name_the_option(
    env: Env, logged: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    period_args = ("--from", logged["from"], "--to", logged["to"])
    for extra, option in (
        (("--k", "0"), "--k"),
        (("--training-fraction", "1.5"), "--training-fraction"),
        (("--pool-cents", "-1"), "--pool-cents"),
        (("--minimum-cents", str(10**20)), "--minimum-cents"),
    ):
        args = _cli(env, "statement", "--holder", "h-ann", *period_args, *extra)
        assert cli.main(args) == 2
        assert capsys.readouterr().err.startswith(f"musicapp-server: {option}:")
    # The mechanism options belong to the period statement, not the per-event one.
    assert cli.main(_cli(env, "statement", "h-ann", *period_args, "--k", "2")) == 2
    assert "--k: goes with --holder" in capsys.readouterr().err
    assert cli.main(_cli(env, "statement", *period_args)) == 2
    assert capsys.readouterr().err.startswith("musicapp-server: holder:")
    assert cli.main(_cli(env, "statement", "h-ann", "--holder", "h-ann", *period_args)) == 2
    assert capsys.readouterr().err.startswith("musicapp-server: --holder:")
    assert cli.main(_cli(env, "statement", "--holder", "h-ann", *period_args, "--recompute")) == 2
    assert capsys.readouterr().err.startswith("musicapp-server: --recompute:")
    missing = Path("/nonexistent/statement.json")
    args = _cli(env, "statement", "--holder", "h-ann", *period_args, "--verify", str(missing))
    assert cli.main(args) == 2
    assert str(missing) in capsys.readouterr().err


def test_access_and_bad_parameters(env: Env, logged: dict[str, str]) -> None:
    # Another holder's statement: refused, like GET /v1/statements.
    r = env.get("/v1/royalties/statement", env.bob, holder_id="h-ann", **logged)
    assert r.status_code == 403 and r.json()["detail"].startswith("holder_id")
    device = env.device()
    r = env.get("/v1/royalties/basis", device.token, **logged)
    assert r.status_code == 403
    device.ledger.close()
    assert env.get("/v1/royalties/basis", env.admin, **logged).status_code == 200

    for params, field in (
        ({"mechanism": "winner_takes_all"}, "mechanism"),
        ({"mechanism": "top_k_uniform", "k": 0}, "k"),
        ({"training_fraction": 1.5}, "training_fraction"),
        ({"training_fraction": "nan"}, "training_fraction"),
        ({"training_fraction": -0.1}, "training_fraction"),
        ({"pool_cents": -1}, "pool_cents"),
        ({"minimum_cents": -5}, "minimum_cents"),
        ({"pool_cents": 10**30}, "pool_cents"),
        ({"pricing": "free"}, "pricing"),
        ({"to": logged["from"]}, "to"),
        ({"from": "yesterday"}, "from"),
    ):
        query = {"holder_id": "h-ann", **logged, **params}
        r = env.get("/v1/royalties/statement", env.ann, **query)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["detail"].startswith(field), (params, r.json()["detail"])
    r = env.get("/v1/royalties/basis", env.ann, **{**logged, "to": logged["from"]})
    assert r.status_code == 422 and r.json()["detail"].startswith("to")


def test_the_api_offers_every_mechanism_of_the_engine(env: Env) -> None:
    spec = env.client.get("/openapi.json").json()
    params = spec["paths"]["/v1/royalties/statement"]["get"]["parameters"]
    mechanism = next(p for p in params if p["name"] == "mechanism")
    assert set(mechanism["schema"]["enum"]) == set(engine.MECHANISMS)


def test_an_empty_period_has_an_empty_statement(env: Env, logged: dict[str, str]) -> None:
    before = {"from": "2020-01-01T00:00:00+00:00", "to": "2021-01-01T00:00:00+00:00"}
    basis = env.get("/v1/royalties/basis", env.ann, **before).json()
    assert (basis["events"], basis["rights"]) == ([], {})
    stated = env.get("/v1/royalties/statement", env.ann, holder_id="h-ann", **before).json()
    assert (stated["payouts"], stated["lines"], stated["pool_cents"]) == ([], [], 0)


# -- the basis codec -----------------------------------------------------------------------------


def _sample() -> tuple[list[UseEvent], dict[str, list[HolderTerms]]]:
    events = [
        UseEvent(
            "e2",
            "commercial",
            (Contribution("s1", 0.1 + 0.2, "song"), Contribution("s2", 1 / 3, "audio")),
            training={"s3": 1e-17},
            receipt="7@9",
            consent_versions={"s1": {"h1": 2}},
        ),
        UseEvent("e1", "private", ()),
    ]
    rights = {
        "s1": [HolderTerms("h1", 0.6, {"commercial": 0.1}, 2), HolderTerms("h2", 0.4)],
        "s2": [],
    }
    return events, rights


def test_the_basis_round_trips_exactly_through_json() -> None:
    events, rights = _sample()
    d = json.loads(json.dumps(basis_to_dict(events, rights, "2026-01-01", "2026-02-01")))
    assert basis_from_dict(d) == (events, rights, "2026-01-01", "2026-02-01")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.update(extra=1), "extra"),
        (lambda d: d.pop("events"), "events"),
        (lambda d: d.update(format=2), "format"),
        (lambda d: d["events"][0].update(use=""), "events[0].use"),
        (lambda d: d["events"][0]["contributions"][1].update(share=-1), "events[0].contributions[1]"),
        (lambda d: d["events"][0]["contributions"][0].update(share=10**400), "events[0].contributions[0].share"),
        (lambda d: d["events"][0]["contributions"][0].update(level="loud"), "events[0].contributions[0].level"),
        (lambda d: d["events"][0]["consent_versions"]["s1"].update(h1=2.5), "events[0].consent_versions.s1.h1"),
        (lambda d: d["events"][1].update(event_id="e2"), "events[1].event_id"),
        (lambda d: d["rights"]["s1"][0].update(split="half"), "rights.s1[0].split"),
        (lambda d: d["rights"]["s1"][0]["prices"].update(commercial=float("inf")), "rights.s1[0].prices.commercial"),
        (lambda d: d["rights"].update(s2={}), "rights.s2"),
        # Facts changed after the basis was made: the digest no longer fits.
        (lambda d: d["rights"]["s1"][0].update(split=0.7), "inputs_sha256"),
    ],
)  # fmt: skip
def test_a_bad_basis_is_refused_naming_the_field(change: Any, field: str) -> None:
    events, rights = _sample()
    d = json.loads(json.dumps(basis_to_dict(events, rights, "a", "b")))
    change(d)
    with pytest.raises(ValueError, match="^" + re.escape(field)):
        basis_from_dict(d)


def test_a_period_of_unpriced_uses_pays_nobody(env: Env) -> None:
    """Uses nobody set a price for weigh nothing under tier pricing: the statement says so
    (and a given pool stays undistributed) instead of failing."""
    env.add_songs()
    device = env.device()
    device.ledger.append("generation", generation_payload("private", [("song-a", 1.0)]))
    r = env.post("/v1/ledger/events", device.token, {"events": device.upload_dicts()})
    assert r.status_code == 200, r.text
    device.ledger.close()
    now = datetime.now(UTC)
    when = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    for pool in (None, 500):
        extra = {} if pool is None else {"pool_cents": pool}
        r = env.get("/v1/royalties/statement", env.ann, holder_id="h-ann", **when, **extra)
        assert r.status_code == 200, r.text
        stated = r.json()
        assert stated["lines"] == []
        assert stated["payouts"] == [
            {"holder_id": "h-ann", "earned_cents": 0, "carried_in_cents": 0, "paid_cents": 0,
             "carried_out_cents": 0}
        ]  # fmt: skip
        assert (stated["pool_cents"], stated["undistributed_cents"]) == (pool or 0, pool or 0)


def test_a_period_is_priced_by_the_registry_at_its_last_event(env: Env) -> None:
    """Ann raises her price between two uploads: the basis prices the whole period at the
    version in force at its last event (its whole price list, a use at a level included); the
    line of a use whose verification relied on version 1 still cites version 1."""
    raised = {"commercial": 0.3, "commercial/audio": 0.9}
    env.add_songs()
    consent = {
        "song_id": "song-a",
        "holder_id": "h-ann",
        "permissions": ["song_inference"],
        "uses": ["commercial"],
    }
    assert env.post("/v1/consent", env.ann, {**consent, "prices": {"commercial": 0.1}}).is_success
    device = env.device()
    verification = device.ledger.append(
        "verification", verification_payload("commercial", {"song-a": {"h-ann": 1}})
    )
    first = device.ledger.append(
        "generation", generation_payload("commercial", [("song-a", 1.0)], verification.id)
    )
    assert env.post("/v1/ledger/events", device.token, {"events": device.upload_dicts()}).is_success
    assert env.post("/v1/consent", env.ann, {**consent, "prices": raised}).is_success
    second = device.ledger.append(
        "generation", generation_payload("commercial", [("song-a", 0.5), ("@user", 0.5)])
    )
    body = {"events": device.upload_dicts([second])}
    r = env.post("/v1/ledger/events", device.token, body)
    assert r.status_code == 200, r.text
    device.ledger.close()
    now = datetime.now(UTC)
    when = {
        "from": (now - timedelta(hours=1)).isoformat(),
        "to": (now + timedelta(hours=1)).isoformat(),
    }
    basis = env.get("/v1/royalties/basis", env.ann, **when).json()
    ann = next(t for t in basis["rights"]["song-a"] if t["holder_id"] == "h-ann")
    assert (ann["version"], ann["prices"]) == (2, raised)
    stated = env.get("/v1/royalties/statement", env.ann, holder_id="h-ann", **when).json()
    cited = {ln["event_id"]: ln["consent_version"] for ln in stated["lines"]}
    assert cited == {first.id: 1, second.id: 2}
    # Priced at 0.30 both times: 1.0 x 0.6 x 30 + 0.5 x 0.6 x 30 cents.
    assert stated["payouts"][0]["earned_cents"] == 27


def test_the_app_finds_its_own_generations_in_the_servers_basis(env: Env) -> None:
    """The app's check (``RoyaltiesRoom.check_basis``) over a basis this server serves: every
    generation of the device's own ledger is there, by its own id, with the same use and
    shares; one the server altered is named."""
    from musicapp.rooms.royalties import RoyaltiesRoom

    env.add_songs()
    device = env.device()
    for shares in ([("song-a", 0.7), ("song-b", 0.3)], [("song-b", 0.25), ("@user", 0.75)]):
        device.ledger.append("generation", generation_payload("commercial", shares))
    assert env.post("/v1/ledger/events", device.token, {"events": device.upload_dicts()}).is_success
    now = datetime.now(UTC)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    when = {"from": start.isoformat(), "to": end.isoformat()}
    events, _, _, _ = basis_from_dict(env.get("/v1/royalties/basis", env.bob, **when).json())
    room = RoyaltiesRoom(None, device.ledger)  # type: ignore[arg-type]  # reads the ledger only
    check = room.check_basis(events, start, end)
    assert (check.ok, check.own_events, check.matched) == (True, 2, 2)
    check = room.check_basis([replace(events[0], use="private"), *events[1:]], start, end)
    assert check.problems == (f"event {events[0].event_id}: the basis has other shares or use",)
    device.ledger.close()


@pytest.mark.parametrize("params", MECHANISMS, ids=lambda p: f"{p['mechanism']}-{p.get('k')}")
def test_the_apps_command_recomputes_the_servers_statement_from_its_basis(
    env: Env, logged: dict[str, str], params: dict[str, Any], tmp_path: Path, capsys: Any
) -> None:
    """`musicapp royalties statement --basis B --verify S`: the app, holding the server's basis,
    agrees with the server's statement to the cent under each mechanism, and names a cent
    that was changed."""
    from musicapp.cli import main as app_main

    basis = tmp_path / "basis.json"
    basis.write_text(env.get("/v1/royalties/basis", env.ann, **logged).text)
    stated = env.get("/v1/royalties/statement", env.ann, holder_id="h-ann", **logged, **params)
    path = tmp_path / "statement.json"
    path.write_text(stated.text)
    argv = ["royalties", "statement", "--from", logged["from"], "--to", logged["to"],
            "--basis", str(basis), "--verify", str(path), "--data-dir", str(tmp_path / "app"),
            "--no-progress"]  # fmt: skip
    assert app_main(argv) == 0
    assert "statement verified" in capsys.readouterr().out
    changed = json.loads(stated.text)
    changed["lines"][0]["amount_cents"] += 1
    path.write_text(json.dumps(changed))
    assert app_main(argv) == 1
    assert "statement.lines[0].amount_cents: stated" in capsys.readouterr().err
