"""Planner parcels layer: coloured by status, labelled by number and name, editable on the map,
with a legend of the status colours. Every string shown is escaped."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement, Template

from geo.parcels import STATUSES
from layers.features import display_frame, feature_collection_text, geometry_texts
from layers.html import escape
from layers.i18n import format_quantities, parcel_label, t, term_of
from layers.styles import PARCEL_STATUS_COLOURS

_LABEL_CSS = (".parcel-label{background:rgba(255,255,255,.85);border:0;box-shadow:none;padding:0 3px;"
              "font:600 11px/1.2 sans-serif;color:#1b2631}.parcel-label:before{display:none}")


def _popup(measured: gpd.GeoDataFrame, lang: str, names: dict[str, dict[str, str]]) -> list[str]:
    """Each parcel's popup: a two-column table, every cell escaped (``layers.html.table``'s markup),
    built column by column: thousands of parcels are redrawn after every edit."""
    def head(key: str) -> str:
        return f"<tr><th style='text-align:left;padding-right:6px'>{escape(t(key, lang))}</th><td>"

    def terms(vocabulary: str, codes: pd.Series) -> list[str]:
        codes = codes.tolist()
        shown = {code: escape(term_of(vocabulary, code, lang)) for code in set(codes)}
        return [shown[code] for code in codes]

    def quantities(values: pd.Series, unit: str) -> list[str]:
        return [escape(text) for text in format_quantities(values.tolist(), unit, lang)]

    def named(kind: str, ids: pd.Series) -> list[str]:
        lookup = names.get(kind, {})
        shown = {i: escape(lookup[i]) for i in set(ids.tolist()) if isinstance(i, str) and i in lookup}
        return [shown.get(i, "-") if isinstance(i, str) else "-" for i in ids.tolist()]

    labels = [escape(parcel_label(n, m, lang))
              for n, m in zip(measured["number"].tolist(), measured["name"].tolist(), strict=True)]
    area = [f"{mu} · {ha} · {m2}" for mu, ha, m2 in zip(quantities(measured["area_mu"], "mu"),
                                                      quantities(measured["area_ha"], "ha"),
                                                      quantities(measured["area_m2"], "m2"), strict=True)]
    counted_word, overlaps_word = escape(t("parcel_counted", lang)), escape(t("parcel_overlaps", lang))
    overlap_head = head("parcel_overlap")
    overlap = [f"{overlap_head}{counted} {counted_word}; {overlaps_word} {escape(partners)}</td></tr>" if partners else ""
               for counted, partners in zip(quantities(measured["counted_mu"], "mu"), measured["overlaps_with"].tolist(),
                                            strict=True)]
    parks = [f"{park} ({share:.0%})" if park != "-" else "-"
             for park, share in zip(named("park", measured["park_id"]), measured["park_share"].tolist(), strict=True)]
    columns = zip(labels, terms("status", measured["status"]), terms("use", measured["use"]), area, overlap,
                  named("district", measured["district_id"]), named("hub", measured["hub_id"]), parks, strict=True)
    h_parcel, h_status, h_use, h_area = head("parcel"), head("parcel_status"), head("parcel_use"), head("area")
    h_district, h_hub, h_park = head("district"), head("hub"), head("park")
    end = "</td></tr>"
    return [f"<table style='font-size:12px'>{h_parcel}{label}{end}{h_status}{status}{end}{h_use}{use}{end}"
            f"{h_area}{area_text}{end}{overlap_row}{h_district}{district}{end}{h_hub}{hub}{end}"
            f"{h_park}{park}{end}</table>"
            for label, status, use, area_text, overlap_row, district, hub, park in columns]


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
    labels_text = [parcel_label(n, name, lang) for n, name in zip(shown["number"].tolist(), shown["name"].tolist(),
                                                                   strict=True)]
    properties = {"label": labels_text}
    raw = {"status": shown["status"].tolist(), "parcel_id": shown["parcel_id"].tolist(), "popup": _popup(shown, lang, names or {})}
    outlines = _OUTLINES.get((measured.attrs.get("geometry_key"), datum))
    if outlines is not None and len(outlines) == len(shown):
        # same outlines as last drawn (an attribute edit): only the properties are made again
        frame = gpd.GeoDataFrame({**{k: [escape(v) for v in values] for k, values in properties.items()}, **raw},
                                 geometry=gpd.GeoSeries([None] * len(shown), crs=4326))
    else:
        frame = display_frame(shown, datum=datum, properties=properties, raw=raw)
        outlines = geometry_texts(frame)
        _OUTLINES.put((measured.attrs.get("geometry_key"), datum), outlines)
    styles = {status: {"color": colour or PARCEL_STATUS_COLOURS[status], "weight": 2, "fillOpacity": 0.35}
              for status in STATUSES}
    styles[""] = {"color": colour or "#5dade2", "weight": 2, "fillOpacity": 0.35}
    return ParcelsLayer(feature_collection_text(frame, columns=["label", "status", "parcel_id", "popup"],
                                                geometries=outlines),
                        styles=styles, labels=labels, name=layer_name or t("layer_parcels", lang))


class _OutlineMemo:
    """The drawn outlines (GeoJSON text per parcel) of the last scenarios drawn, by their
    ``geometry_key`` and datum, bounded in characters: an edit of a name or a status redraws
    thousands of parcels whose outlines did not change."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._items: OrderedDict[tuple[str, str], list[str | None]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _size(outlines: list[str | None]) -> int:
        return sum(len(text) for text in outlines if text is not None)

    def get(self, key: tuple[str | None, str]) -> list[str | None] | None:
        if key[0] is None:
            return None
        with self._lock:
            found = self._items.get(key)  # type: ignore[arg-type]
            if found is not None:
                self._items.move_to_end(key)  # type: ignore[arg-type]
            return found

    def put(self, key: tuple[str | None, str], outlines: list[str | None]) -> None:
        if key[0] is None or self._size(outlines) > self.max_chars:
            return
        with self._lock:
            self._items[key] = outlines  # type: ignore[index]
            while sum(self._size(v) for v in self._items.values()) > self.max_chars:
                self._items.popitem(last=False)


_OUTLINES = _OutlineMemo(max_chars=48_000_000)


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
