"""`python -m musicapp` on a data folder whose ledger was damaged outside the app: generate and
export refuse in one line naming the commands and write nothing; `ledger repair` / `reanchor`
put the damage on record and the app goes on; `ledger verify` exits 1 only for new damage."""

import io
import json
import subprocess
import sys
from pathlib import Path

from musicapp.catalog.demo import PERMITTED_SONG_IDS
from musicapp.testing.ledger_tamper import tamper

A = PERMITTED_SONG_IDS[0]


def musicapp(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "musicapp", *args, "--data-dir", str(data_dir), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=300,
        input=stdin,
    )


def one_line_error(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 2, out.stderr
    assert out.stdout == "" and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("musicapp: error: ")
    return lines[0]


def test_a_damaged_ledger_stops_generate_and_export_until_repaired(
    demo_data_dir: Path, tmp_path: Path
) -> None:
    first = musicapp(demo_data_dir, "generate", A, "--duration", "4", "--json")
    assert first.returncode == 0, first.stderr
    take_id = json.loads(first.stdout)["take_id"]
    takes = sorted((demo_data_dir / "takes").iterdir())
    # Seq 2 is the generation: someone credits another song with the sqlite3 shell.
    tamper(
        demo_data_dir / "ledger.sqlite",
        (f"UPDATE events SET payload = replace(payload, '{A}', 'another') WHERE seq = 2", ()),
    )

    refused = one_line_error(musicapp(demo_data_dir, "generate", A, "--duration", "4"))
    assert "is damaged: event 2 was edited" in refused and "Nothing was added" in refused
    assert f"musicapp ledger verify --data-dir {demo_data_dir}" in refused
    assert f"musicapp ledger repair --data-dir {demo_data_dir}" in refused
    assert sorted((demo_data_dir / "takes").iterdir()) == takes  # no take, not even staged

    out = tmp_path / "take.flac"
    refused = one_line_error(musicapp(demo_data_dir, "export", take_id, str(out)))
    assert "event 2 was edited" in refused
    assert list(tmp_path.glob("take.flac*")) == []

    verify = musicapp(demo_data_dir, "ledger", "verify", "--json")
    assert verify.returncode == 1
    assert json.loads(verify.stdout)["problems"][0].startswith("event 2 ")

    # Not on a terminal and no --yes: refuse rather than guess.
    assert "confirm with --yes" in one_line_error(musicapp(demo_data_dir, "ledger", "repair"))
    assert "only its head anchor" in one_line_error(
        musicapp(demo_data_dir, "ledger", "reanchor", "--yes")
    )
    repair = musicapp(demo_data_dir, "ledger", "repair", "--yes", "--json", "--reason", "test")
    assert repair.returncode == 0, repair.stderr
    record = json.loads(repair.stdout)
    assert record["kind"] == "ledger_repair" and record["damage"][0]["seq"] == 2
    assert "nothing to repair" in one_line_error(
        musicapp(demo_data_dir, "ledger", "repair", "--yes")
    )

    verify = musicapp(demo_data_dir, "ledger", "verify")
    assert verify.returncode == 0, verify.stdout
    assert "Ledger OK" in verify.stdout and "Damage on record" in verify.stdout

    again = musicapp(demo_data_dir, "generate", A, "--duration", "4")
    assert again.returncode == 0, again.stderr
    assert len(list((demo_data_dir / "takes").iterdir())) == len(takes) + 1


def test_a_lost_anchor_is_accepted_with_reanchor(demo_data_dir: Path) -> None:
    first = musicapp(demo_data_dir, "generate", A, "--duration", "4")
    assert first.returncode == 0, first.stderr
    (demo_data_dir / "ledger.sqlite.head").unlink()

    refused = one_line_error(musicapp(demo_data_dir, "generate", A, "--duration", "4"))
    assert "head anchor" in refused and "is missing" in refused
    assert "musicapp ledger reanchor" in refused
    assert musicapp(demo_data_dir, "ledger", "verify").returncode == 1
    assert "Run `musicapp ledger reanchor" in one_line_error(
        musicapp(demo_data_dir, "ledger", "repair", "--yes")
    )

    done = musicapp(demo_data_dir, "ledger", "reanchor", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    # the take's verification, generation and audit events: the new anchor is the third
    assert record["old_anchor"] is None and record["new_anchor"]["seq"] == 3
    assert musicapp(demo_data_dir, "ledger", "verify").returncode == 0
    assert musicapp(demo_data_dir, "generate", A, "--duration", "4").returncode == 0


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_repair_asks_on_a_terminal_and_a_no_changes_nothing(
    demo_data_dir: Path, monkeypatch, capsys
) -> None:
    from musicapp.cli import main
    from musicapp.ledger import Ledger

    path = demo_data_dir / "ledger.sqlite"
    with Ledger(path) as ledger:
        ledger.append_many([("verification", {"i": i}) for i in range(3)])
    tamper(path, "DELETE FROM events WHERE seq = 2")
    args = ["ledger", "repair", "--data-dir", str(demo_data_dir)]
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    assert main(args) == 1
    said = capsys.readouterr().err
    assert "event 2 is missing" in said and "[y/N]" in said and "nothing was changed" in said
    with Ledger(path) as ledger:
        assert ledger.count() == 2 and ledger.damage is not None
    monkeypatch.setattr(sys, "stdin", _Terminal("yes\n"))
    assert main(args) == 0
    with Ledger(path) as ledger:
        assert ledger.count() == 3 and ledger.damage is None
