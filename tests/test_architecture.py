"""The floors of docs/ARCHITECTURE.md hold: geo/ is pure (no UI, nothing from the floors above it),
layers/ does not reach into pages/, and no module in geo/ is long without a reason stated at its top.

Imports are read from the source (every ``import`` and ``from ... import``, at any depth, including
the ones inside functions), so a lazy import cannot slip past."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GEO_FORBIDDEN = ("layers", "pages", "app", "streamlit", "streamlit_folium", "folium", "branca", "altair")
LAYERS_FORBIDDEN = ("pages", "app", "streamlit", "streamlit_folium")
MAX_LINES = 500
# Long before this test and outside the investor's-map work that added it: each is to be split
# along its seams or to say why not (a "Long:" line). No module may join this list.
KNOWN_LONG = frozenset({"geo/bench.py", "geo/imports.py", "geo/locate.py", "geo/parcels.py", "geo/scenarios.py"})


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


@pytest.mark.parametrize("path", sorted((ROOT / "geo").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_geo_modules_are_short_or_say_why_not(path: Path) -> None:
    """A module over 500 lines states why at its top (a docstring line starting 'Long:')."""
    text = path.read_text(encoding="utf-8")
    if text.count("\n") <= MAX_LINES or str(path.relative_to(ROOT)) in KNOWN_LONG:
        return
    docstring = ast.get_docstring(ast.parse(text)) or ""
    assert "Long:" in docstring, (f"{path.relative_to(ROOT)} has {text.count(chr(10))} lines: split it along "
                                  "its seams, or say why it is one module in a 'Long: ...' line of its docstring")
