"""Colours and line styles shared by the layers and the legend."""

from __future__ import annotations

ROLE_COLOURS: dict[str, str] = {"core_hub": "#c0392b", "growth_point": "#e67e22", "other": "#95a5a6"}
ROLE_FILL_OPACITY: dict[str, float] = {"core_hub": 0.22, "growth_point": 0.18, "other": 0.04}

# A surveyed outline is a solid line; a guess must look like one.
TIER_STYLES: dict[str, dict[str, object]] = {
    "official": {"color": "#1a5276", "weight": 3, "dashArray": None, "fillOpacity": 0.30},
    "osm": {"color": "#1f618d", "weight": 2.5, "dashArray": None, "fillOpacity": 0.28},
    "approximate": {"color": "#6c3483", "weight": 2.5, "dashArray": "8 6", "fillOpacity": 0.18},
    "nominal": {"color": "#7d3c98", "weight": 2, "dashArray": "2 6", "fillOpacity": 0.10},
}

KIND_COLOURS: dict[str, str] = {
    "enterprise": "#2471a3", "national_lab": "#b03a2e", "research_institute": "#884ea0",
    "university": "#1e8449", "hospital": "#d35400", "regulator_centre": "#7f8c8d",
    "incubator": "#b7950b", "platform": "#17a589",
}

PARCEL_STATUS_COLOURS: dict[str, str] = {"planned": "#5dade2", "under_construction": "#f5b041",
                                         "completed": "#58d68d"}
