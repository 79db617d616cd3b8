"""Isochrones and site metrics on the park page: reachable areas and the nearest destinations.

``isochrones_layer`` draws the polygons of ``geo.site.isochrones`` (longest budget first, in
lighter colours, so the shortest sits on top); ``nearest_targets_layer`` joins each park to the
nearest destination of every category found by ``geo.site.site_metrics``, with a tooltip that
says whether the figure is by road or in a straight line. ``metrics_table`` gives the same
figures as a small bilingual table. Every string is escaped; tooltips, not popups (no jQuery).
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.datums import convert
from geo.site import (METHOD_ROAD, METHOD_STRAIGHT, STATUS_NO_TARGET, STATUS_OFF_NETWORK,
                      STATUS_OK, STATUS_UNREACHABLE)
from layers.features import display_frame
from layers.html import escape, table
from layers.i18n import format_number, translator

# (English, Chinese); kept with the layer so the shared string table is not contended.
SITE_STRINGS: dict[str, tuple[str, str]] = {
    "layer_isochrones": ("Travel-time areas", "等时圈"),
    "layer_nearest": ("Nearest destinations", "最近目的地"),
    "within_minutes": ("Within {minutes} min", "{minutes}分钟可达"),
    "from_origin": ("From {name}", "出发地：{name}"),
    "area": ("Area", "面积"),
    "nodes_reached": ("Road junctions reached", "可达路口数"),
    "free_flow_note": ("Free-flow driving times, no congestion", "自由流行车时间，未计拥堵"),
    "category": ("Destination", "目的地类型"),
    "target": ("Nearest", "最近目的地"),
    "travel_time": ("Travel time", "行车时间"),
    "road_distance": ("Road distance", "道路距离"),
    "straight_distance": ("Straight-line distance", "直线距离"),
    "method": ("Method", "计算方法"),
    "status": ("Status", "状态"),
    "park": ("Park", "园区"),
    "location_note": ("Placed at its park's anchor: exact site unknown",
                      "标注在园区定位点：具体位置未知"),
    "minutes_value": ("{value} min", "{value}分钟"),
    "km_value": ("{value} km", "{value}公里"),
    "km2_value": ("{value} km²", "{value}平方公里"),
    # categories
    "cat_metro_station": ("Metro station", "地铁站"),
    "cat_tertiary_hospital": ("Tertiary hospital", "三级医院"),
    "cat_airport": ("Airport", "机场"),
    "cat_nmpa_centre": ("NMPA centre", "国家药监局直属单位"),
    # methods and statuses
    "method_road": ("By road (free-flow)", "道路网络（自由流）"),
    "method_straight": ("Straight line (no street network loaded)", "直线距离（未加载路网）"),
    "status_ok": ("", ""),
    "status_unreachable": ("No route in the loaded street network", "已加载路网内无可达路线"),
    "status_off_network": ("Outside the loaded street network", "超出已加载路网范围"),
    "status_no_target": ("None on the map", "地图上暂无"),
}
tr = translator(SITE_STRINGS)

# Shortest budget darkest; longer budgets lighter (ColorBrewer Blues).
ISOCHRONE_COLOURS: tuple[str, ...] = ("#08519c", "#3182bd", "#6baed6", "#9ecae1", "#c6dbef")
CATEGORY_COLOURS: dict[str, str] = {"metro_station": "#c0392b", "tertiary_hospital": "#d35400",
                                    "airport": "#2c3e50", "nmpa_centre": "#7f8c8d"}
_METHOD_KEYS = {METHOD_ROAD: "method_road", METHOD_STRAIGHT: "method_straight"}
_STATUS_KEYS = {STATUS_OK: "status_ok", STATUS_UNREACHABLE: "status_unreachable",
                STATUS_OFF_NETWORK: "status_off_network", STATUS_NO_TARGET: "status_no_target"}


def category_label(category: str, lang: str) -> str:
    """A destination category in ``lang``; unknown codes are shown readable."""
    key = f"cat_{category}"
    return tr(key, lang) if key in SITE_STRINGS else str(category).replace("_", " ")


def _km(metres: float, lang: str) -> str:
    if metres is None or not math.isfinite(float(metres)):
        return "–"
    return tr("km_value", lang, value=format_number(float(metres) / 1000.0, lang, digits=1))


def _minutes(value: float, lang: str) -> str:
    if value is None or not math.isfinite(float(value)):
        return "–"
    return tr("minutes_value", lang, value=format_number(float(value), lang, digits=0 if value >= 10 else 1))


def _colours(count: int) -> list[str]:
    if count <= len(ISOCHRONE_COLOURS):
        return list(ISOCHRONE_COLOURS[:count])
    return [ISOCHRONE_COLOURS[min(i * len(ISOCHRONE_COLOURS) // count, len(ISOCHRONE_COLOURS) - 1)]
            for i in range(count)]


def isochrones_layer(isochrones: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84",
                     origin_name: str | None = None, name: str | None = None) -> folium.FeatureGroup:
    """Isochrone polygons (``geo.site.isochrones``) in one layer, longest budget drawn first.

    Parameters
    ----------
    isochrones : GeoDataFrame
        ``minutes``, ``area_km2`` and polygons in EPSG:4326.
    lang : {"en", "zh"}
    datum : str
        Datum of the basemap (``wgs84`` or ``gcj02``): geometries are shifted to match it.
    origin_name : str, optional
        Shown in the tooltip (escaped).
    name : str, optional
        Layer name in the layer control; defaults to "Travel-time areas".
    """
    group = folium.FeatureGroup(name=name or tr("layer_isochrones", lang))
    if len(isochrones) == 0:
        return group
    ordered = isochrones.sort_values("minutes", ascending=True).reset_index(drop=True)
    colours = _colours(len(ordered))
    tooltips = []
    for minutes, area, reached in zip(ordered["minutes"], ordered["area_km2"],
                                      ordered.get("nodes_reached", pd.Series([None] * len(ordered))),
                                      strict=True):
        lines = [tr("within_minutes", lang, minutes=format_number(float(minutes), lang, digits=1))]
        if origin_name:
            lines.append(tr("from_origin", lang, name=origin_name))
        lines.append(f"{tr('area', lang)}: "
                     + tr("km2_value", lang, value=format_number(float(area), lang, digits=1)))
        if reached is not None and not (isinstance(reached, float) and math.isnan(reached)):
            lines.append(f"{tr('nodes_reached', lang)}: {format_number(float(reached), lang, digits=0)}")
        lines.append(tr("free_flow_note", lang))
        tooltips.append("\n".join(lines))
    shown = display_frame(ordered, datum=datum, properties={"tooltip": tooltips},
                          raw={"colour": colours, "rank": list(range(len(ordered)))})
    shown["tooltip"] = shown["tooltip"].str.replace("\n", "<br>", regex=False)
    # Longest first, so the shorter (darker) areas are drawn over it and stay clickable.
    for position in range(len(shown) - 1, -1, -1):
        piece = shown.iloc[[position]]
        colour = str(piece["colour"].iloc[0])
        rank = int(piece["rank"].iloc[0])
        folium.GeoJson(
            piece.to_json(), name=None,
            style_function=lambda _f, c=colour, r=rank: {
                "color": c, "weight": 1.5, "fillColor": c, "fillOpacity": 0.30 - 0.05 * min(r, 4)},
            tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True),
        ).add_to(group)
    return group


def _row_details(row: pd.Series, lang: str) -> str:
    name = row["target_name_zh"] if lang == "zh" else row["target_name_en"]
    park = row["park_name_zh"] if lang == "zh" else row["park_name_en"]
    rows = [(tr("park", lang), park), (tr("category", lang), category_label(row["category"], lang))]
    if row["method"] == METHOD_ROAD and row["status"] == STATUS_OK:
        rows += [(tr("travel_time", lang), _minutes(row["travel_min"], lang)),
                 (tr("road_distance", lang), _km(row["road_m"], lang))]
    rows.append((tr("straight_distance", lang), _km(row["straight_m"], lang)))
    rows.append((tr("method", lang), tr(_METHOD_KEYS.get(row["method"], "method_straight"), lang)))
    status = tr(_STATUS_KEYS.get(row["status"], "status_ok"), lang)
    if status:
        rows.append((tr("status", lang), status))
    if row.get("target_location_tier") == "park":
        rows.append(("", tr("location_note", lang)))
    return f"<b>{escape(name)}</b>{table(rows)}"


def nearest_targets_layer(metrics: pd.DataFrame, *, lang: str = "en", datum: str = "wgs84",
                          name: str | None = None) -> folium.FeatureGroup:
    """A line from each park to its nearest destination of each category, and a marker on it.

    Lines are connectors, not routes: solid when the figures are by road, dashed when they
    are straight-line distances, dotted grey when the road network has no route.
    """
    group = folium.FeatureGroup(name=name or tr("layer_nearest", lang))
    shown = metrics[np.isfinite(metrics["target_lon"].to_numpy(np.float64))]
    if len(shown) == 0:
        return group
    park_lon, park_lat = convert(shown["park_lon"].to_numpy(np.float64),
                                 shown["park_lat"].to_numpy(np.float64), source="wgs84", target=datum)
    target_lon, target_lat = convert(shown["target_lon"].to_numpy(np.float64),
                                     shown["target_lat"].to_numpy(np.float64), source="wgs84",
                                     target=datum)
    for (_, row), px, py, tx, ty in zip(shown.iterrows(), park_lon, park_lat, target_lon, target_lat,
                                        strict=True):
        colour = CATEGORY_COLOURS.get(row["category"], "#555")
        details = _row_details(row, lang)
        routed = row["method"] == METHOD_ROAD and row["status"] == STATUS_OK
        dash = None if routed else ("2 6" if row["method"] == METHOD_ROAD else "8 6")
        folium.PolyLine([[float(py), float(px)], [float(ty), float(tx)]],
                        color=colour if row["status"] == STATUS_OK else "#95a5a6", weight=2,
                        opacity=0.8, dash_array=dash,
                        tooltip=folium.Tooltip(details, sticky=True)).add_to(group)
        folium.CircleMarker([float(ty), float(tx)], radius=6, color=colour, weight=2, fill=True,
                            fill_color=colour, fill_opacity=0.8,
                            tooltip=folium.Tooltip(details, sticky=True)).add_to(group)
    return group


def metrics_table(metrics: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """The site metrics as a display table with headers and values in ``lang``.

    Plain text (for ``st.dataframe``, which does not render HTML); one row per park and
    category.
    """
    names = metrics["target_name_zh"] if lang == "zh" else metrics["target_name_en"]
    parks = metrics["park_name_zh"] if lang == "zh" else metrics["park_name_en"]
    status = [tr(_STATUS_KEYS.get(s, "status_ok"), lang) for s in metrics["status"]]
    return pd.DataFrame({
        tr("park", lang): parks.to_numpy(),
        tr("category", lang): [category_label(c, lang) for c in metrics["category"]],
        tr("target", lang): [n if isinstance(n, str) else "–" for n in names],
        tr("travel_time", lang): [_minutes(v, lang) for v in metrics["travel_min"]],
        tr("road_distance", lang): [_km(v, lang) for v in metrics["road_m"]],
        tr("straight_distance", lang): [_km(v, lang) for v in metrics["straight_m"]],
        tr("method", lang): [tr(_METHOD_KEYS.get(m, "method_straight"), lang) for m in metrics["method"]],
        tr("status", lang): status,
    })
