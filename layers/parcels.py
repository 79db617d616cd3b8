"""Planner parcels layer: coloured by status, with an escaped tooltip of the measured areas."""

from __future__ import annotations

import folium
import geopandas as gpd

from layers.features import display_frame
from layers.i18n import format_quantity, t
from layers.styles import PARCEL_STATUS_COLOURS


def parcels_layer(measured: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84") -> folium.GeoJson:
    """Measured parcels (see ``geo.planner.measure_parcels``) drawn by status."""
    tooltip = [f"{name} · {format_quantity(mu, 'mu', lang)} · {format_quantity(ha, 'ha', lang)}"
               for name, mu, ha in zip(measured["name"], measured["area_mu"], measured["area_ha"], strict=False)]
    shown = display_frame(measured, datum=datum, properties={"tooltip": tooltip},
                          raw={"status": measured["status"], "parcel_id": measured["parcel_id"]})
    return folium.GeoJson(
        shown.to_json(), name=t("layer_parcels", lang),
        style_function=lambda f: {"color": PARCEL_STATUS_COLOURS.get(f["properties"]["status"], "#5dade2"),
                                  "weight": 2, "fillOpacity": 0.35},
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False),
    )
