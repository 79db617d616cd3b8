"""Organisation layer: clustered markers coloured by kind, with an escaped popup."""

from __future__ import annotations

import json

import folium.plugins
import geopandas as gpd
import numpy as np
import shapely
from folium.template import Template

from geo.datums import convert
from geo.osm.read import OSM_ATTRIBUTION
from geo.vocab import LOCATION_TIERS, ORGANISATION_KINDS, POINT_LOCATION_TIERS, SPECIALISATIONS, split_codes
from layers.basemap import BASEMAPS
from layers.html import ROW_END, TABLE_END, TABLE_START, escape, row_start, script_safe
from layers.i18n import t, term
from layers.styles import KIND_COLOURS


def organisations_layer(orgs: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84",
                        park_names: dict[str, str] | None = None) -> OrganisationCluster:
    """Organisations with a point of their own (location tier 'site', or 'osm': placed on a
    confirmed OpenStreetMap feature, with its id and the ODbL attribution in the tooltip and on
    the map) as circle markers in a cluster layer. Organisations known only by their park (tier 'park') are not points: drawn at
    the park's anchor they looked like sites. They are counted on the park's symbol and listed in
    its popup (``layers.parks.park_symbols``) and on the Parks page.

    The markers go into the map as one array of data made whole-array, and the browser makes
    them: one folium element per organisation cost 2.3x plain folium markers at 8,000
    (scripts/bench_layers.py)."""
    orgs = orgs[orgs["location_tier"].isin(POINT_LOCATION_TIERS).to_numpy()]
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
    osm_ids = orgs["osm_ids"].tolist() if "osm_ids" in orgs else [None] * len(orgs)
    rows = []
    for name, kind, specs, park, address, tier, osm_id, x, y in zip(
            names, orgs["kind"].tolist(), orgs["specialisations"].tolist(), parks, addresses,
            orgs["location_tier"].tolist(), osm_ids, lon.tolist(), lat.tolist(), strict=True):
        specs_text = escape(", ".join(spec_names[c] for c in split_codes(specs) if c in spec_names))
        tier_text = tier_names.get(tier, escape(tier))
        if tier == "osm" and isinstance(osm_id, str):  # the feature and its licence travel with the point
            tier_text += f" · {escape(osm_id)} · {escape(OSM_ATTRIBUTION)}"
        cells = (kinds.get(kind, escape(kind)), specs_text, escape(park_names.get(park or "", "")),
                 escape(address or ""), tier_text)
        # A rich tooltip instead of a popup: folium builds popups with jQuery, which the map
        # would otherwise have to download before it can draw.
        details = (f"<b>{escape(name)}</b>{TABLE_START}"
                   + "".join(f"{head}{cell}{ROW_END}" for head, cell in zip(heads, cells, strict=True)) + TABLE_END)
        rows.append([round(y, 6), round(x, 6), KIND_COLOURS.get(kind, "#555"), details])
    on_osm = bool((orgs["location_tier"] == "osm").any())
    # The OpenStreetMap basemap's own words: Leaflet shows one line for both (an attribution that
    # wrapped over the scale bar was seen), and the line still shows over any other basemap.
    attribution = BASEMAPS["osm"].attribution if on_osm else None
    return OrganisationCluster(rows, name=t("layer_orgs", lang), attribution=attribution)


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

    def __init__(self, rows: list[list], *, name: str, attribution: str | None = None) -> None:
        options: dict[str, object] = {"showCoverageOnHover": False, "maxClusterRadius": 40}
        if attribution:  # Leaflet shows a layer's attribution in the map's corner while the layer is on
            options["attribution"] = attribution  # a constant of layers.basemap, HTML already
        super().__init__(name=name, options=options)
        self._name = "OrganisationCluster"
        self.rows = rows
        self.rows_json = script_safe(json.dumps(rows, ensure_ascii=False))
