"""Make docs/samples: a short signed export of each format, and what other programs read in it.

Run (one command; again whenever exports change):
    PYTHONPATH=. .venv/bin/python packaging/make_samples.py [--out docs/samples]

Renders 8 s of a demo song (musicapp/testing/demo_music.py), exports it as sample.wav,
sample.flac (both 16-bit, to keep them small) and sample.mp3 (320 kbit/s), each with its JSON
sidecar and a C2PA manifest where the format is signed, from a throwaway data folder: a fresh
ledger and a fresh signing identity, whose CA certificate is kept as ca.pem (the private keys go
with the folder). Then each reader of musicapp/testing/interop.py (c2pa-python's Reader,
mutagen, beets' mediafile; each in a fresh interpreter importing only its library) and
``c2patool`` when installed read each file, and README.md records what each printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from musicapp.config import CATALOGUE_RATE
from musicapp.export import ExportResult, export_audio
from musicapp.export.c2pa_manifest import ManifestRequest
from musicapp.export.offline import verify_offline
from musicapp.ledger import Ledger
from musicapp.testing import interop
from musicapp.testing.demo_music import attribution_for, demo_music

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 8.0
FIRST_SONG = 2  # Soldier's Joy: a band with drums, more to hear in 8 s than a chorale
FORMATS = (("wav", {"bits": 16}), ("flac", {"bits": 16}), ("mp3", {"bitrate": 320}))
COMMAND = "PYTHONPATH=. .venv/bin/python packaging/make_samples.py"

# What was tried to get c2patool here (issue 17), so the next person need not try again.
C2PATOOL_TRIED = """\
- `pip download c2patool`: "No matching distribution found" (not on PyPI).
- `npm view c2patool`: 404 Not Found; `npm view @contentauth/c2patool`: 404 Not Found
  (npm has @contentauth/c2pa-node, -wasm, -web: libraries, not the tool).
- Debian bookworm, after `apt-get update`: `apt-cache policy c2patool` prints nothing and
  `apt-cache search c2pa` finds nothing.
- c2patool is published as a Rust crate and as GitHub release binaries; neither crates.io nor
  GitHub can be reached from this machine, so it could not be built or downloaded."""


def _export(out: Path, data: Path, ledger: Ledger) -> tuple[list[ExportResult], str]:
    used, audio = demo_music(SECONDS, first=FIRST_SONG)
    _, title, artist, _ = used[0]
    results = []
    for fmt, options in FORMATS:
        results.append(
            export_audio(
                audio,
                CATALOGUE_RATE,
                out / f"sample.{fmt}",
                dict(attribution_for(used)),
                ledger,
                title=f"Sample take after {title}",
                artist="musicapp sample",
                c2pa=ManifestRequest(data),
                **options,
            )
        )
    return results, f"{SECONDS:g} s of {title} ({artist}), rendered by the demo renderer"


def _block(text: str, lang: str = "") -> list[str]:
    return [f"```{lang}", text.rstrip("\n"), "```", ""]


def _reader_blocks(path: Path) -> list[str]:
    out: list[str] = []
    for reader in interop.READERS:
        out.append(f"**{reader}** (`python -c {reader.upper()}_READER {path.name}`):")
        out.append("")
        if not interop.available(reader):
            out += _block(f"({reader} is not installed)")
            continue
        try:
            seen: Any = interop.read(reader, path)
        except interop.ReaderFailed as exc:
            out += _block(str(exc))
            continue
        out += _block(json.dumps(seen, indent=2, ensure_ascii=False), "json")
    out.append(f"**c2patool** (`c2patool {path.name}`):")
    out.append("")
    if interop.c2patool() is None:
        out += _block("(c2patool is not installed: see above for what was tried)")
    else:
        try:
            out += _block(interop.run_c2patool(path))
        except interop.ReaderFailed as exc:
            out += _block(str(exc))
    return out


def _offline_block(path: Path, ca: Path) -> list[str]:
    report = verify_offline(path, ca)
    rows = [report.summary.replace(f"{path.parent}/", "")]
    for c in report.checks:
        state = "skipped" if c.skipped else ("ok" if c.ok else "FAILED")
        rows.append(f"  {c.name:12} {state:8} {c.detail}")
    return _block("\n".join(rows))


def _versions() -> str:
    found = []
    for dist in ("c2pa-python", "mutagen", "mediafile", "soundfile", "lameenc"):
        try:
            found.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            found.append(f"{dist} (not installed)")
    return ", ".join(found)


def readme(results: list[ExportResult], what: str, out: Path) -> str:
    lines = [
        "# Sample exports and what other programs read in them",
        "",
        "Made from the repository root by",
        "",
        *_block(COMMAND, "sh"),
        f"{what}, exported by `export_audio` from a throwaway data folder (fresh ledger, fresh",
        "signing identity). WAV and FLAC are 16-bit here to keep the samples small (the app",
        "exports 24-bit by default); the MP3 is 320 kbit/s. Each has its JSON sidecar beside it.",
        "`ca.pem` is the throwaway identity's CA certificate, for offline verification; its keys",
        "were deleted with the folder.",
        "",
        "Each reader runs as `python -c SCRIPT FILE` in a fresh interpreter that imports only its",
        "own library, none of musicapp; the scripts are C2PA_READER, MUTAGEN_READER and",
        "MEDIAFILE_READER in musicapp/testing/interop.py. C2PA_READER trims c2pa-python's",
        "manifest store JSON to the validation state, the signer and the active manifest's",
        "assertions. The JSON below is each script's output, indented.",
        f"Versions: {_versions()}.",
        "",
        "The last block of each file is musicapp's own offline check (`verify_offline`, the file",
        "and ca.pem only).",
        "",
        "## c2patool",
        "",
        C2PATOOL_TRIED,
        "",
        "## Files",
        "",
        "| file | bytes | manifest |",
        "|---|---|---|",
    ]
    for r in results:
        size = r.path.stat().st_size
        lines.append(f"| {r.path.name} | {size:,} | {r.c2pa or 'none: format not signed yet'} |")
    lines.append("")
    for r in results:
        lines += [f"## {r.path.name}", "", f"Export event `{r.event_id}`.", ""]
        lines += _reader_blocks(r.path)
        lines += ["**musicapp verify_offline**:", ""]
        lines += _offline_block(r.path, out / "ca.pem")
    return "\n".join(lines).rstrip("\n") + "\n"


def make(out: Path) -> Path:
    """Replace the samples in ``out`` and write its README.md; returns the README's path."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("sample.*"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        with Ledger(data / "ledger.sqlite") as ledger:
            results, what = _export(out, data, ledger)
        ca = data / "c2pa" / "ca.pem"
        if ca.exists():
            shutil.copyfile(ca, out / "ca.pem")
        text = readme(results, what, out)
    path = out / "README.md"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "samples")
    args = parser.parse_args()
    path = make(args.out)
    for f in sorted(args.out.iterdir()):
        print(f"{f.stat().st_size:>10,}  {f}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
