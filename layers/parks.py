"""Park layers: outlines styled by geometry tier (so a guess never looks like a survey) and, when
zoomed out, a labelled symbol per park that stays clickable above everything else."""

from __future__ import annotations

import json
from collections.abc import Mapping

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement, Template
from folium.utilities import JsCode

from geo.datums import convert
from geo.shapes import is_drawn
from geo.vocab import GEOMETRY_TIERS
from layers.features import display_frame
from layers.html import escape
from layers.i18n import format_quantity, t, term
from layers.styles import TIER_STYLES

# Below this zoom a park is a symbol (at zoom 11 the 7.2 km2 Life Science Park is a 25 px
# circle, at the opening zoom a 6 px one); from it on, the outline alone.
SYMBOL_MAX_ZOOM = 12
SYMBOL_PANE = "parkSymbols"
# A park's tooltip (name, tier, area with its source and date, organisations) wraps at 300 px:
# on one line it ran off the map's edge, cut mid-sentence.
TOOLTIP_CLASS = "park-tooltip"
TOOLTIP_STYLE = "white-space: normal !important; width: max-content; max-width: 300px;"
SYMBOL_PANE_Z = 640  # above markers and clusters (600), below tooltips (650) and popups (700)
NESTED_KM = 1.0  # parks whose anchors are closer than this share one place: symbols side by side


def _areas(parks: gpd.GeoDataFrame) -> np.ndarray:
    official = pd.to_numeric(parks["official_area_km2"], errors="coerce").to_numpy(dtype=float)
    drawn = pd.to_numeric(parks.get("area_km2"), errors="coerce").to_numpy(dtype=float) \
        if "area_km2" in parks else np.full(len(parks), np.nan)
    return np.where(np.isfinite(official), official, drawn)


def parks_layer(parks: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84",
                selected: str | None = None, area_notes: Mapping[str, str] | None = None) -> folium.GeoJson:
    """Park polygons: solid for official/OSM boundaries, dashed for approximate outlines,
    dotted for nominal extents. ``selected`` (a park_id) is drawn heavier. Parks without a
    polygon (tier 'unlocated') are left out: they are listed, never drawn at a guessed point.
    Where parks overlap or nest, a click is resolved to the smallest park containing the point
    (the page does it); the selected park's box lists the others to pick from.
    ``area_notes`` (by park_id) replaces the bare official area in the tooltip, e.g. with its
    qualifier, source and date ("more than 7 km² (Nature, 2024)")."""
    parks = parks[is_drawn(parks.geometry)]
    if parks.empty:  # e.g. a specialisation no park has: an empty layer, still in the layer control
        return folium.GeoJson({"type": "FeatureCollection", "features": []}, name=t("layer_parks", lang))
    names = parks["name_zh"] if lang == "zh" else parks["name_en"]
    tiers = [term(GEOMETRY_TIERS[tier], lang) for tier in parks["geometry_tier"]]
    area_notes = area_notes or {}
    areas = [area_notes.get(p) or format_quantity(a, "km2", lang)
             for p, a in zip(parks["park_id"], parks["official_area_km2"], strict=True)]
    tooltip = [f"{n}\n{t('geometry_tier', lang)}: {tier}\n{t('official_area', lang)}: {a}"
               for n, tier, a in zip(names, tiers, areas, strict=False)]
    shown = display_frame(parks, datum=datum, properties={"tooltip": tooltip},
                          raw={"park_id": parks["park_id"], "tier": parks["geometry_tier"]})
    shown["tooltip"] = shown["tooltip"].str.replace("\n", "<br>", regex=False)

    def style(feature: dict) -> dict:
        tier = TIER_STYLES.get(feature["properties"]["tier"], TIER_STYLES["nominal"])
        heavy = feature["properties"]["park_id"] == selected
        return {"color": tier["color"], "weight": float(tier["weight"]) * (2 if heavy else 1),
                "dashArray": tier["dashArray"], "fillColor": tier["color"],
                "fillOpacity": float(tier["fillOpacity"]) * (1.6 if heavy else 1)}

    return folium.GeoJson(
        shown.to_json(), name=t("layer_parks", lang), style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True, class_name=TOOLTIP_CLASS,
                                      style=TOOLTIP_STYLE),
        highlight_function=lambda feature: {"weight": 4},
    )


def symbol_diameter(area_km2: float) -> int:
    """Pixel size of a park's symbol: grows with the square root of its area (as its outline
    would), from 20 px for the smallest parks to 52 px for the BDA's 59.6 km2."""
    if not np.isfinite(area_km2) or area_km2 <= 0:
        return 20
    return int(np.clip(round(16 + 4.8 * np.sqrt(area_km2)), 20, 52))


def symbol_shape(tier: str) -> dict[str, str]:
    """The symbol's outline by geometry tier, in the outline's own line style: a dotted circle for
    a nominal extent (a size, not a boundary), a dashed rounded square for an approximate outline,
    a solid square for a surveyed or mapped boundary."""
    style = TIER_STYLES.get(tier, TIER_STYLES["nominal"])
    border = {"nominal": "dotted", "approximate": "dashed"}.get(tier, "solid")
    radius = {"nominal": "50%", "approximate": "25%"}.get(tier, "3px")
    return {"color": str(style["color"]), "border": border, "radius": radius}


def nested_groups(lon: np.ndarray, lat: np.ndarray, *, km: float = NESTED_KM) -> np.ndarray:
    """A group number per anchor: anchors closer than ``km`` share one (single linkage)."""
    n = len(lon)
    group = np.arange(n)
    # Equirectangular distances are exact enough at a kilometre in Beijing.
    x = np.radians(lon) * np.cos(np.radians(np.mean(lat) if n else 0.0)) * 6371.0
    y = np.radians(lat) * 6371.0
    close = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :]) < km
    for i in range(n):
        for j in range(i + 1, n):
            if close[i, j]:
                group[group == group[j]] = group[i]
    return group


def _anchors(parks: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The parks' sourced anchors, else a point on their outline (WGS84)."""
    lon = pd.to_numeric(parks.get("anchor_lon"), errors="coerce").to_numpy(dtype=float) \
        if "anchor_lon" in parks else np.full(len(parks), np.nan)
    lat = pd.to_numeric(parks.get("anchor_lat"), errors="coerce").to_numpy(dtype=float) \
        if "anchor_lat" in parks else np.full(len(parks), np.nan)
    inside = shapely.point_on_surface(np.asarray(parks.geometry.values, dtype=object))
    ok = np.isfinite(lon) & np.isfinite(lat)
    return np.where(ok, lon, shapely.get_x(inside)), np.where(ok, lat, shapely.get_y(inside))


class _SymbolSupport(MacroElement):
    """The symbols' pane (above the clusters), the switch from symbols to outlines at
    ``SYMBOL_MAX_ZOOM``, and the focus style: no black rectangle around a clicked park (keyboard
    focus keeps a visible ring)."""

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
          .leaflet-container .leaflet-interactive:focus:not(:focus-visible),
          .leaflet-container .leaflet-marker-icon:focus:not(:focus-visible) { outline: none; }
          .leaflet-container .leaflet-marker-icon:focus-visible { outline: 2px solid #1a5276; }
          .park-symbol-icon { background: none; border: none; }
          .park-symbol { position: relative; cursor: pointer; }
          .park-mark { box-sizing: border-box; display: flex; align-items: center; justify-content: center;
                       font: 700 12px/1 sans-serif; color: #2c1a38; }
          .park-selected .park-mark { box-shadow: 0 0 0 3px #f1c40f; }
          .park-label { position: absolute; white-space: nowrap; font: 600 11.5px/1.2 sans-serif; color: #2c1a38;
                        text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 2px #fff; }
          .park-popup .leaflet-popup-content { font: 12px/1.35 sans-serif; margin: 8px 12px; }
          .parks-as-outlines .leaflet-{{ this.pane }}-pane { display: none; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
          var map = {{ this.map_name }};
          if (!map.getPane({{ this.pane|tojson }})) {
            map.createPane({{ this.pane|tojson }}).style.zIndex = {{ this.z }};
          }
          var container = map.getContainer();
          function zoomSwitch() {
            container.classList.toggle("parks-as-outlines", map.getZoom() >= {{ this.max_zoom }});
          }
          map.on("zoomend", zoomSwitch);
          zoomSwitch();
        })();
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "ParkSymbolSupport"
        self.pane = SYMBOL_PANE
        self.z = SYMBOL_PANE_Z
        self.max_zoom = SYMBOL_MAX_ZOOM
        self.map_name = ""

    def render(self, **kwargs) -> None:
        parent = self._parent
        while parent is not None and not isinstance(parent, folium.Map):
            parent = getattr(parent, "_parent", None)
        if parent is None:
            raise ValueError("park symbols must be added to a folium.Map")
        self.map_name = parent.get_name()
        super().render(**kwargs)


# Opens the selected park's popup (its organisations) when the map is drawn; popups are
# Leaflet's own (folium.Popup would need jQuery).
_ON_EACH_SYMBOL = JsCode("""
function (feature, layer) {
  layer.bindPopup(feature.properties.popup, {autoPan: false, maxWidth: 280, maxHeight: 170,
                                             className: "park-popup"});
  if (feature.properties.selected) {
    layer.on("add", function () { setTimeout(function () { layer.openPopup(); }, 0); });
  }
}
""")


def park_symbols(parks: gpd.GeoDataFrame, organisations: gpd.GeoDataFrame, *, lang: str = "en",
                 datum: str = "wgs84", selected: str | None = None,
                 labels: Mapping[str, str] | None = None,
                 area_notes: Mapping[str, str] | None = None) -> folium.FeatureGroup:
    """A labelled symbol per drawn park for the zoomed-out map, above clusters and outlines.

    Size by official area (``symbol_diameter``), shape by geometry tier (``symbol_shape``), the
    number of ``organisations`` in the park inside, its short name (``labels``, by park_id) beside
    it. Parks sharing one place (anchors within ``NESTED_KM``, e.g. Life Valley around the Life
    Science Park) are set side by side and name each other. The tooltip gives tier, area and how
    the park's organisations are located (``area_notes`` as in ``parks_layer``); the popup (opened
    for the ``selected`` park) lists them.
    From ``SYMBOL_MAX_ZOOM`` on the symbols give way to the outlines.
    """
    group = folium.FeatureGroup(name=t("layer_park_symbols", lang), control=False)
    _SymbolSupport().add_to(group)
    parks = parks[is_drawn(parks.geometry)]
    if parks.empty:
        return group
    labels = labels or {}
    area_notes = area_notes or {}
    lon, lat = _anchors(parks)
    groups = nested_groups(lon, lat)
    x, y = convert(lon, lat, source="wgs84", target=datum)
    areas = _areas(parks)
    names = (parks["name_zh"] if lang == "zh" else parks["name_en"]).tolist()
    ids = parks["park_id"].tolist()
    diameters = [symbol_diameter(a) for a in areas]
    park_of = organisations["park_id"].fillna("").to_numpy(dtype=object)
    org_names = (organisations["name_zh"] if lang == "zh" else organisations["name_en"]).to_numpy(dtype=object)
    tiers_of_orgs = organisations["location_tier"].to_numpy(dtype=object)

    # Side by side within a group, largest first, 4 px apart, centred on the shared anchor.
    offsets = np.zeros(len(parks))
    for g in np.unique(groups):
        members = [i for i in np.argsort(-np.nan_to_num(areas, nan=0.0), kind="stable") if groups[i] == g]
        total = sum(diameters[i] for i in members) + 4 * (len(members) - 1)
        left = -total / 2
        for i in members:
            offsets[i] = left + diameters[i] / 2
            left += diameters[i] + 4

    features = []
    for i, pid in enumerate(ids):
        mine = park_of == pid
        at_park = int((mine & (tiers_of_orgs == "park")).sum())
        at_site = int((mine & (tiers_of_orgs == "site")).sum())
        total = at_park + at_site
        tier_key = str(parks["geometry_tier"].iloc[i])
        tier = term(GEOMETRY_TIERS[tier_key], lang)
        shape = symbol_shape(tier_key)
        d = diameters[i]
        label = labels.get(pid) or names[i]
        mates = [names[j] for j in range(len(ids)) if j != i and groups[j] == groups[i]]
        count_text = t("park_orgs_count", lang, n=total)
        located = t("park_orgs_located", lang, park=at_park, site=at_site) if total else ""
        tooltip_lines = [f"<b>{escape(names[i])}</b>",
                         f"{escape(t('geometry_tier', lang))}: {escape(tier)}",
                         f"{escape(t('official_area', lang))}: "
                         f"{escape(area_notes.get(pid) or format_quantity(areas[i], 'km2', lang))}",
                         escape(count_text) + (f" ({escape(located)})" if located else "")]
        if mates:
            tooltip_lines.append(escape(t("same_place_as", lang, names=", ".join(mates))))
        tooltip_lines.append(f"<i>{escape(t('click_to_select', lang))}</i>")
        listed = [org_names[k] for k in np.flatnonzero(mine & (tiers_of_orgs == "park"))]
        sited = [org_names[k] for k in np.flatnonzero(mine & (tiers_of_orgs == "site"))]
        popup = [f"<b>{escape(names[i])}</b>",
                 f"<div>{escape(t('park_orgs_location_park', lang, n=at_park))}</div>"]
        if listed:
            popup.append("<ul style='margin:2px 0 4px 16px;padding:0'>"
                         + "".join(f"<li>{escape(n)}</li>" for n in sorted(listed)) + "</ul>")
        if sited:
            popup.append(f"<div>{escape(t('park_orgs_location_site', lang, n=at_site))}</div>"
                         "<ul style='margin:2px 0 4px 16px;padding:0'>"
                         + "".join(f"<li>{escape(n)}</li>" for n in sorted(sited)) + "</ul>")
        if mates:
            popup.append(f"<div style='color:#555'>{escape(t('same_place_as', lang, names=', '.join(mates)))}</div>")
        fill = shape["color"]
        html = (f"<div class='park-symbol{' park-selected' if pid == selected else ''}' data-park='{escape(pid)}' "
                f"data-tier='{escape(tier_key)}'>"
                f"<div class='park-mark' style='width:{d}px;height:{d}px;border:2.5px {shape['border']} {fill};"
                f"border-radius:{shape['radius']};background:{fill}38'>{total or ''}</div>"
                f"<div class='map-label park-label' data-priority='2' style='left:{d + 3}px;top:{d / 2 - 7:.0f}px'>"
                f"{escape(label)}</div></div>")
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(float(x[i]), 5), round(float(y[i]), 5)]},
            "properties": {"park_id": pid, "tooltip": "<br>".join(tooltip_lines), "popup": "".join(popup),
                           "selected": pid == selected, "html": html,
                           "iconSize": [d, d], "iconAnchor": [d / 2 - float(offsets[i]), d / 2]},
        })

    folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name=t("layer_park_symbols", lang),
        marker=folium.Marker(icon=folium.DivIcon(class_name="park-symbol-icon"), pane=SYMBOL_PANE),
        style_function=lambda feature: {"html": feature["properties"]["html"],
                                        "iconSize": feature["properties"]["iconSize"],
                                        "iconAnchor": feature["properties"]["iconAnchor"]},
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=False, class_name=TOOLTIP_CLASS,
                                      style=TOOLTIP_STYLE),
        on_each_feature=_ON_EACH_SYMBOL, control=False,
    ).add_to(group)
    return group


def symbol_payload(layer: folium.FeatureGroup) -> list[dict]:
    """The features of a ``park_symbols`` layer (for tests and checks)."""
    for child in layer._children.values():
        if isinstance(child, folium.GeoJson):
            data = child.data
            return list((json.loads(data) if isinstance(data, str) else data)["features"])
    return []
