"""Organisation layer: clustered markers coloured by kind, with an escaped popup."""

from __future__ import annotations

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import shapely

from geo.datums import convert
from geo.vocab import LOCATION_TIERS, ORGANISATION_KINDS, SPECIALISATIONS, split_codes
from layers.html import escape, table
from layers.i18n import t, term
from layers.styles import KIND_COLOURS


def organisations_layer(orgs: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84",
                        park_names: dict[str, str] | None = None) -> folium.plugins.MarkerCluster:
    """Organisations with a site of their own (location tier 'site') as circle markers in a
    cluster layer. Organisations known only by their park (tier 'park') are not points: drawn at
    the park's anchor they looked like sites. They are counted on the park's symbol and listed in
    its popup (``layers.parks.park_symbols``) and on the Parks page."""
    cluster = folium.plugins.MarkerCluster(name=t("layer_orgs", lang),
                                           options={"showCoverageOnHover": False, "maxClusterRadius": 40})
    orgs = orgs[(orgs["location_tier"] == "site").to_numpy()]
    geoms = np.asarray(orgs.geometry.values, dtype=object)
    lon, lat = convert(shapely.get_x(geoms), shapely.get_y(geoms), source="wgs84", target=datum)
    park_names = park_names or {}
    for (_, org), x, y in zip(orgs.iterrows(), lon, lat, strict=False):
        name = org["name_zh"] if lang == "zh" else org["name_en"]
        kind = term(ORGANISATION_KINDS[org["kind"]], lang)
        specs = ", ".join(term(SPECIALISATIONS[c], lang) for c in split_codes(org["specialisations"])
                          if c in SPECIALISATIONS)
        tier = org["location_tier"]
        rows = [(t("kind", lang), kind), (t("specialisations", lang), specs),
                (t("park", lang), park_names.get(org.get("park_id") or "", "")),
                (t("address", lang), org.get("address_zh") or ""),
                (t("location_tier", lang), term(LOCATION_TIERS[tier], lang))]
        # A rich tooltip instead of a popup: folium builds popups with jQuery, which the map
        # would otherwise have to download before it can draw.
        details = f"<b>{escape(name)}</b>{table(rows)}"
        colour = KIND_COLOURS.get(org["kind"], "#555")
        folium.CircleMarker(
            [float(y), float(x)], radius=7, color=colour, weight=2,
            fill=True, fill_color=colour, fill_opacity=0.85,
            tooltip=folium.Tooltip(details, sticky=True),
        ).add_to(cluster)
    return cluster
