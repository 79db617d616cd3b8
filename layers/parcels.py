"""Planner parcels layer: coloured by status, labelled by number and name, editable on the map,
with a legend of the status colours. Every string shown is escaped."""

from __future__ import annotations

import uuid

import folium
import folium.plugins
import geopandas as gpd
from branca.element import MacroElement, Template

from geo.parcels import STATUSES
from layers.features import display_frame, feature_collection_text
from layers.html import escape, table
from layers.i18n import format_quantity, parcel_label, t, term_of
from layers.styles import PARCEL_STATUS_COLOURS

_LABEL_CSS = (".parcel-label{background:rgba(255,255,255,.85);border:0;box-shadow:none;padding:0 3px;"
              "font:600 11px/1.2 sans-serif;color:#1b2631}.parcel-label:before{display:none}")


def _popup(measured: gpd.GeoDataFrame, lang: str, names: dict[str, dict[str, str]]) -> list[str]:
    rows = []
    for record in measured[["number", "name", "status", "use", "area_mu", "area_ha", "area_m2", "counted_mu",
                            "overlaps_with", "district_id", "hub_id", "park_id", "park_share"]].itertuples():
        overlap = (f"{format_quantity(record.counted_mu, 'mu', lang)} {t('parcel_counted', lang)};"
                   f" {t('parcel_overlaps', lang)} {record.overlaps_with}") if record.overlaps_with else ""
        park = names.get("park", {}).get(record.park_id) if isinstance(record.park_id, str) else None
        rows.append(table([
            (t("parcel", lang), parcel_label(record.number, record.name, lang)),
            (t("parcel_status", lang), term_of("status", record.status, lang)),
            (t("parcel_use", lang), term_of("use", record.use, lang)),
            (t("area", lang), f"{format_quantity(record.area_mu, 'mu', lang)} · "
                              f"{format_quantity(record.area_ha, 'ha', lang)} · "
                              f"{format_quantity(record.area_m2, 'm2', lang)}"),
            *([(t("parcel_overlap", lang), overlap)] if overlap else []),
            (t("district", lang), names.get("district", {}).get(record.district_id, "-")),
            (t("hub", lang), names.get("hub", {}).get(record.hub_id, "-")),
            (t("park", lang), f"{park} ({record.park_share:.0%})" if park else "-"),
        ]))
    return rows


def parcels_layer(measured: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84",
                  names: dict[str, dict[str, str]] | None = None, labels: bool = True,
                  colour: str | None = None, layer_name: str | None = None) -> ParcelsLayer:
    """Measured parcels (``geo.planner.measure_parcels``) drawn by status, each labelled with its
    number and name, with a popup of its measurements; problem parcels are left off.

    ``names`` maps "district", "hub" and "park" ids to names in ``lang``. Each feature carries its
    ``parcel_id``, so the map's edit tools can say which parcel was changed or deleted. ``colour``
    draws every parcel in one colour (a second scenario on the comparison map).
    """
    shown = measured[measured["problem"].isna()] if "problem" in measured else measured
    labels_text = [parcel_label(n, name, lang) for n, name in zip(shown["number"], shown["name"], strict=True)]
    frame = display_frame(shown, datum=datum, properties={"label": labels_text},
                          raw={"status": shown["status"], "parcel_id": shown["parcel_id"],
                               "popup": _popup(shown, lang, names or {})})
    styles = {status: {"color": colour or PARCEL_STATUS_COLOURS[status], "weight": 2, "fillOpacity": 0.35}
              for status in STATUSES}
    styles[""] = {"color": colour or "#5dade2", "weight": 2, "fillOpacity": 0.35}
    return ParcelsLayer(feature_collection_text(frame, columns=["label", "status", "parcel_id", "popup"]),
                        styles=styles, labels=labels, name=layer_name or t("layer_parcels", lang))


class ParcelsLayer(MacroElement):
    """The parcels as one Leaflet GeoJSON layer whose direct children are the parcels' polygons, so
    Leaflet.draw can edit and delete them (``parcel_draw_control``). Its data is GeoJSON text made
    whole-array (``layers.features.feature_collection_text``): folium's GeoJson would parse it,
    map a style per feature and write it out again, seconds for thousands of parcels."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_styles = {{ this.styles|tojson }};
        var {{ this.get_name() }} = L.geoJson({{ this.data_token }}, {
            style: function (feature) {
                return {{ this.get_name() }}_styles[feature.properties.status] || {{ this.get_name() }}_styles[""];
            },
            onEachFeature: function (feature, layer) {
                layer.bindPopup(feature.properties.popup, {maxWidth: 340});
                {%- if this.labels %}
                layer.bindTooltip(feature.properties.label,
                                  {permanent: true, direction: "center", className: "parcel-label"});
                {%- else %}
                layer.bindTooltip(feature.properties.label, {sticky: true});
                {%- endif %}
            }
        }).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, data_text: str, *, styles: dict[str, dict[str, object]], labels: bool, name: str) -> None:
        super().__init__()
        self._name = "ParcelsLayer"
        self.data_text = data_text
        # The data goes into the script after rendering (pages.common.render_map): folium and branca
        # lex and rewrite every rendered script, seconds for the megabytes of thousands of parcels.
        self.data_token = f"__deferred_payload_{uuid.uuid4().hex}__"
        self.deferred_payloads = {self.data_token: data_text}
        self.styles = styles
        self.labels = labels
        self.layer_name = name


def parcel_draw_control(parcels: ParcelsLayer | None, *, lang: str = "en") -> folium.plugins.Draw:
    """Drawing tools for the planner: polygons and rectangles, and (when the scenario's parcels are
    given) moving vertices and deleting parcels. Changes come back to the page as the whole set
    of features (streamlit-folium's ``all_drawings``)."""
    del lang  # Leaflet.draw's own texts are English; the page explains the tools in both languages
    return folium.plugins.Draw(
        export=False, position="topleft", feature_group=parcels, show_geometry_on_click=False,
        draw_options={"polyline": False, "circle": False, "marker": False, "circlemarker": False,
                      "polygon": {"allowIntersection": False, "showArea": False}, "rectangle": True},
        # Leaflet.draw wants option objects ({} = defaults) or false: `true` leaves its edit mode
        # without the selected-path style, and the first vertex handle throws.
        edit_options=({"edit": {}, "remove": {}, "poly": {"allowIntersection": False}} if parcels is not None
                      else {"edit": False, "remove": False}),
    )


class ParcelLegend(MacroElement):
    """The parcel status colours, collapsible, in the map's top-right corner."""

    _template = Template("""
        {% macro header(this, kwargs) %}<style>{{ this.css }}</style>{% endmacro %}
        {% macro html(this, kwargs) %}
        <details class="parcel-legend" open style="position:absolute;top:10px;right:10px;z-index:900;
            background:rgba(255,255,255,.94);padding:4px 8px;border-radius:6px;font:12px/1.35 sans-serif;
            box-shadow:0 1px 4px rgba(0,0,0,.3)">
          <summary style="font-weight:600;cursor:pointer">{{ this.title }}</summary>{{ this.body }}
        </details>
        {% endmacro %}
    """)

    def __init__(self, *, lang: str = "en") -> None:
        super().__init__()
        self._name = "ParcelLegend"
        self.css = _LABEL_CSS
        self.title = escape(t("parcel_status", lang))
        self.body = "".join(
            f"<div class='parcel-legend-entry' data-status='{status}'><span style='display:inline-block;width:14px;"
            f"height:10px;margin-right:5px;background:{PARCEL_STATUS_COLOURS[status]};opacity:.8'></span>"
            f"{escape(term_of('status', status, lang))}</div>" for status in STATUSES)
