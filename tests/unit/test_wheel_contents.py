"""The wheel ships the top-level resources/ inside the package and leaves the test doubles out."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the build reads; copied so the build's own build/ and egg-info folders never land in (or
# leak stale files from) the checkout.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "README.md", "musicapp", "resources")
BUILD = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"


def _wheel_names(tmp_path: Path) -> list[str]:
    import setuptools

    major = int(setuptools.__version__.split(".")[0])
    assert major >= 77, (
        f"setuptools {setuptools.__version__} cannot read pyproject's license string: "
        "run scripts/setup.sh (the dev extra brings setuptools>=77)"
    )
    src = tmp_path / "src"
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(path, src / name)
    out = tmp_path / "wheel"
    out.mkdir()
    # The same backend call pip makes for `pip wheel --no-build-isolation`, without pip's network.
    done = subprocess.run(
        [sys.executable, "-c", BUILD, str(out)],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = out.glob("musicapp-*.whl")
    with zipfile.ZipFile(wheel) as z:
        return z.namelist()


def test_the_wheel_has_the_resources_and_no_test_doubles(tmp_path: Path) -> None:
    names = _wheel_names(tmp_path)
    assert not [n for n in names if n.startswith("musicapp/testing/")]
    for double in ("sync/fake_server.py", "catalog/synthetic.py", "generation/similarity.py"):
        assert f"musicapp/{double}" not in names
    shipped = {n for n in names if n.startswith("musicapp/resources/")}
    expected = {
        "musicapp/resources/" + p.relative_to(ROOT / "resources").as_posix()
        for p in (ROOT / "resources").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected and shipped == expected
    assert {"musicapp/resources/demo_catalog.json", "musicapp/resources/style.qss"} <= shipped
    assert "musicapp/cli.py" in names and "musicapp/py.typed" in names
