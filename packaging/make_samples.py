"""Make docs/samples: a short signed export of each format, and what other programs read in it.

Run (one command; again whenever exports change):
    PYTHONPATH=. .venv/bin/python packaging/make_samples.py [--out docs/samples]

In a throwaway data folder with the small demo catalogue and a throwaway rights server (the
real one, in a subprocess): makes an 8 s take of a demo song, syncs (the server receipts the
take's events and certifies the device's signing key), and exports the take as sample.wav,
sample.flac (both 16-bit, to keep them small) and sample.mp3 (320 kbit/s), each with its JSON
sidecar, its C2PA manifest and the server's receipts inside. The server's CA certificate is kept
as server-ca.pem; every private key goes with the throwaway folders. Then each reader of musicapp/testing/interop.py (c2pa-python's Reader,
mutagen, beets' mediafile; each in a fresh interpreter importing only its library) and
``c2patool`` when installed read each file, and README.md records what each printed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from musicapp.catalog.demo import build_demo
from musicapp.catalog.store import CatalogStore
from musicapp.cli import main as cli_main
from musicapp.config import CATALOGUE_RATE
from musicapp.export.offline import verify_offline
from musicapp.testing import interop
from musicapp.testing.server_process import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 8.0
SONG = "fife-british-grenadiers"  # in the first demo songs; song-level use allowed for all uses
DEMO_SONGS = 10
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


def _cli(*argv: str) -> Any:
    """Run one `musicapp` command the way a user would; its --json answer."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = cli_main([*argv, "--json", "--no-progress"])
    if code != 0:
        raise SystemExit(f"musicapp {' '.join(argv)} failed ({code}): {buffer.getvalue()}")
    return json.loads(buffer.getvalue())


def _export(out: Path, data: Path, server_url: str) -> tuple[list[dict[str, Any]], str]:
    """A take of a demo song made, synced to the rights server, and exported in each format:
    each file carries the C2PA manifest signed with the certificate the server issued at the
    sync, and the server's receipts for the take."""
    base = ["--data-dir", str(data)]
    take = _cli("generate", SONG, "--use", "commercial", "--duration", f"{SECONDS:g}", *base)
    _cli("sync", "--server", server_url, *base)
    results = []
    for fmt, options in FORMATS:
        flags = [f"--{k}={v}" for k, v in options.items()]
        results.append(_cli("export", "last", str(out / f"sample.{fmt}"), *flags, *base))
    what = (
        f"{SECONDS:g} s take (`musicapp generate {SONG} --use commercial`, weight-free engine, "
        f"{take.get('sample_rate', CATALOGUE_RATE)} Hz) of the demo catalogue"
    )
    return results, what


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
    rows += [f"  not established: {what}" for what in report.not_established]
    return _block("\n".join(rows))


def _versions() -> str:
    found = []
    for dist in ("c2pa-python", "mutagen", "mediafile", "soundfile", "lameenc"):
        try:
            found.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            found.append(f"{dist} (not installed)")
    return ", ".join(found)


def readme(results: list[dict[str, Any]], what: str, out: Path) -> str:
    lines = [
        "# Sample exports and what other programs read in them",
        "",
        "Made from the repository root by",
        "",
        *_block(COMMAND, "sh"),
        f"{what}, synced to a throwaway rights server and exported by `musicapp export` (WAV",
        "and FLAC 16-bit here to keep the samples small, the app exports 24-bit by default; the",
        "MP3 at 320 kbit/s). Each has its JSON sidecar beside it, a C2PA manifest signed with the",
        "certificate the server issued for the device's key, and the server's receipts for the",
        "take's events. `server-ca.pem` is that server's CA certificate: with it anyone can run",
        "",
        *_block(
            "musicapp verify docs/samples/sample.flac --offline --ca docs/samples/server-ca.pem",
            "sh",
        ),
        "and check the whole chain without a ledger. The server's keys went with its folder.",
        "",
        "Each reader runs as `python -c SCRIPT FILE` in a fresh interpreter that imports only its",
        "own library, none of musicapp; the scripts are C2PA_READER, MUTAGEN_READER and",
        "MEDIAFILE_READER in musicapp/testing/interop.py. C2PA_READER trims c2pa-python's",
        "manifest store JSON to the validation state, the signer and the active manifest's",
        "assertions. The JSON below is each script's output, indented.",
        f"Versions: {_versions()}.",
        "",
        "The last block of each file is musicapp's own offline check (`verify_offline`, the file",
        "and server-ca.pem only), with what it could not establish.",
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
        path = Path(r["path"])
        manifest = f"{r['c2pa'] or 'none'}; receipts for {r['receipts']} event(s)"
        lines.append(f"| {path.name} | {path.stat().st_size:,} | {manifest} |")
    lines.append("")
    for r in results:
        path = Path(r["path"])
        lines += [f"## {path.name}", "", f"Export event `{r['event_id']}`.", ""]
        lines += _reader_blocks(path)
        lines += ["**musicapp verify_offline**:", ""]
        lines += _offline_block(path, out / "server-ca.pem")
    return "\n".join(lines).rstrip("\n") + "\n"


def make(out: Path) -> Path:
    """Replace the samples in ``out`` and write its README.md; returns the README's path."""
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("sample.*"), out / "ca.pem", out / "server-ca.pem"]:
        old.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data, server_dir = Path(tmp) / "data", Path(tmp) / "server"
        data.mkdir()
        with CatalogStore(data / "catalog.sqlite", data / "audio") as store:
            build_demo(store, limit=DEMO_SONGS)
        with ServerProcess(server_dir) as server:
            results, what = _export(out, data, server.url)
            with httpx.Client(base_url=server.url) as client:
                (out / "server-ca.pem").write_text(client.get("/v1/ca").json()["certificate"])
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
