"""A layer the user imported: points, lines or polygons with escaped tooltips, or grid cells
when there are too many points to draw one by one."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo.aggregate import grid_counts
from layers.features import display_frame
from layers.html import escape
from layers.i18n import format_number, translator

TEXT = {
    "features": ("features", "个要素"),
    "cell": ("Grid cell {size} m: {count} features", "{size} 米网格：{count} 个要素"),
    "aggregated": ("{name} ({count} points in {size} m cells)", "{name}（{count} 个点，{size} 米网格）"),
}
tr = translator(TEXT)
IMPORT_COLOUR = "#117a65"
MAX_TOOLTIP_FIELDS = 5
_CELL_COLOURS = ("#d1f2eb", "#76d7c4", "#1abc9c", "#148f77", "#0b5345")


def _tooltip_columns(frame: gpd.GeoDataFrame, label_column: str | None) -> list[str]:
    columns = [c for c in frame.columns if c not in (frame.geometry.name, "source_row")]
    if label_column in columns:
        columns.remove(label_column)
        columns.insert(0, label_column)
    return columns[:MAX_TOOLTIP_FIELDS]


def imported_layer(frame: gpd.GeoDataFrame, *, name: str, label_column: str | None = None, lang: str = "en",
                   datum: str = "wgs84", max_markers: int = 3000) -> folium.FeatureGroup:
    """Draw an imported layer (WGS84) in ``datum``.

    Every name, column name and value is escaped: imported files are untrusted. Point layers with
    more than ``max_markers`` points are drawn as counts per grid cell, so a 100,000-row table
    stays a light page.
    """
    group = folium.FeatureGroup(name=escape(name))
    geoms = np.asarray(frame.geometry.values, dtype=object)
    all_points = len(geoms) > 0 and bool(np.isin(shapely.get_type_id(geoms), [0]).all())
    if all_points and len(frame) > max_markers:
        return _grid_layer(frame, name=name, lang=lang, datum=datum)
    columns = _tooltip_columns(frame, label_column)
    keys = [f"f{i}" for i in range(len(columns))]
    shown = display_frame(frame, datum=datum, properties={k: frame[c] for k, c in zip(keys, columns, strict=True)})
    style = {"color": IMPORT_COLOUR, "weight": 2, "fillColor": IMPORT_COLOUR, "fillOpacity": 0.25}
    tooltip = folium.GeoJsonTooltip(fields=keys, aliases=[escape(c) for c in columns], sticky=True) if keys else None
    folium.GeoJson(
        shown.to_json(drop_id=True), name=escape(name), style_function=lambda _: style,
        marker=folium.CircleMarker(radius=5, color=IMPORT_COLOUR, weight=1, fill=True, fill_opacity=0.8),
        tooltip=tooltip,
    ).add_to(group)
    return group


def _grid_layer(frame: gpd.GeoDataFrame, *, name: str, lang: str, datum: str) -> folium.FeatureGroup:
    cells = grid_counts(frame)
    size = int(cells["cell_m"].iloc[0]) if len(cells) else 0
    breaks = np.quantile(cells["count"], [0.2, 0.4, 0.6, 0.8]) if len(cells) else np.array([])
    shade = np.searchsorted(breaks, cells["count"].to_numpy(), side="right") if len(cells) else []
    tips = [tr("cell", lang, size=format_number(size, lang), count=format_number(n, lang)) for n in cells["count"]]
    shown = display_frame(cells, datum=datum, properties={"tip": tips},
                          raw={"colour": [_CELL_COLOURS[min(int(s), 4)] for s in shade]})
    label = tr("aggregated", lang, name=name, count=format_number(len(frame), lang), size=format_number(size, lang))
    group = folium.FeatureGroup(name=escape(label))
    folium.GeoJson(
        shown.to_json(drop_id=True), name=escape(label),
        style_function=lambda f: {"color": "#0b5345", "weight": 0.5, "fillColor": f["properties"]["colour"],
                                  "fillOpacity": 0.7},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(group)
    return group
