"""Park layer: outlines styled by geometry tier, so a guess never looks like a survey."""

from __future__ import annotations

import folium
import geopandas as gpd

from geo.shapes import is_drawn
from geo.vocab import GEOMETRY_TIERS
from layers.features import display_frame
from layers.i18n import format_quantity, t, term
from layers.styles import TIER_STYLES


def parks_layer(parks: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84",
                selected: str | None = None) -> folium.GeoJson:
    """Park polygons: solid for official/OSM boundaries, dashed for approximate outlines,
    dotted for nominal extents. ``selected`` (a park_id) is drawn heavier. Parks without a
    polygon (tier 'unlocated') are left out: they are listed, never drawn at a guessed point."""
    parks = parks[is_drawn(parks.geometry)]
    if parks.empty:  # e.g. a specialisation no park has: an empty layer, still in the layer control
        return folium.GeoJson({"type": "FeatureCollection", "features": []}, name=t("layer_parks", lang))
    names = parks["name_zh"] if lang == "zh" else parks["name_en"]
    tiers = [term(GEOMETRY_TIERS[tier], lang) for tier in parks["geometry_tier"]]
    areas = [format_quantity(a, "km2", lang) for a in parks["official_area_km2"]]
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
        tooltip=folium.GeoJsonTooltip(fields=["tooltip"], labels=False, sticky=True),
        highlight_function=lambda feature: {"weight": 4},
    )
