"""Receipts inside the file: after a sync an export carries the server's receipts for its take,
and `musicapp verify --offline` checks them with the server's CA certificate alone (no ledger,
no data folder); each tampering is named. Runs against the real server process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from mutagen.flac import FLAC

from musicapp.cli import main
from musicapp.export.offline import verify_offline
from musicapp.export.proofs import TAG

pytest.importorskip("c2pa")

SONG = "fife-british-grenadiers"  # in the small demo; song level allowed for all uses


def run(capsys, *argv):
    code = main([*argv, "--json", "--no-progress"])
    captured = capsys.readouterr()
    out = captured.out
    return code, (json.loads(out) if out.strip() else captured.err)


def server_ca(live_server, tmp_path: Path) -> Path:
    """The server's CA certificate, as anyone can fetch it from the server (GET /v1/ca)."""
    out = tmp_path / "server-ca.pem"
    with httpx.Client(base_url=live_server.url) as client:
        out.write_text(client.get("/v1/ca").json()["certificate"])
    return out


@pytest.fixture
def synced_export(live_server, demo_data_dir, tmp_path, capsys):
    base = ["--data-dir", str(demo_data_dir)]
    code, _ = run(capsys, "generate", SONG, "--use", "private", "--duration", "4", *base)
    assert code == 0
    unsynced = tmp_path / "before.flac"
    code, _ = run(capsys, "export", "last", str(unsynced), *base)
    assert code == 0
    code, result = run(capsys, "sync", "--server", live_server.url, *base)
    assert code == 0 and result["pending"] == 0, result
    out = tmp_path / "take.flac"
    code, result = run(capsys, "export", "last", str(out), *base)
    assert code == 0, result
    return out, unsynced, base


def _receipts(path: Path) -> dict:
    return json.loads(FLAC(path)[TAG][0])


def test_a_synced_export_carries_the_receipts_of_its_take(
    synced_export, live_server, tmp_path, capsys
):
    out, unsynced, base = synced_export
    code, online = run(capsys, "verify", str(out), *base)  # with the ledger: all of it holds
    assert code == 0 and online["ok"], online
    carried = _receipts(out)
    kinds = [e["event"]["kind"] for e in carried["events"]]
    assert kinds == ["verification", "generation"]
    assert all(e["receipt"]["inclusion"] is not None for e in carried["events"])
    assert TAG not in (FLAC(unsynced).tags or {})  # exported before the sync: nothing to carry

    # Offline: a folder with nothing in it but the file and the CA certificate.
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    copy = stranger / "take.flac"
    shutil.copyfile(out, copy)
    report = verify_offline(copy, server_ca(live_server, tmp_path))
    by_name = {c.name: c for c in report.checks}
    assert by_name["audio"].ok and by_name["attribution"].ok
    assert by_name["event"].ok, by_name["event"]
    assert by_name["receipt"].ok, by_name["receipt"]
    assert "generation at" in by_name["receipt"].detail
    assert by_name["consent"].ok and "permitted for private use" in by_name["consent"].detail
    assert by_name["ledger"].skipped
    # The device's certificate, issued by the server's CA at the sync, ties it all together.
    assert by_name["device"].ok, by_name["device"]
    assert "issued" in by_name["c2pa"].detail
    assert report.ok, report.failures
    assert any("export itself" in n for n in report.not_established)
    assert any("withdrawn" in n for n in report.not_established)


def test_an_export_before_the_sync_says_it_carries_no_receipts(
    synced_export, live_server, tmp_path
):
    _, unsynced, _ = synced_export
    report = verify_offline(unsynced, server_ca(live_server, tmp_path))
    assert report.check("receipt") is None
    assert any("carries no server receipts" in n for n in report.not_established)


def _rewrite_receipts(path: Path, change) -> None:
    flac = FLAC(path)
    data = json.loads(flac[TAG][0])
    change(data)
    flac[TAG] = [json.dumps(data)]
    flac.save()


def test_every_receipt_tampering_is_named(synced_export, live_server, tmp_path):
    out, _, _ = synced_export
    ca = server_ca(live_server, tmp_path)

    def root(d):
        r = d["events"][1]["receipt"]
        r["root"] = "00" * 32

    def proof(d):
        r = d["events"][1]["receipt"]
        r["leaf_index"] = int(r["leaf_index"]) + 1

    def payload(d):
        d["events"][1]["event"]["payload"]["royalties"] = {"someone-else": 1.0}

    def signature(d):
        d["events"][0]["signature"] = d["events"][1]["signature"]

    def shares(d):
        for s in d["events"][1]["event"]["payload"]["provenance"]["shares"]:
            s["share"] = 0.5

    cases = {
        root: ("receipt", "not signed by the server's log key"),
        proof: ("receipt", "inclusion proof does not lead to the signed root"),
        payload: ("event", "was edited"),
        signature: ("device", "signature on the verification event does not verify"),
        shares: ("event", "was edited"),
    }
    for change, (check, words) in cases.items():
        path = tmp_path / f"{change.__name__}.flac"
        shutil.copyfile(out, path)
        _rewrite_receipts(path, change)
        report = verify_offline(path, ca)
        assert not report.ok
        failed = report.check(check)
        assert failed is not None and not failed.ok and words in failed.detail, (
            change.__name__,
            failed,
        )
        # Any change to the tags is a change to the signed file too.
        assert not report.check("c2pa").ok


def test_reexport_adds_the_receipts_to_an_earlier_export(
    synced_export, live_server, capsys, tmp_path
):
    _, unsynced, base = synced_export
    code, result = run(capsys, "reexport", str(unsynced), *base)
    assert code == 0, result
    again = Path(result["path"])
    assert again.name == "before-receipts.flac" and result["receipts"] == 2
    assert verify_offline(again, server_ca(live_server, tmp_path)).check("receipt").ok
    code, err = run(capsys, "reexport", str(unsynced), *base)
    assert code != 0 and "already exists" in err
    # And the CLI's offline verify, with only the CA certificate.
    code, shown = run(
        capsys,
        "verify",
        str(again),
        "--offline",
        "--ca",
        str(server_ca(live_server, tmp_path)),
        *base,
    )
    names = {c["name"]: c for c in shown["checks"]}
    assert names["receipt"]["ok"] and names["consent"]["ok"]
    assert shown["not_established"]
