"""House rules: only musicapp/ui imports Qt; starting the CLI imports no model code."""

import pkgutil
import subprocess
import sys

import musicapp


def all_modules():
    for info in pkgutil.walk_packages(musicapp.__path__, "musicapp."):
        if not info.name.startswith("musicapp.ui") and info.name != "musicapp.__main__":
            yield info.name


def test_no_module_outside_ui_imports_qt():
    modules = list(all_modules())
    assert "musicapp.studio" in modules and "musicapp.cli" in modules
    code = (
        "import sys, importlib\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):\n"
        "            raise ImportError('Qt is not allowed here: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_starting_the_cli_imports_neither_torch_nor_qt():
    code = (
        "import sys, musicapp.cli, musicapp.studio, musicapp.context\n"
        "print(sorted(m for m in ('torch', 'torchaudio', 'PySide6') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
