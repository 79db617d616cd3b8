"""OpenStreetMap layers: site context around the parks, and OSM boundary candidates.

``context_layer`` draws the output of ``geo.osm.context_layers`` (hospitals, metro stations,
universities, research institutes, airports) as circle markers coloured by kind, tertiary
hospitals larger and ringed; ``osm_boundaries_layer`` draws candidate or applied OSM park
outlines from ``geo.osm.match_parks``, so a replacement can be reviewed on the map before it is
confirmed. Every string is escaped; details are in tooltips (folium popups need jQuery).
Both carry the ODbL attribution.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo.datums import convert
from geo.osm import OSM_ATTRIBUTION
from layers.features import display_frame
from layers.html import escape, table
from layers.i18n import translator

_STRINGS: dict[str, tuple[str, str]] = {
    "layer_context": ("Site context (OpenStreetMap)", "周边配套（开放街图）"),
    "layer_boundaries": ("OSM boundary candidates", "开放街图边界候选"),
    "hospital": ("Hospital", "医院"),
    "metro_station": ("Metro station", "地铁站"),
    "university": ("University", "高校"),
    "research_institute": ("Research institute", "科研机构"),
    "airport": ("Airport", "机场"),
    "kind": ("Kind", "类型"),
    "park": ("Park", "园区"),
    "distance": ("Distance to park", "距园区"),
    "tertiary": ("Tertiary hospital", "三级医院"),
    "tertiary_yes": ("yes ({evidence})", "是（{evidence}）"),
    "osm_id": ("OSM id", "OSM编号"),
    "edited": ("OSM edit", "OSM编辑时间"),
    "score": ("Match score", "匹配得分"),
    "area_now": ("Area now", "现面积"),
    "area_osm": ("OSM area", "OSM面积"),
    "overlap": ("Overlap (IoU)", "重叠度（IoU）"),
}
tr = translator(_STRINGS)

CONTEXT_COLOURS: dict[str, str] = {
    "hospital": "#c0392b", "metro_station": "#2e86c1", "university": "#1e8449",
    "research_institute": "#884ea0", "airport": "#34495e",
}
CANDIDATE_STYLE: dict[str, object] = {"color": "#e67e22", "weight": 2.5, "dashArray": "6 4",
                                      "fillOpacity": 0.08}


def _distance_text(metres: float, lang: str) -> str:
    if metres is None or not np.isfinite(metres):
        return ""
    if metres >= 1000:
        return f"{metres / 1000:.1f} km" if lang != "zh" else f"{metres / 1000:.1f} 公里"
    return f"{metres:.0f} m" if lang != "zh" else f"{metres:.0f} 米"


def context_layer(context: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84",
                  park_names: dict[str, str] | None = None, name: str | None = None,
                  show: bool = True) -> folium.FeatureGroup:
    """Context features as circle markers in one feature group.

    Parameters
    ----------
    context : GeoDataFrame
        From ``geo.osm.context_layers`` (points, EPSG:4326). A feature near several parks is
        drawn once, its tooltip naming the nearest park.
    lang : {"en", "zh"}
    datum : {"wgs84", "gcj02"}
        Datum of the basemap; markers are shifted to it.
    park_names : dict, optional
        park_id -> display name for the tooltips.
    name : str, optional
        Layer name in the layer control (default: "Site context (OpenStreetMap)").
    """
    group = folium.FeatureGroup(name=escape(name or tr("layer_context", lang)), show=show)
    if context.empty:
        return group
    nearest = context.sort_values("distance_m", kind="stable").drop_duplicates("osm_id")
    geoms = np.asarray(nearest.geometry.values, dtype=object)
    lon, lat = convert(shapely.get_x(geoms), shapely.get_y(geoms), source="wgs84", target=datum)
    park_names = park_names or {}
    for row, x, y in zip(nearest.itertuples(index=False), lon, lat, strict=True):
        label = row.name_zh if lang == "zh" else row.name_en
        label = label if isinstance(label, str) and label else (row.name if isinstance(row.name, str)
                                                                 else row.osm_id)
        kind = row.kind if row.kind in CONTEXT_COLOURS else "hospital"
        rows = [(tr("kind", lang), tr(kind, lang)),
                (tr("park", lang), park_names.get(row.park_id, row.park_id)),
                (tr("distance", lang), _distance_text(row.distance_m, lang))]
        if kind == "hospital" and bool(row.tertiary):
            rows.append((tr("tertiary", lang), tr("tertiary_yes", lang, evidence=row.tertiary_evidence or "")))
        rows += [(tr("osm_id", lang), row.osm_id),
                 (tr("edited", lang), (row.osm_timestamp or "")[:10])]
        details = f"<b>{escape(label)}</b>{table(rows)}<div style='font-size:10px'>{escape(OSM_ATTRIBUTION)}</div>"
        colour = CONTEXT_COLOURS[kind]
        tertiary = kind == "hospital" and bool(row.tertiary)
        folium.CircleMarker(
            [float(y), float(x)], radius=9 if tertiary or kind == "airport" else 6,
            color="#111" if tertiary else colour, weight=3 if tertiary else 1.5,
            fill=True, fill_color=colour, fill_opacity=0.85,
            tooltip=folium.Tooltip(details, sticky=True),
        ).add_to(group)
    return group


def osm_boundaries_layer(candidates: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84",
                         name: str | None = None, show: bool = True) -> folium.FeatureGroup:
    """OSM outlines proposed for the parks (``geo.osm.match_parks``), dashed orange, with the
    diff in the tooltip: score, area now and after, overlap."""
    group = folium.FeatureGroup(name=escape(name or tr("layer_boundaries", lang)), show=show)
    if candidates.empty:
        return group
    names = candidates["park_name_zh"] if lang == "zh" else candidates["park_name_en"]
    tooltip = []
    for row, park in zip(candidates.itertuples(index=False), names, strict=True):
        lines = [f"{park} ← {row.osm_id} {row.osm_name or ''}".strip(),
                 f"{tr('score', lang)}: {row.score:.2f} ({row.confidence})",
                 f"{tr('area_now', lang)}: {row.area_before_km2:.3f} km²",
                 f"{tr('area_osm', lang)}: {row.area_after_km2:.3f} km²",
                 f"{tr('overlap', lang)}: {row.overlap_iou:.2f}",
                 OSM_ATTRIBUTION]
        tooltip.append("\n".join(lines))
    shown = display_frame(candidates, datum=datum, properties={"tooltip": tooltip},
                          raw={"rank": [int(r) for r in candidates["rank"]]})
    shown["tooltip"] = shown["tooltip"].str.replace("\n", "<br>", regex=False)

    def style(feature: dict) -> dict:
        best = feature["properties"]["rank"] == 1
        return {"color": CANDIDATE_STYLE["color"], "weight": float(CANDIDATE_STYLE["weight"]) * (1.4 if best else 1),
                "dashArray": CANDIDATE_STYLE["dashArray"], "fillColor": CANDIDATE_STYLE["color"],
                "fillOpacity": CANDIDATE_STYLE["fillOpacity"]}

    folium.GeoJson(shown.to_json(), style_function=style,
                   tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True),
                   ).add_to(group)
    return group
