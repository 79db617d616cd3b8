"""Organisation layer: clustered markers coloured by kind, with an escaped popup."""

from __future__ import annotations

import json

import folium.plugins
import geopandas as gpd
import numpy as np
import shapely
from folium.template import Template

from geo.datums import convert
from geo.vocab import LOCATION_TIERS, ORGANISATION_KINDS, SPECIALISATIONS, split_codes
from layers.html import ROW_END, TABLE_END, TABLE_START, escape, row_start, script_safe
from layers.i18n import t, term
from layers.styles import KIND_COLOURS


def organisations_layer(orgs: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84",
                        park_names: dict[str, str] | None = None) -> OrganisationCluster:
    """Organisations with a site of their own (location tier 'site') as circle markers in a
    cluster layer. Organisations known only by their park (tier 'park') are not points: drawn at
    the park's anchor they looked like sites. They are counted on the park's symbol and listed in
    its popup (``layers.parks.park_symbols``) and on the Parks page.

    The markers go into the map as one array of data made whole-array, and the browser makes
    them: one folium element per organisation cost 2.3x plain folium markers at 8,000
    (scripts/bench_layers.py)."""
    orgs = orgs[(orgs["location_tier"] == "site").to_numpy()]
    geoms = np.asarray(orgs.geometry.values, dtype=object)
    lon, lat = convert(shapely.get_x(geoms), shapely.get_y(geoms), source="wgs84", target=datum)
    park_names = park_names or {}
    kinds = {code: escape(term(kind, lang)) for code, kind in ORGANISATION_KINDS.items()}
    tier_names = {code: escape(term(tier, lang)) for code, tier in LOCATION_TIERS.items()}
    spec_names = {code: term(spec, lang) for code, spec in SPECIALISATIONS.items()}
    heads = [row_start(t(key, lang)) for key in ("kind", "specialisations", "park", "address", "location_tier")]
    names = orgs["name_zh" if lang == "zh" else "name_en"].tolist()
    parks = orgs["park_id"].tolist() if "park_id" in orgs else [None] * len(orgs)
    addresses = orgs["address_zh"].tolist() if "address_zh" in orgs else [None] * len(orgs)
    rows = []
    for name, kind, specs, park, address, tier, x, y in zip(
            names, orgs["kind"].tolist(), orgs["specialisations"].tolist(), parks, addresses,
            orgs["location_tier"].tolist(), lon.tolist(), lat.tolist(), strict=True):
        specs_text = escape(", ".join(spec_names[c] for c in split_codes(specs) if c in spec_names))
        cells = (kinds.get(kind, escape(kind)), specs_text, escape(park_names.get(park or "", "")),
                 escape(address or ""), tier_names.get(tier, escape(tier)))
        # A rich tooltip instead of a popup: folium builds popups with jQuery, which the map
        # would otherwise have to download before it can draw.
        details = (f"<b>{escape(name)}</b>{TABLE_START}"
                   + "".join(f"{head}{cell}{ROW_END}" for head, cell in zip(heads, cells, strict=True)) + TABLE_END)
        rows.append([round(y, 6), round(x, 6), KIND_COLOURS.get(kind, "#555"), details])
    return OrganisationCluster(rows, name=t("layer_orgs", lang))


class OrganisationCluster(folium.plugins.MarkerCluster):
    """A Leaflet.markercluster layer whose circle markers the browser makes from one array of
    ``[lat, lon, colour, tooltip HTML]`` rows (the HTML escaped by ``organisations_layer``)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.markerClusterGroup({{ this.options|tojavascript }});
        {{ this.rows_json }}.forEach(function (row) {
            L.circleMarker([row[0], row[1]], {radius: 7, color: row[2], weight: 2, fill: true,
                                             fillColor: row[2], fillOpacity: 0.85})
                .bindTooltip(row[3], {sticky: true})
                .addTo({{ this.get_name() }});
        });
        {{ this._parent.get_name() }}.addLayer({{ this.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, rows: list[list], *, name: str) -> None:
        super().__init__(name=name, options={"showCoverageOnHover": False, "maxClusterRadius": 40})
        self._name = "OrganisationCluster"
        self.rows = rows
        self.rows_json = script_safe(json.dumps(rows, ensure_ascii=False))
