"""The floors of docs/ARCHITECTURE.md hold: geo/ is pure (no UI, nothing from the floors above it),
and layers/ does not reach into pages/. (Long modules: tests/test_thin_pages.py, for every floor.)

Imports are read from the source (every ``import`` and ``from ... import``, at any depth, including
the ones inside functions), so a lazy import cannot slip past."""

from __future__ import annotations

import ast
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
GEO_FORBIDDEN = ("layers", "pages", "app", "streamlit", "streamlit_folium", "folium", "branca", "altair")
LAYERS_FORBIDDEN = ("pages", "app", "streamlit", "streamlit_folium")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) of every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {module}"
            for path in sorted((ROOT / folder).rglob("*.py"))
            for line, module in imported_modules(path) if module in forbidden]


def test_the_checker_sees_top_level_lazy_and_dotted_imports(tmp_path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom layers.figures import x\n\ndef f():\n    import streamlit as st\n"
                      "    from folium.plugins import Draw\n    importlib.import_module('pages.common')\n")
    assert [m for _, m in imported_modules(sample)] == ["os", "layers", "streamlit", "folium", "pages"]


def test_geo_imports_no_ui_and_nothing_from_layers_or_pages() -> None:
    assert violations("geo", GEO_FORBIDDEN) == []


def test_layers_import_nothing_from_pages_or_streamlit() -> None:
    assert violations("layers", LAYERS_FORBIDDEN) == []
