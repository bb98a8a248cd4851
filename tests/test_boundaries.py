"""DESIGN.md §2: who may import what, read from the source with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gateway"

# library (top-level import name) → module paths (relative to gateway/, without .py) allowed to import it
OWNERS = {
    "serial": ("modem",),
    "sqlite_utils": ("store",),
    "bottle": ("web",),
    "apscheduler": ("jobs",),
}


def _modules() -> list[tuple[str, Path]]:
    return [(str(p.relative_to(PACKAGE).with_suffix("")), p) for p in sorted(PACKAGE.rglob("*.py"))]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _owned_by(module: str, owners: tuple[str, ...]) -> bool:
    return any(module == o or module.startswith(o + "/") or module.startswith(o + "_") for o in owners)


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_library_owners(module: str, path: Path) -> None:
    imported = _imports(path)
    for library, owners in OWNERS.items():
        uses = any(name == library or name.startswith(library + ".") for name in imported)
        if uses:
            assert _owned_by(module, owners), f"gateway/{module}.py imports {library}; only {owners} may"


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[m for m, _ in _modules()])
def test_web_never_touches_modems_and_simulator_is_independent(module: str, path: Path) -> None:
    imported = _imports(path)
    if _owned_by(module, ("web",)):
        assert not any(n == "gateway.modem" or n.startswith("gateway.modem.") for n in imported)
    if module.startswith("simulator"):
        forbidden = ("gateway.at", "gateway.modem", "gateway.sms", "gateway.worker")
        assert not any(n == f or n.startswith(f + ".") for n in imported for f in forbidden), imported
    if module == "at":
        io = {"serial", "socket", "threading", "time", "sqlite3", "sqlite_utils"}
        assert not any(n.split(".")[0] in io for n in imported), imported


def test_the_rule_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import serial\nfrom sqlite_utils import Database\n", encoding="utf-8")
    assert {"serial", "sqlite_utils", "sqlite_utils.Database"} <= _imports(bad)
    assert not _owned_by("web/pages", OWNERS["serial"])
    assert _owned_by("store/outbox", OWNERS["sqlite_utils"])
