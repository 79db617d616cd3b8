"""Hub labels: the plan's four core hubs and its growth points, named on the map."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo.datums import convert
from geo.vocab import HUB_ROLES
from layers.html import escape
from layers.i18n import t, term
from layers.styles import ROLE_COLOURS


def hub_labels(hubs: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84") -> folium.FeatureGroup:
    """A label at a point inside each hub, coloured by role."""
    group = folium.FeatureGroup(name=t("layer_hubs", lang))
    points = shapely.point_on_surface(np.asarray(hubs.geometry.values, dtype=object))
    lon, lat = convert(shapely.get_x(points), shapely.get_y(points), source="wgs84", target=datum)
    for (_, hub), x, y in zip(hubs.iterrows(), lon, lat, strict=False):
        name = hub["name_zh"] if lang == "zh" else hub["name_en"]
        role = term(HUB_ROLES[hub["role"]], lang)
        colour = ROLE_COLOURS.get(hub["role"], "#555")
        # 'map-label': moved off other labels, park symbols and clusters by layers.labels.LabelPlacer.
        html = (f"<div class='hub-label map-label' data-priority='1' style='position:absolute;"
                f"transform:translate(-50%,-50%);white-space:nowrap;text-align:center;"
                f"font:600 12px/1.25 sans-serif;color:{colour};text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff'>"
                f"{escape(name)}<br><span style='font-weight:400'>{escape(role)}</span></div>")
        folium.Marker([float(y), float(x)], icon=folium.DivIcon(html=html, icon_size=(0, 0)),
                      tooltip=folium.Tooltip(escape(f"{name} · {role}"))).add_to(group)
    return group
