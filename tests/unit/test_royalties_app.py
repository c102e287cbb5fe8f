"""The app's side of compensation (``studio.compensation`` and `musicapp royalties`): what a
take pays whom, the period's statement from this device's ledger, a server basis checked
against the device's own events, and the simulator's table and plots."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.cli import EXIT_BAD_INPUT, EXIT_OK, main
from musicapp.core import GenerationRequest, Reference
from musicapp.royalties import engine
from musicapp.royalties.period import Policy

TARGET, OTHER = PERMITTED_SONG_IDS[0], PERMITTED_SONG_IDS[1]


@pytest.fixture(autouse=True)
def _no_take_audit(monkeypatch):
    monkeypatch.setenv("MUSICAPP_AUDIT_TAKES", "0")  # the audit is not what is tested here


def _period() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(hours=1), now + timedelta(hours=1)


@pytest.mark.slow
def test_a_take_pays_its_references_holders_per_100_eur_under_the_mechanism(demo_studio):
    other = OTHER
    request = GenerationRequest(
        (Reference(TARGET, weight=0.7), Reference(other, weight=0.3)), duration_s=4, seed=1
    )
    room = demo_studio.compensation
    before = room.preview_request(request, Policy())
    holders = {s.holder.id for sid in (TARGET, other) for s in demo_studio.song(sid).splits}
    assert {h.holder_id for h in before} == holders
    assert sum(h.cents for h in before) == 10_000  # per 100 EUR, to the cent
    take = demo_studio.generate(request)
    after = room.preview_take(take, Policy())
    assert {h.holder_id for h in after} <= holders and sum(h.cents for h in after) == 10_000
    assert all(h.name for h in after)
    # Top-1 pays only the holders of the song with the largest share.
    top = max(take.provenance.song_shares().items(), key=lambda kv: kv[1])[0]
    top1 = room.preview_take(take, Policy(mechanism=engine.TOP_K_UNIFORM, k=1))
    assert {h.holder_id for h in top1} == {s.holder.id for s in demo_studio.song(top).splits}


@pytest.mark.slow
def test_the_local_statement_covers_this_devices_takes_and_a_basis_is_checked(demo_studio):
    t1 = demo_studio.generate(GenerationRequest((Reference(TARGET),), duration_s=4, seed=1))
    demo_studio.generate(GenerationRequest((Reference(TARGET),), duration_s=4, seed=2))
    start, end = _period()
    room = demo_studio.compensation
    st = room.statement(start, end, Policy(pricing="flat", pool_cents=5000))
    assert st["pool_cents"] == 5000 and st["policy"]["pricing"] == "flat"
    assert sum(p["paid_cents"] for p in st["payouts"]) + st["undistributed_cents"] == 5000
    assert {ln["event_id"] for ln in st["lines"]} == {
        e.event_id for e in room.own_events(start, end)
    }
    # Outside the period: nothing.
    empty = room.statement(end, end + timedelta(days=1), Policy(pricing="flat", pool_cents=5000))
    assert empty["payouts"] == [] or all(p["paid_cents"] == 0 for p in empty["payouts"])
    # A server basis that dropped one of this device's takes and changed another is caught.
    own = room.own_events(start, end)
    assert room.check_basis(own, start, end).ok
    changed = [replace(own[0], use="private" if own[0].use != "private" else "commercial")]
    check = room.check_basis(changed, start, end)
    assert not check.ok and len(check.problems) == 2
    assert any("missing from the basis" in p for p in check.problems)
    assert t1 is not None


def _run(capsys, data: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--data-dir", str(data), "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_cli_statement_verifies_an_untouched_statement_and_names_a_changed_cent(
    demo_data_dir, tmp_path, capsys
):
    code, _, _ = _run(capsys, demo_data_dir, "generate", TARGET, "--duration", "4")
    assert code == EXIT_OK
    start, end = _period()
    span = ["--from", start.isoformat(), "--to", end.isoformat()]
    code, out, _ = _run(
        capsys, demo_data_dir, "royalties", "statement", *span, "--pool", "12.34", "--json"
    )
    assert code == EXIT_OK
    st = json.loads(out)
    assert sum(p["paid_cents"] for p in st["payouts"]) == 1234
    path = tmp_path / "statement.json"
    path.write_text(json.dumps(st))
    code, out, _ = _run(
        capsys, demo_data_dir, "royalties", "statement", *span, "--verify", str(path)
    )
    assert code == EXIT_OK and "statement verified" in out
    st["payouts"][0]["paid_cents"] += 1
    path.write_text(json.dumps(st))
    code, _, err = _run(
        capsys, demo_data_dir, "royalties", "statement", *span, "--verify", str(path)
    )
    assert code == 1 and "statement.payouts[0].paid_cents" in err
    code, _, err = _run(capsys, demo_data_dir, "royalties", "statement", *span, "--k", "0",
                        "--mechanism", "top_k_uniform")  # fmt: skip
    assert code == EXIT_BAD_INPUT and "k: 0" in err
    # The simulator over this device's real generations: every mechanism, the holders paid.
    code, out, _ = _run(capsys, demo_data_dir, "royalties", "simulate", "--ledger", "--pool",
                        "100", "--minimum", "0", "--json")  # fmt: skip
    assert code == EXIT_OK
    rows = json.loads(out)["mechanisms"]
    assert len(rows) == 5 and all(r["holders_paid_at_minimum"] >= 1 for r in rows)


def test_cli_simulate_prints_every_mechanism_and_saves_the_plots(tmp_path, capsys):
    code = main(["royalties", "simulate", "--events", "5000", "--songs", "500", "--holders",
                 "100", "--plots", str(tmp_path / "plots"), "--json", "--no-progress"])  # fmt: skip
    out, _ = capsys.readouterr()
    assert code == EXIT_OK
    rows = json.loads(out)["mechanisms"]
    assert [r["mechanism"] for r in rows] == [
        "proportional", "Top-1 proportional", "Top-1 uniform", "Top-3 proportional",
        "Top-3 uniform",
    ]  # fmt: skip
    assert all(0 < r["gini"] < 1 and r["top1_share"] <= r["top10_share"] for r in rows)
    for name in ("lorenz.png", "payouts.png"):
        assert (tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["simulate", "--pool", "inf"], "--pool: inf is not an amount"),
        (["simulate", "--zipf", "nan"], "--zipf: nan is not a popularity exponent"),
        (["simulate", "--events", "0"], "--events: 0 must be at least 1"),
        (["statement", "--from", "2026-12-05", "--to", "2026-12-01"], "--to: 2026-12-01 is not"),
        (["statement", "--from", "2026-12-01", "--to", "2027-01-01", "--basis", "nope.json"],
         "basis nope.json: No such file"),
    ],
)  # fmt: skip
def test_cli_bad_input_is_refused_by_name(tmp_path, capsys, args, said):
    code = main(["royalties", *args, "--data-dir", str(tmp_path), "--no-progress"])
    _, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT and said in err


def test_cli_statement_states_how_the_training_pool_is_paid(demo_data_dir, capsys):
    code, _, _ = _run(capsys, demo_data_dir, "generate", TARGET, "--duration", "4")
    assert code == EXIT_OK
    start, end = _period()
    span = ["--from", start.isoformat(), "--to", end.isoformat(), "--pool", "10"]
    code, out, _ = _run(capsys, demo_data_dir, "royalties", "statement", *span)
    assert code == EXIT_OK and "training pool: none (no part of the pool goes to training)" in out
    code, out, _ = _run(
        capsys, demo_data_dir, "royalties", "statement", *span, "--training-fraction", "0.2"
    )
    # The weight-free engine's take names no training songs: nobody to pay, said so.
    assert code == EXIT_OK and "no model of this ledger names its training songs" in out
    code, out, _ = _run(
        capsys, demo_data_dir, "royalties", "statement", *span,
        "--training-fraction", "0.2", "--training", "estimate", "--json",
    )  # fmt: skip
    assert code == EXIT_OK and json.loads(out)["policy"]["training"] == "estimate"
