"""A layer the user imported: points, lines or polygons with escaped tooltips, or grid cells
when there are too many points to draw one by one."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement, Template

from geo.aggregate import grid_counts
from geo.locate import LOCATE_TIERS
from layers.features import display_frame
from layers.html import escape
from layers.i18n import format_number, term, translator

TEXT = {
    "tiers": ("How the rows were placed", "定位方式"),
    "tier": ("Placed", "定位"),
    "evidence": ("Evidence", "依据"),
    "point": ("Point", "点位"),
    "flag": ("Check", "请核对"),
    "provider": ("By", "来源"),
    "not_site": ("park and district tiers are anchors, not sites", "园区、区级定位为代表点，并非实际地址"),
    "features": ("features", "个要素"),
    "cell": ("Grid cell {size} m: {count} features", "{size} 米网格：{count} 个要素"),
    "aggregated": ("{name} ({count} points in {size} m cells)", "{name}（{count} 个点，{size} 米网格）"),
}
tr = translator(TEXT)
IMPORT_COLOUR = "#117a65"
MAX_TOOLTIP_FIELDS = 5
_CELL_COLOURS = ("#d1f2eb", "#76d7c4", "#1abc9c", "#148f77", "#0b5345")
# One colour per location tier (geo.locate): the finer the placement, the darker and the smaller
# the ring around it; a park or district anchor is a hollow ring, as it is not a site.
TIER_COLOURS = {"osm": "#0b5345", "geocoded": "#117a65", "park": "#d35400", "district": "#7d3c98"}
TIER_FILL = {"osm": 0.85, "geocoded": 0.85, "park": 0.15, "district": 0.1}


class LocationLegend(MacroElement):
    """The location tiers of a layer placed by address, with their counts (bottom-left)."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div class="location-legend" style="position:absolute;bottom:48px;left:10px;z-index:900;
            background:rgba(255,255,255,.94);padding:6px 10px;border-radius:6px;max-width:280px;
            font:12px/1.35 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)">{{ this.body }}</div>
        {% endmacro %}
    """)

    def __init__(self, counts: dict[str, int], *, lang: str = "en") -> None:
        super().__init__()
        self._name = "LocationLegend"
        rows = "".join(
            f"<div class='legend-location-tier' data-tier='{key}' title='{escape(tier.description_zh if lang == 'zh' else tier.description_en)}'>"
            f"<span style='display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:5px;"
            f"border:2px solid {TIER_COLOURS[key]};background:{TIER_COLOURS[key]}{'d9' if TIER_FILL[key] > .5 else '26'}'>"
            f"</span>{escape(term(tier, lang))}: {escape(format_number(counts[key], lang))}</div>"
            for key, tier in LOCATE_TIERS.items() if counts.get(key))
        self.body = (f"<b>{escape(tr('tiers', lang))}</b>{rows}"
                     f"<div style='color:#555;font-size:11px'>{escape(tr('not_site', lang))}</div>")


def location_legend(frame: gpd.GeoDataFrame, *, lang: str = "en") -> LocationLegend | None:
    """The tier legend of a layer placed by address (None for a layer with its own coordinates)."""
    if "located_district_id" not in frame:  # not placed by geo.locate
        return None
    return LocationLegend(frame["location_tier"].value_counts().to_dict(), lang=lang)


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
    if "location_tier" in frame and "located_district_id" in frame:  # placed by geo.locate
        return _located_layer(frame, name=name, label_column=label_column, lang=lang, datum=datum)
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


def _located_layer(frame: gpd.GeoDataFrame, *, name: str, label_column: str | None, lang: str,
                   datum: str) -> folium.FeatureGroup:
    """Rows placed by address: coloured by tier, the tier, evidence and point in the popup."""
    group = folium.FeatureGroup(name=escape(name))
    tiers = frame["location_tier"].astype(str)
    label = frame[label_column] if label_column in frame else frame.iloc[:, 1] if frame.shape[1] > 1 else tiers
    tier_names = {key: term(value, lang) for key, value in LOCATE_TIERS.items()}

    def text(column: str) -> list[object]:
        return frame[column].tolist() if column in frame else [None] * len(frame)

    shown = display_frame(frame, datum=datum, properties={
        "label": label, "tier": [tier_names.get(t, t) for t in tiers], "evidence": text("location_evidence"),
        "point": text("location_point"), "flag": text("location_flag"), "provider": text("location_provider"),
    }, raw={"tier_code": tiers.tolist(), "colour": [TIER_COLOURS.get(t, IMPORT_COLOUR) for t in tiers],
            "fill": [TIER_FILL.get(t, 0.8) for t in tiers]})
    fields = ["label", "tier", "provider", "evidence", "point", "flag"]
    aliases = ["", tr("tier", lang), tr("provider", lang), tr("evidence", lang), tr("point", lang), tr("flag", lang)]
    folium.GeoJson(
        shown.to_json(drop_id=True), name=escape(name),
        style_function=lambda f: {"color": f["properties"]["colour"], "weight": 2,
                                  "fillColor": f["properties"]["colour"], "fillOpacity": f["properties"]["fill"]},
        marker=folium.CircleMarker(radius=6, weight=2, fill=True),
        tooltip=folium.GeoJsonTooltip(fields=["label", "tier"], labels=False, sticky=True),
        popup=folium.GeoJsonPopup(fields=fields, aliases=[escape(a) for a in aliases], max_width=360),
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
