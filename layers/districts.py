"""District layer: the 16 districts coloured by their role in the plan."""

from __future__ import annotations

import folium
import geopandas as gpd

from geo.vocab import HUB_ROLES
from layers.features import display_frame
from layers.i18n import t, term
from layers.styles import ROLE_COLOURS, ROLE_FILL_OPACITY


def districts_layer(districts: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84"
                    ) -> folium.GeoJson:
    """Districts filled by role (core hub, growth point, other), with a name tooltip."""
    name = districts["name_zh"] if lang == "zh" else districts["name_en"]
    role_label = [term(HUB_ROLES[r], lang) for r in districts["role"]]
    shown = display_frame(
        districts, datum=datum,
        properties={"label": [f"{n} · {r}" for n, r in zip(name, role_label, strict=False)]},
        raw={"role": districts["role"], "district_id": districts["district_id"]})
    return folium.GeoJson(
        shown.to_json(),
        name=t("layer_districts", lang),
        style_function=lambda feature: {
            "color": ROLE_COLOURS.get(feature["properties"]["role"], "#95a5a6"),
            "weight": 1.2,
            "fillColor": ROLE_COLOURS.get(feature["properties"]["role"], "#95a5a6"),
            "fillOpacity": ROLE_FILL_OPACITY.get(feature["properties"]["role"], 0.05),
        },
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False, sticky=False),
        highlight_function=lambda feature: {"weight": 2.5},
        smooth_factor=1.0,
    )
