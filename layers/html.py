"""Escaping for the live HTML and JavaScript that folium writes.

folium inserts tooltip and popup text as HTML, puts ``Tooltip`` text inside a JavaScript
template literal, and embeds GeoJSON properties in a ``<script>`` block. ``escape`` makes any
string inert in all three places: HTML special characters become entities, and so do the
characters that matter inside a template literal (backtick, ``$``, backslash).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

_EXTRA = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "\u2028": " ", "\u2029": " "})
_SPECIAL = re.compile("[&<>\"'`$\\\\\u2028\u2029]")  # every character html.escape or _EXTRA changes


def escape(value: object) -> str:
    """Return ``value`` as text that is inert in HTML, JS template literals and script blocks."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    text = str(value)
    if _SPECIAL.search(text) is None:  # most text (numbers, names) has nothing to escape
        return text
    return html.escape(text, quote=True).translate(_EXTRA)


TABLE_START, ROW_END, TABLE_END = "<table style='font-size:12px'>", "</td></tr>", "</table>"


def row_start(label: object) -> str:
    """The start of a row of ``table``: its escaped label and the opening of its value cell (for
    layers that build thousands of tables column by column; the value goes in escaped, then ``ROW_END``)."""
    return f"<tr><th style='text-align:left;padding-right:6px'>{escape(label)}</th><td>"


def table(rows: Iterable[tuple[object, object]]) -> str:
    """A small two-column HTML table; every cell is escaped."""
    body = "".join(f"{row_start(k)}{escape(v)}{ROW_END}" for k, v in rows)
    return f"{TABLE_START}{body}{TABLE_END}"


def script_safe(json_text: str) -> str:
    """JSON text made safe to put inside a ``<script>`` block: ``</`` can never close the script,
    and the line separators U+2028/U+2029 (legal in JSON, not in older JS) are escaped."""
    return json_text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def markdown_text(value: object) -> str:
    """``value`` as Streamlit markdown that shows the characters themselves: no links, images,
    emphasis, ``:colour[...]`` directives, emoji codes or LaTeX can come out of user text."""
    text = "" if value is None else str(value)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text.replace("\n", " "))
