"""The engine registry: the default engine, unknown names, and no model code on import."""

import subprocess
import sys

import pytest

from musicapp.core import InvalidInput, Level
from musicapp.generation import Engine, default_engine_name, engines, get_engine, register
from musicapp.generation.registry import engine_labels


def test_default_engine_is_concat_and_is_listed_with_its_label():
    assert default_engine_name() == "concat"
    listed = engines()
    assert next(iter(listed)) == "concat"
    concat = listed["concat"]
    assert isinstance(concat, Engine)
    assert concat.label == "Concatenative (no weights)" and not concat.needs_weights
    assert concat.levels == set(Level)


def test_unknown_engine_lists_the_known_ones():
    with pytest.raises(InvalidInput, match="'nope'.*concat"):
        get_engine("nope")


def test_register_adds_an_engine(monkeypatch, tmp_path):
    from musicapp.config import Settings
    from musicapp.generation import registry

    monkeypatch.setattr(registry, "_FACTORIES", dict(registry._FACTORIES))
    register("double", lambda: get_engine("concat"))
    # An empty models folder: whatever weights this machine has, no downloaded-weights engine
    # is listed; the composer is, where the ml extra is installed (its weights ship with it).
    settings = Settings(data_dir=tmp_path, models_dir=tmp_path / "models")
    composer = {"composer"} if registry._settings_engine_problem("composer") is None else set()
    assert set(engines(settings)) == {"concat", "tonematch", "double"} | composer
    # The window lists it by its label, from the engine itself as it has no entry of its own.
    labels = dict(engine_labels(settings))
    assert labels["double"] == get_engine("concat").label
    assert list(labels) == list(engines(settings))


def test_listing_and_running_engines_imports_no_torch():
    code = (
        "import sys\n"
        "from musicapp.generation import engines\n"
        "from musicapp.audio import analysis, stretch\n"
        "engines()\n"
        "print('torch' in sys.modules, 'torchaudio' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False False"
