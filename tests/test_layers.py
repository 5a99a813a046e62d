"""Imports run one way: `registry` <- `lineage` <- CLI and dashboard (docs/ARCHITECTURE.md).

Every module of the package is parsed with `ast` (nothing is imported), and every import in it is
read: at module level, inside functions, under `TYPE_CHECKING`, relative ones resolved, and
`importlib.import_module` / `__import__` with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package -> the top-level packages and modules it must never import.
FORBIDDEN = {
    "registry": ("lineage", "app", "app_pages"),
    "lineage": ("app", "app_pages"),
}


def imported_names(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, the text of module `module`.

    >>> imported_names("from . import x\\nimport os", "registry.neo4j.store")
    [(1, 'registry.neo4j'), (2, 'os')]
    """
    package = module if is_package else module.rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("__import__", "import_module")))):
            out.append((node.lineno, node.args[0].value))
    return sorted(out)


def violations(package: str) -> list[str]:
    """`path:line imports name` for every import in `package` of a layer above it."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT)
        parts = list(relative.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        for line, name in imported_names(path.read_text(encoding="utf-8"), module, is_package=is_package):
            if name.split(".")[0] in FORBIDDEN[package]:
                found.append(f"{relative}:{line} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_a_layer_above_it(package: str) -> None:
    assert len(list((ROOT / package).rglob("*.py"))) > 10  # the walk really found the package
    assert violations(package) == []


@pytest.mark.parametrize("source", [
    "from lineage.graph import build_graph",
    "import lineage.api as api",
    "def f():\n    from lineage import queries",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from app_pages._common import x",
    "import importlib\nimportlib.import_module('lineage.neo4j.queries')",
    "from ...lineage import graph",
])
def test_the_check_sees_every_kind_of_import(source: str, tmp_path: Path) -> None:
    names = [name for _, name in imported_names(source, "registry.neo4j.store")]
    assert any(name.split(".")[0] in FORBIDDEN["registry"] for name in names), names


def test_relative_imports_resolve_to_their_package() -> None:
    assert imported_names("from .schema import X", "registry.neo4j.store") == [(1, "registry.neo4j.schema")]
    assert imported_names("from .schema import X", "registry.neo4j", is_package=True) == [
        (1, "registry.neo4j.schema")]
    assert imported_names("from .. import model", "registry.neo4j.store") == [(1, "registry")]
