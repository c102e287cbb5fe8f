"""`musicapp prompt`, `suggest`, `categories`, and the alternatives a refused `generate` prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from musicapp.catalog.demo import NON_COMMERCIAL_SONG_ID, PERMITTED_SONG_IDS
from musicapp.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, main

pytestmark = pytest.mark.xdist_group("selection")  # one MiniLM load per worker


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--data-dir", str(data), "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


def test_prompt_json_names_the_embedding_and_lists_only_cleared_songs(
    demo_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, demo_data_dir, "prompt", "a lively dance tune", "--use", "commercial", "--json"
    )
    assert code == EXIT_OK
    answer = json.loads(out)
    assert "MiniLM" in answer["embedding"]
    assert answer["filtered_for"] == "usable at song level for commercial distribution"
    ids = [c["song"]["id"] for c in answer["candidates"]]
    assert ids and NON_COMMERCIAL_SONG_ID not in ids
    assert all(c["verified"] for c in answer["candidates"])
    code, out, _ = run(capsys, demo_data_dir, "suggest", "--like", PERMITTED_SONG_IDS[0], "-k", "3")
    assert code == EXIT_OK and "Answered by:" in out and PERMITTED_SONG_IDS[0] not in out
    code, out, _ = run(capsys, demo_data_dir, "categories")
    assert code == EXIT_OK and out.startswith("mood: happy (")
    code, _, err = run(capsys, demo_data_dir, "prompt", "x", "--level", "audio")
    assert code == EXIT_BAD_INPUT and "--use" in err


def test_a_refused_generate_prints_the_permitted_songs_nearest_to_it(
    demo_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, demo_data_dir, "generate", NON_COMMERCIAL_SONG_ID, "--use", "commercial"
    )
    assert code == EXIT_FAILED
    assert "permitted and close:" in out and "Answered by:" in out
    code, out, _ = run(
        capsys, demo_data_dir, "generate", NON_COMMERCIAL_SONG_ID, "--use", "commercial", "--json"
    )
    (alternatives,) = json.loads(out)["alternatives_songs"]
    assert alternatives["refused"] == NON_COMMERCIAL_SONG_ID and alternatives["candidates"]
    for c in alternatives["candidates"]:
        code, out, _ = run(
            capsys,
            demo_data_dir,
            "generate",
            c["song"]["id"],
            "--use",
            "commercial",
            "--duration",
            "2",
            "--json",
        )
        assert code == EXIT_OK, out  # each alternative really clears, end to end
        break
