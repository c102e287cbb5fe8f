"""The `musicapp ledger` commands: verify, show, and repair / reanchor a damaged ledger."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from musicapp.cli_common import EXIT_FAILED, EXIT_OK, emit, open_context
from musicapp.core import InvalidInput


def _lines(title: str, items: list[str]) -> list[str]:
    return [title, *(f"  {item}" for item in items)] if items else []


def cmd_verify(args: argparse.Namespace) -> int:
    """Re-hash the whole chain; exit 1 only for damage that is not on record yet."""
    with open_context(args, build=False) as ctx:
        report = ctx.studio.records.verify()
        damage = ctx.studio.records.damage
    on_record = _lines("Damage on record (acknowledged; it does not block):", report.acknowledged)
    if report.ok:
        lines = [f"Ledger OK: {report.checked} events, chain intact.", *on_record]
    else:
        lines = [
            f"Ledger FAILED: {len(report.problems)} problem(s) not on record:",
            *(f"  {p}" for p in report.problems),
            *on_record,
        ]
        if damage is not None:
            lines.append(damage.remedy())
    data = {
        "ok": report.ok,
        "checked": report.checked,
        "problems": report.problems,
        "acknowledged": report.acknowledged,
    }
    emit(args, data, "\n".join(lines))
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_show(args: argparse.Namespace) -> int:
    with open_context(args, build=False) as ctx:
        events = ctx.studio.records.latest(args.limit)
        emit(
            args,
            [
                {"seq": e.seq, "id": e.id, "kind": e.kind, "ts": e.ts, "hash": e.hash}
                for e in events
            ],
            "\n".join(f"{e.seq:6} {e.ts} {e.kind:13} {e.id}" for e in events) or "Ledger is empty.",
        )
    return EXIT_OK


def _confirm(args: argparse.Namespace, question: str) -> bool:
    """True with --yes, or when the user says yes on the terminal."""
    if args.yes:
        return True
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


def _record_damage(args: argparse.Namespace, repair: bool) -> int:
    what = "repair" if repair else "reanchor"
    with open_context(args, build=False) as ctx:
        records = ctx.studio.records
        report, damage = records.damage_to_record(repair)
        if not args.yes and not sys.stdin.isatty():
            raise InvalidInput(
                f"ledger {what}: confirm with --yes (there is no terminal to ask on)"
            )
        print(
            "\n".join(
                [f"Ledger {records.path}: {damage.what()}.", *(f"  {x}" for x in report.problems)]
            ),
            file=sys.stderr,
        )
        question = (
            "Put this damage on record in the ledger and go on adding to it? The damaged "
            "events stay as they are."
            if repair
            else "Accept the ledger as it now ends, and record that decision in it?"
        )
        if not _confirm(args, question):
            print(f"musicapp: ledger {what}: nothing was changed", file=sys.stderr)
            return EXIT_FAILED
        event = records.record_damage(repair, args.reason)
        data: dict[str, Any] = {"event_id": event.id, "seq": event.seq, "kind": event.kind}
        data |= {k: v for k, v in event.payload.items() if k != "reason"}
        emit(
            args,
            data,
            f"Recorded {event.kind} event {event.seq} ({event.id}): {_done(event.payload)}.\n"
            f"New events can be added again; `musicapp ledger verify{records.cli_args}` lists "
            f"the damage as acknowledged.",
        )
    return EXIT_OK


def _done(payload: dict[str, Any]) -> str:
    """What a ledger_repair or ledger_reanchor event did, in a few words."""
    if "damage_count" not in payload:
        return f"the ledger is accepted as ending at seq {payload['new_anchor']['seq']}"
    done = f"{payload['damage_count']} problem(s) in the events on record"
    if payload["guards_restored"]:
        done += "; the append-only guards are back"
    if payload["anchor"]:
        done += f"; the head is accepted at seq {payload['anchor']['new_anchor']['seq']}"
    return done


def cmd_repair(args: argparse.Namespace) -> int:
    """Put the damage found in the ledger on record as a `ledger_repair` event."""
    return _record_damage(args, repair=True)


def cmd_reanchor(args: argparse.Namespace) -> int:
    """Accept the ledger as it now ends, recorded as a `ledger_reanchor` event."""
    return _record_damage(args, repair=False)


def add_ledger_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """`musicapp ledger verify|show|repair|reanchor` on the main parser's subcommands."""
    led = sub.add_parser("ledger", help="the attribution ledger")
    led_sub = led.add_subparsers(dest="ledger_cmd", required=True)
    lv = led_sub.add_parser(
        "verify",
        parents=[common],
        help="check the hash chain (exit 1 only for damage not yet on record)",
    )
    lv.set_defaults(func=cmd_verify)
    ls = led_sub.add_parser("show", parents=[common], help="the latest events")
    ls.add_argument("--limit", type=int, default=20)
    ls.set_defaults(func=cmd_show)
    confirm = argparse.ArgumentParser(add_help=False)
    confirm.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    confirm.add_argument("--reason", default="", help="why, for the record")
    rep = led_sub.add_parser(
        "repair",
        parents=[common, confirm],
        help="put the damage on record (a ledger_repair event) so new events can be added",
        description="Verify the whole ledger and record the damage found (edited, dropped or "
        "reordered events, removed guards, an out-of-step head anchor) as a ledger_repair "
        "event. Nothing already in the ledger is changed; the guards are put back.",
    )
    rep.set_defaults(func=cmd_repair)
    rea = led_sub.add_parser(
        "reanchor",
        parents=[common, confirm],
        help="accept the ledger as it now ends (a ledger_reanchor event)",
        description="For a lost or replaced head anchor file, or newest events cut off: "
        "record the old anchor and accept the current head.",
    )
    rea.set_defaults(func=cmd_reanchor)
