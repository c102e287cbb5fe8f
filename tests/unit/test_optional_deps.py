"""Libraries' optional dependencies hidden while they load, and only then."""

import sys

import pytest

from musicapp.optional_deps import hidden


def test_a_module_is_hidden_inside_the_block_and_importable_after(tmp_path, monkeypatch):
    (tmp_path / "optional_extra.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with hidden("optional_extra"), pytest.raises(ImportError):
        import optional_extra  # noqa: F401
    import optional_extra

    assert optional_extra.VALUE == 42
    del sys.modules["optional_extra"]


def test_an_already_imported_module_is_left_alone():
    import json

    with hidden("json"):
        import json as again
    assert again is json


def test_the_window_path_does_not_pay_for_pandas_or_cuda():
    import subprocess

    code = (
        "import sys, musicapp.catalog, musicapp.ui;"
        "print('pandas' in sys.modules, 'cuda.bindings.runtime' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
