"""The `musicapp royalties` commands: a period's statement (from this device's ledger, or
recomputed from a rights server's basis and checked against a server statement), and the
inequality simulator (``studio.compensation``, ``musicapp/royalties/``)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from musicapp.cli_common import EXIT_OK, emit, open_context
from musicapp.core import InvalidInput
from musicapp.royalties import engine
from musicapp.royalties.money import euros

EXIT_MISMATCH = 1


def _when(text: str, field: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{field}: {text!r} is not a date (2026-12-01 or an ISO time)") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _euro_cents(value: float | None, field: str) -> int | None:
    if value is None:
        return None
    if not (math.isfinite(value) and 0 <= value <= 1e13):
        raise InvalidInput(f"{field}: {value} is not an amount in EUR (a number from 0 to 1e13)")
    return int(round(value * 100))


def _policy(args: argparse.Namespace) -> Any:
    from musicapp.royalties.period import Policy

    pool = _euro_cents(args.pool, "--pool")
    minimum = _euro_cents(args.minimum, "--minimum") or 0
    try:
        return Policy(
            mechanism=args.mechanism,
            k=args.k,
            pricing=args.pricing,
            pool_cents=pool,
            training_fraction=args.training_fraction,
            training=args.training,
            minimum_cents=minimum,
        )
    except ValueError as e:
        raise InvalidInput(f"--{str(e).replace('_', '-')}") from None


def _read_json(path: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise InvalidInput(f"{what} {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise InvalidInput(f"{what} {path}: not JSON ({e})") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{what} {path}: a JSON object is needed")
    return data


def _training_policy(p: dict[str, Any]) -> str:
    if not p.get("training_fraction"):
        return "none (no part of the pool goes to training)"
    n = len(p.get("training_songs") or ())
    if n == 0 and p.get("training") != "estimate":
        return "flat-rate, but no model of this ledger names its training songs: undistributed"
    if p.get("training") == "estimate":
        return (
            "by each use's training-data attribution estimate (unlearning), flat over the "
            f"{n} training songs for uses without one"
        )
    return f"flat-rate over the {n} songs the models were trained on"


def statement_text(st: dict[str, Any]) -> str:
    p = st["policy"]
    mech = p["mechanism"] + (f" (K={p['k']})" if "k" in p else "")
    lines = [
        f"Statement {st['from']} to {st['to']}"
        + (f" for {st['holder_id']}" if st["holder_id"] else ""),
        f"  mechanism {mech}, pricing {p['pricing']}, pool {euros(st['pool_cents'])} "
        f"{p['currency']}, minimum {euros(p['minimum_cents'])}, training {p['training_fraction']:.0%}",
        f"  training pool: {_training_policy(p)}",
        f"  inputs sha256 {st['inputs_sha256'][:16]}…, {len(st['lines'])} lines",
        "  holder                      earned   carried in        paid  carried out",
    ]
    for pay in st["payouts"]:
        lines.append(
            f"  {pay['holder_id'][:24]:24} {euros(pay['earned_cents']):>11} "
            f"{euros(pay['carried_in_cents']):>12} {euros(pay['paid_cents']):>11} "
            f"{euros(pay['carried_out_cents']):>12}"
        )
    if st["undistributed_cents"]:
        lines.append(f"  undistributed (no use to pay): {euros(st['undistributed_cents'])}")
    return "\n".join(lines)


def cmd_statement(args: argparse.Namespace) -> int:
    from musicapp.royalties import period
    from musicapp.royalties.statement import differences, statement_of

    start, end = _when(args.from_, "--from"), _when(args.to, "--to")
    if end <= start:
        raise InvalidInput(f"--to: {args.to} is not after --from ({args.from_})")
    stated = _read_json(args.verify, "statement") if args.verify else None
    policy = _policy(args)
    if stated is not None:  # recompute under the stated parameters, whatever the flags say
        try:
            policy = period.Policy.from_params(stated.get("policy") or {})
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInput(f"statement {args.verify}: policy: {e}") from None
    holder = args.holder or (stated.get("holder_id") if stated else None)
    with open_context(args, build=False) as ctx:
        room = ctx.studio.compensation
        if stated is None and policy.training_fraction > 0 and not policy.training_songs:
            # The flat pool (and estimate-less uses) go to the songs the models used here were
            # trained on, as this ledger's training and model_installed events list them.
            policy = replace(policy, training_songs=tuple(ctx.studio.training.training_songs()))
        if args.basis:
            from musicapp.royalties.basis import basis_from_dict

            data = _read_json(args.basis, "basis")
            try:
                events, rights, b_from, b_to = basis_from_dict(data)
            except ValueError as e:
                raise InvalidInput(f"basis {args.basis}: {e}") from None
            check = room.check_basis(events, start, end)
            for problem in check.problems:
                print(f"basis: {problem}", file=sys.stderr)
            result = period.compute(events, rights, policy)
            st = statement_of(result, b_from, b_to, holder)
        else:
            st = room.statement(start, end, policy, holder)
    if stated is not None:
        diff = differences(stated, st)
        if diff:
            print("statement differs from its recomputation:", file=sys.stderr)
            for d in diff:
                print(f"  {d}", file=sys.stderr)
            return EXIT_MISMATCH
        print("statement verified: recomputed to the cent from the same events")
        return EXIT_OK
    emit(args, st, statement_text(st))
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    from musicapp.royalties import simulate

    for name in ("events", "songs", "holders"):
        if getattr(args, name) < 1:
            raise InvalidInput(f"--{name}: {getattr(args, name)} must be at least 1")
    pool = _euro_cents(args.pool, "--pool") or 0
    minimum = _euro_cents(args.minimum, "--minimum") or 0
    if args.basis or args.ledger:
        events, rights, source = _real_usage(args)
        if not events:
            raise InvalidInput(f"{source}: no generations to simulate with")
        figures = simulate.run_period(events, rights, pool_cents=pool, minimum_cents=minimum)
        head = f"{len(events):,} generations from {source}"
    else:
        try:
            usage = simulate.synthetic_usage(
                args.events, args.songs, args.holders, zipf=args.zipf, seed=args.seed
            )
        except ValueError as e:
            raise InvalidInput(f"--{e}") from None
        figures = simulate.run(usage, pool_cents=pool, minimum_cents=minimum)
        head = (
            f"{args.events:,} generations over {args.songs:,} songs and {args.holders:,} "
            f"holders (Zipf {args.zipf})"
        )
    rows = [
        {
            "mechanism": simulate.label(f),
            "gini": round(f.gini, 4),
            "top1_share": round(f.top1, 4),
            "top10_share": round(f.top10, 4),
            "holders_paid_at_minimum": f.paid_holders,
            "largest_payout": euros(int(f.payouts_cents.max(initial=0))),
        }
        for f in figures
    ]
    text = [
        f"{head}, pool {euros(pool)} EUR",
        f"  {'mechanism':24} {'Gini':>6} {'top 1 %':>8} {'top 10 %':>9} {'paid ≥ min':>11}",
    ]
    text += [
        f"  {r['mechanism']:24} {r['gini']:6.3f} {r['top1_share']:8.1%} {r['top10_share']:9.1%} "
        f"{r['holders_paid_at_minimum']:11,}"
        for r in rows
    ]
    if args.plots:
        from musicapp.royalties.plots import save_plots

        try:
            paths = save_plots(figures, Path(args.plots))
        except RuntimeError as e:
            raise InvalidInput(str(e)) from None
        text.append("Plots: " + ", ".join(str(p) for p in paths))
    emit(args, {"mechanisms": rows}, "\n".join(text))
    return EXIT_OK


def _real_usage(args: argparse.Namespace) -> tuple[list[Any], dict[str, Any], str]:
    """(events, rights, what they came from) for a simulation over real usage."""
    if args.basis:
        from musicapp.royalties.basis import basis_from_dict

        data = _read_json(args.basis, "basis")
        try:
            events, rights, _, _ = basis_from_dict(data)
        except ValueError as e:
            raise InvalidInput(f"basis {args.basis}: {e}") from None
        return list(events), dict(rights), f"the basis {args.basis}"
    with open_context(args, build=False) as ctx:
        room = ctx.studio.compensation
        events = room.own_events(datetime.min.replace(tzinfo=UTC), datetime.now(UTC))
        rights = room.rights([c.song_id for e in events for c in e.contributions])
    return events, rights, "this device's ledger"


def _policy_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--mechanism", choices=engine.MECHANISMS, default=engine.PROPORTIONAL)
    p.add_argument("--k", type=int, default=3, help="K of the Top-K mechanisms (default 3)")
    p.add_argument(
        "--pricing",
        choices=("tier", "flat"),
        default="flat",
        help="weigh uses by the holders' tier prices (the server's) or count them alike "
        "(default here: this device has no prices)",
    )
    p.add_argument("--pool", type=float, default=None, help="the period's pool in EUR")
    p.add_argument("--minimum", type=float, default=0.0, help="minimum payout in EUR")
    p.add_argument(
        "--training-fraction",
        type=float,
        default=0.0,
        help="the part of the pool paid to the songs the models learned from (default 0)",
    )
    p.add_argument(
        "--training",
        choices=("flat", "estimate"),
        default="flat",
        help="pay that part flat-rate over the training songs (default, until training-data "
        "attribution is credible) or by each take's logged estimate",
    )


def add_royalties_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `musicapp royalties statement|simulate`."""
    roy = sub.add_parser("royalties", help="statements and the royalty mechanisms' simulator")
    rsub = roy.add_subparsers(dest="royalties_command", required=True)
    st = rsub.add_parser(
        "statement",
        parents=[common],
        help="a period's statement: from this device's ledger, or from a server's basis",
        description="Compute a period's royalty statement. Without --basis: this device's own "
        "generations with the local splits (no prices here: give --pool). With --basis "
        "(GET /v1/royalties/basis from the rights server): every device's events, recomputed "
        "to the cent, and this device's own events checked against it. --verify FILE "
        "recomputes a server statement under the parameters it states and lists every "
        "difference (exit 1).",
    )
    st.add_argument("--from", dest="from_", required=True, help="start (ISO date or time, UTC)")
    st.add_argument("--to", required=True, help="end, exclusive")
    st.add_argument("--holder", default=None, help="one holder's statement")
    st.add_argument("--basis", default=None, help="a rights server's basis JSON file")
    st.add_argument("--verify", default=None, help="a server statement JSON file to check")
    _policy_args(st)
    st.set_defaults(func=cmd_statement)
    sim = rsub.add_parser(
        "simulate",
        parents=[common],
        help="every mechanism over the same synthetic period: Gini, top shares, plots",
    )
    sim.add_argument("--events", type=int, default=200_000)
    sim.add_argument("--songs", type=int, default=20_000)
    sim.add_argument("--holders", type=int, default=2_000)
    sim.add_argument("--zipf", type=float, default=1.0, help="popularity exponent (default 1)")
    sim.add_argument("--pool", type=float, default=100_000.0, help="pool in EUR")
    sim.add_argument("--minimum", type=float, default=10.0, help="minimum payout in EUR")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument("--plots", default=None, help="a folder for lorenz.png and payouts.png")
    real = sim.add_mutually_exclusive_group()
    real.add_argument("--ledger", action="store_true", help="this device's generations instead")
    real.add_argument("--basis", default=None, help="a rights server's basis JSON instead")
    sim.set_defaults(func=cmd_simulate)
