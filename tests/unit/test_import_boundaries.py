"""The studio is the only door: the CLI and the UI import no working code from the packages
behind it (issue 13). Checked with ``ast`` over every import, at module level or inside a
function; "types" are imports under ``if TYPE_CHECKING:`` and ``musicapp.studio_types``."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import musicapp
import musicapp.studio_types

PACKAGE = Path(musicapp.__file__).parent
BEHIND_THE_DOOR = ("catalog", "ledger", "sync", "stems", "export", "generation")
FORBIDDEN = tuple(f"musicapp.{name}" for name in BEHIND_THE_DOOR)


def front_end_files() -> list[Path]:
    return sorted([*PACKAGE.glob("cli*.py"), *(PACKAGE / "ui").rglob("*.py")])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _behind(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The full module names an import statement reaches (relative ones resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    if _behind(base):
        return [base]
    # `from musicapp import ledger` reaches musicapp.ledger.
    return [f"{base}.{alias.name}" for alias in node.names]


def violations(source: str, package: str = "musicapp") -> list[str]:
    """Each import in ``source`` that reaches behind the door, as "line N: module"."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:  # the `else:` of a TYPE_CHECKING block runs for real
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.extend(f"line {node.lineno}: {m}" for m in _imported(node, package) if _behind(m))
        if isinstance(node, ast.Call) and node.args:  # importlib.import_module("musicapp.x")
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            name = node.func.id if isinstance(node.func, ast.Name) else name
            first = node.args[0]
            if name in ("import_module", "__import__") and isinstance(first, ast.Constant):
                if isinstance(first.value, str) and _behind(first.value):
                    found.append(f"line {node.lineno}: {first.value}")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def test_the_cli_and_the_ui_reach_the_packages_only_through_the_studio():
    files = front_end_files()
    assert PACKAGE / "cli.py" in files and PACKAGE / "ui" / "sync_status.py" in files
    broken = {}
    for path in files:
        package = "musicapp.ui" if path.parent.name == "ui" else "musicapp"
        found = violations(path.read_text(encoding="utf-8"), package)
        if found:
            broken[str(path.relative_to(PACKAGE))] = found
    assert not broken, (
        f"imports behind the studio (use the studio, a room or studio_types): {broken}"
    )


def test_the_check_sees_every_way_in_and_lets_types_through():
    assert violations("from musicapp.ledger import Ledger") == ["line 1: musicapp.ledger"]
    lazy = "def f():\n    from musicapp.sync.engine import SyncEngine\n"
    assert violations(lazy) == ["line 2: musicapp.sync.engine"]
    assert violations("import musicapp.export.verifier as v") == [
        "line 1: musicapp.export.verifier"
    ]
    assert violations("from musicapp import generation") == ["line 1: musicapp.generation"]
    assert violations("from .stems import service", "musicapp") == ["line 1: musicapp.stems"]
    assert violations("from ..catalog import store", "musicapp.ui") == ["line 1: musicapp.catalog"]
    assert violations("importlib.import_module('musicapp.ledger.repair')") == [
        "line 1: musicapp.ledger.repair"
    ]
    typed = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from musicapp.sync.state import SyncState\n"
        "from musicapp.studio_types import LedgerDamaged, SyncResult\n"
        "from musicapp.rooms.sync import sync_job\n"
        "from musicapp.catalogue_view import x\n"
    )
    assert violations(typed) == []


def test_the_types_module_holds_only_types():
    names = musicapp.studio_types.__all__
    assert {"LedgerDamaged", "SearchFilters", "SyncResult", "SyncStatus"} <= set(names)
    assert all(inspect.isclass(getattr(musicapp.studio_types, n)) for n in names)
