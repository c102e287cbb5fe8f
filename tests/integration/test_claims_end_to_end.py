"""A musician's own songs, claimed on the real rights server and confirmed by its admin (issue 19:
the rights wizard makes the user the holder "locally; with a server, as a claim the server's
admin confirms"): `musicapp rights claim` on the app, `musicapp sync` sends the claims,
`musicapp-server claim confirm` on the server, and the next sync brings the song's consent
back from the server, which the consent check then cites."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from musicapp.cli import main
from musicapp.testing.server_process import ServerProcess


def test_a_claim_confirmed_by_the_admin_comes_back_as_the_servers_consent(
    demo_data_dir: Path, tmp_path: Path, capsys
) -> None:
    data = str(demo_data_dir)

    def app(*args: str) -> str:
        code = main([*args, "--data-dir", data, "--no-progress"])
        out, err = capsys.readouterr()
        assert code == 0, err
        return out

    folder = tmp_path / "my music"
    folder.mkdir()
    t = np.arange(44100 * 6) / 44100
    for i, name in enumerate(("Night Drive.wav", "Harbour Lights.wav")):
        tone = 0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t)
        sf.write(folder / name, np.stack([tone, tone], 1), 44100)
    app("import", str(folder))
    ids = sorted(s["id"] for s in json.loads(app("rights", "--json"))["unclaimed"])
    assert len(ids) == 2

    with ServerProcess(tmp_path / "server") as server:
        app("sync", "--server", server.url)
        said = app("rights", "claim", "--all", "--name", "Ann Archer", "--allow", "non_commercial")
        assert "Claimed on the rights server" in said
        app("sync")
        listed = server.cli("claim", "list", "--status", "pending")
        assert listed.returncode == 0, listed.stderr
        pending = [line.split()[0] for line in listed.stdout.splitlines()]
        assert len(pending) == 2 and "holder Ann Archer (self:ann-archer)" in listed.stdout
        by_song = {line.split()[2]: line.split()[0] for line in listed.stdout.splitlines()}
        confirmed = server.cli("claim", "confirm", by_song[ids[0]])
        assert confirmed.returncode == 0, confirmed.stderr
        rejected = server.cli("claim", "reject", by_song[ids[1]], "--reason", "Not yours")
        assert rejected.returncode == 0, rejected.stderr
        app("sync")
        status = app("rights", "claims")
        assert "confirmed by the rights server's administrator" in status
        assert "rejected by the rights server's administrator: Not yours" in status
    # The confirmed song's consent is the server's version 1, for the uses claimed.
    from musicapp.catalog.store import CatalogStore

    store = CatalogStore(demo_data_dir / "catalog.sqlite", demo_data_dir / "audio")
    try:
        assert store.consent.registry_versions([ids[0]]) == {(ids[0], "self:ann-archer"): 1}
        assert store.consent.registry_versions([ids[1]]) == {}
        [record] = store.consent.consent_records([ids[0]])
        assert {u.value for u in record.uses} == {"private", "non_commercial"}
    finally:
        store.close()
