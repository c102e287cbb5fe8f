"""The `musicapp models` command: each weight file's state, and importing (or trusting) one."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from musicapp.cli_common import EXIT_OK
from musicapp.config import Settings


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str) if args.json else text)


def _models_dir(args: argparse.Namespace) -> Path:
    given = getattr(args, "models_dir", None)
    return Path(given) if given else Settings().models_dir


def cmd_models(args: argparse.Namespace) -> int:
    """List each model and each of its files as verified / trusted locally / missing / bad
    checksum / unverifiable (with where to get a missing one), or, with `import PATH`, check a
    weight file and copy it into place (`--trust` for one without a published sha256)."""
    from musicapp.rooms.models import ModelsRoom
    from musicapp.weights import WeightStatus

    # The models room needs only the folder: listing or importing weights opens no data folder.
    room = ModelsRoom(_models_dir(args))
    models_dir = room.models_dir
    if getattr(args, "models_cmd", None) == "import":
        done = room.import_file(Path(args.path), args.model, trust=args.trust)
        data: dict[str, Any] = {
            "imported": str(done.dest),
            "model": done.model,
            "status": done.state.value,
            "sha256": done.sha256,
            "size": done.size,
        }
        text = f"Imported {args.path} -> {done.dest} ({done.model}): {done.state.value}"
        if done.trusted is not None:
            data |= {
                "trusted_by": done.trusted.trusted_by,
                "trusted_at": done.trusted.trusted_at,
                "trust_list": str(done.trust_list),
            }
            text += (
                f"\nTrusted on your word (the manifest lists no published sha256 for it):\n"
                f"  sha256 {done.sha256}, {done.size} bytes\n"
                f"  by {done.trusted.trusted_by} at {done.trusted.trusted_at}, "
                f"recorded in {done.trust_list}\n"
                "musicapp will load exactly these bytes for it; any other file there is refused."
            )
        emit(args, data, text)
        return EXIT_OK
    rows = []
    for entry, check in room.checks():
        row: dict[str, Any] = {
            "name": entry.name,
            "purpose": entry.purpose,
            "licence": entry.licence,
            "status": check.state.value,
            "detail": check.detail,
            "files": [
                {"path": c.file.path, "status": c.state.value, "sha256": c.sha256}
                for c in check.files
            ],
        }
        if check.state in (WeightStatus.MISSING, WeightStatus.BAD_CHECKSUM):
            row["obtain"] = entry.source
        rows.append(row)
    lines = [f"Models folder: {models_dir}", f"Trust list:    {room.trust_list}"]
    for r in rows:
        lines.append(f"  {r['name']:16} {r['status']:15} {r['purpose']}\n      {r['detail']}")
        lines += [f"      {f['status']:15} {f['path']}" for f in r["files"]]
        if "obtain" in r and r["status"] != WeightStatus.MISSING.value:
            lines.append(f"      get it again from: {r['obtain']}")
    lines += [
        "Add a file with: musicapp models import PATH [--model NAME] "
        "(--trust for one the manifest has no published sha256 for)",
        "Only verified or trusted files are loaded. Without weights musicapp uses its "
        "weight-free engines (labelled as such).",
    ]
    data = {
        "models_dir": str(models_dir),
        "trust_list": str(room.trust_list),
        "models": rows,
    }
    emit(args, data, "\n".join(lines))
    return EXIT_OK


def add_models_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register `models` and `models import` on the `musicapp` parser."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--models-dir", default=argparse.SUPPRESS, help="the models folder (default: settings)"
    )
    models = sub.add_parser(
        "models",
        parents=[common, where],
        help="model weights: verified, trusted locally, missing, bad checksum or unverifiable",
    )
    models.set_defaults(func=cmd_models)
    models_sub = models.add_subparsers(dest="models_cmd")
    mimp = models_sub.add_parser(
        "import",
        parents=[common, where],
        help="check a weight file against the manifest and copy it into the models folder",
    )
    mimp.add_argument("path", help="a weight file, e.g. 955717e8-8726e21a.th or htdemucs.yaml")
    mimp.add_argument("--model", help="the manifest model it belongs to (default: by file name)")
    mimp.add_argument(
        "--trust",
        action="store_true",
        help="for a file the manifest lists no published sha256 for: record its sha256 in the "
        "local trust list (who, when) so musicapp loads exactly this file",
    )
    mimp.set_defaults(func=cmd_models)
