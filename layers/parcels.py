"""Planner parcels layer: coloured by status, labelled by number and name, editable on the map,
with a legend of the status colours. Every string shown is escaped."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement, Template

from geo.parcels import STATUSES
from layers.features import display_frame
from layers.html import ROW_END, TABLE_END, TABLE_START, escape, row_start, script_safe
from layers.i18n import format_quantities, parcel_label, t, term_of
from layers.styles import PARCEL_STATUS_COLOURS

_LABEL_CSS = (".parcel-label{background:rgba(255,255,255,.85);border:0;box-shadow:none;padding:0 3px;"
              "font:600 11px/1.2 sans-serif;color:#1b2631}.parcel-label:before{display:none}")


def _popup(measured: gpd.GeoDataFrame, lang: str, names: dict[str, dict[str, str]], labels: list[str],
           identity: tuple) -> list[str]:
    """Each parcel's popup: a two-column table, every cell escaped (``layers.html.table``'s markup),
    built column by column: thousands of parcels are redrawn after every edit. The rows measured
    from the outlines are kept while the outlines stay the same (``_measured_rows``). ``labels``
    are the parcels' labels, escaped; ``identity`` their ``_identity``."""
    h_parcel, h_status, h_use = _head("parcel", lang), _head("parcel_status", lang), _head("parcel_use", lang)
    return [f"{TABLE_START}{h_parcel}{label}{_END}{h_status}{status}{_END}{h_use}{use}{_END}"
            f"{rows}{TABLE_END}"
            for label, status, use, rows in zip(labels, _terms("status", measured["status"], lang),
                                                _terms("use", measured["use"], lang),
                                                _measured_rows(measured, lang, names, identity), strict=True)]


_END = ROW_END


def _head(key: str, lang: str) -> str:
    return row_start(t(key, lang))


def _terms(vocabulary: str, codes: pd.Series, lang: str) -> list[str]:
    codes = codes.tolist()
    shown = {code: escape(term_of(vocabulary, code, lang)) for code in set(codes)}
    return [shown[code] for code in codes]


def _identity(measured: gpd.GeoDataFrame) -> tuple:
    """What text made from these parcels' outlines is kept by: the ``geometry_key`` that
    ``measure_parcels`` put in ``attrs`` (None: not kept), the parcels in their order, and a
    check that the outlines are still those (vertex count and extent), should a caller have
    changed them after measuring."""
    geoms = np.asarray(measured.geometry.values, dtype=object)
    order = hashlib.sha256("\x00".join(map(str, measured["parcel_id"].tolist())).encode()).hexdigest()
    extent = tuple(np.round(shapely.total_bounds(geoms), 7).tolist()) if len(geoms) else ()
    return measured.attrs.get("geometry_key"), order, int(shapely.get_num_coordinates(geoms).sum()), extent


_ROW_COLUMNS = ("area_mu", "area_ha", "area_m2", "counted_mu", "overlaps_with", "district_id", "hub_id", "park_id",
                "park_share")


def _measured_rows(measured: gpd.GeoDataFrame, lang: str, names: dict[str, dict[str, str]],
                   identity: tuple) -> list[str]:
    """The popup rows that depend on the outlines (areas, overlaps, district, hub, park), kept by
    the outlines' ``geometry_key``, the parcels' numbers (overlaps name them) and the names; and
    each parcel's by its own figures, so an outline edit makes again only the rows it changed."""
    numbers = measured["number"].to_numpy(dtype=np.int64)
    names_key = hashlib.sha256(json.dumps(names, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    key = (*identity, "popup", lang, hashlib.sha256(numbers.tobytes()).hexdigest(), names_key)
    found = _MEMO.get(key)
    if isinstance(found, list) and len(found) == len(measured):
        return found
    row_keys = [("rows", lang, names_key, *values)
                for values in zip(*(measured[column].tolist() for column in _ROW_COLUMNS), strict=True)]
    rows = _PIECES.get_many(row_keys)
    missing = [i for i, row in enumerate(rows) if row is None]
    if missing:
        made = _rows_of(measured.iloc[missing], lang, names)
        for i, row in zip(missing, made, strict=True):
            rows[i] = row
        _PIECES.put_many([row_keys[i] for i in missing], made)
    _MEMO.put(key, rows, chars=sum(map(len, rows)))
    return rows


def _rows_of(measured: gpd.GeoDataFrame, lang: str, names: dict[str, dict[str, str]]) -> list[str]:
    def quantities(values: pd.Series, unit: str) -> list[str]:
        return [escape(text) for text in format_quantities(values.tolist(), unit, lang)]

    def named(kind: str, ids: pd.Series) -> list[str]:
        lookup = names.get(kind, {})
        shown = {i: escape(lookup[i]) for i in set(ids.tolist()) if isinstance(i, str) and i in lookup}
        return [shown.get(i, "-") if isinstance(i, str) else "-" for i in ids.tolist()]

    area = [f"{mu} · {ha} · {m2}" for mu, ha, m2 in zip(quantities(measured["area_mu"], "mu"),
                                                      quantities(measured["area_ha"], "ha"),
                                                      quantities(measured["area_m2"], "m2"), strict=True)]
    counted_word, overlaps_word = escape(t("parcel_counted", lang)), escape(t("parcel_overlaps", lang))
    overlap_head = _head("parcel_overlap", lang)
    overlap = [f"{overlap_head}{counted} {counted_word}; {overlaps_word} {escape(partners)}{_END}" if partners else ""
               for counted, partners in zip(quantities(measured["counted_mu"], "mu"), measured["overlaps_with"].tolist(),
                                            strict=True)]
    parks = [f"{park} ({share:.0%})" if park != "-" else "-"
             for park, share in zip(named("park", measured["park_id"]), measured["park_share"].tolist(), strict=True)]
    h_area, h_district, h_hub, h_park = (_head(k, lang) for k in ("area", "district", "hub", "park"))
    return [f"{h_area}{area_text}{_END}{overlap_row}{h_district}{district}{_END}{h_hub}{hub}{_END}{h_park}{park}{_END}"
            for area_text, overlap_row, district, hub, park in zip(
                area, overlap, named("district", measured["district_id"]), named("hub", measured["hub_id"]), parks,
                strict=True)]


def parcels_layer(measured: gpd.GeoDataFrame, *, lang: str = "en", datum: str = "wgs84",
                  names: dict[str, dict[str, str]] | None = None, labels: bool = True,
                  colour: str | None = None, layer_name: str | None = None, token: str | None = None) -> ParcelsLayer:
    """Measured parcels (``geo.planner.measure_parcels``) drawn by status, each labelled with its
    number and name, with a popup of its measurements; problem parcels are left off.

    ``names`` maps "district", "hub" and "park" ids to names in ``lang``. Each feature carries its
    ``parcel_id``, so the map's edit tools can say which parcel was changed or deleted. ``colour``
    draws every parcel in one colour (a second scenario on the comparison map). ``token`` names
    the layer's data in its script (see ``ParcelsLayer``): the same token for every version of a
    scenario lets a page render the map once and put each version's data in.
    """
    shown = measured[measured["problem"].isna()] if "problem" in measured else measured
    identity = _identity(shown)
    key = (*identity, "outlines", datum)
    outlines = _MEMO.get(key)
    if not isinstance(outlines, _Outlines) or outlines.count != len(shown):  # else: same outlines as last drawn
        outlines = _Outlines.of(shown, datum=datum)
        _MEMO.put(key, outlines, chars=len(outlines.text))
    labels_text = [escape(parcel_label(n, name, lang))
                   for n, name in zip(shown["number"].tolist(), shown["name"].tolist(), strict=True)]
    properties = {"label": labels_text, "status": shown["status"].tolist(), "parcel_id": shown["parcel_id"].tolist(),
                  "popup": _popup(shown, lang, names or {}, labels_text, identity)}
    styles = {status: {"color": colour or PARCEL_STATUS_COLOURS[status], "weight": 2, "fillOpacity": 0.35}
              for status in STATUSES}
    styles[""] = {"color": colour or "#5dade2", "weight": 2, "fillOpacity": 0.35}
    return ParcelsLayer(_payload(outlines, properties), styles=styles, labels=labels,
                        name=layer_name or t("layer_parcels", lang), token=token)


def _payload(outlines: _Outlines, properties: dict[str, list]) -> str:
    """The layer's data: its outlines as one GeoJSON array (kept while they stay the same) and its
    properties column by column (one ``json.dumps`` per column, not per parcel). ``</`` and the
    JS line separators can never end the script; the outlines hold only numbers."""
    columns = script_safe(json.dumps(properties, ensure_ascii=False))
    return f'{{"geometries":[{outlines.text}],"properties":{columns}}}'


@dataclass(frozen=True)
class _Outlines:
    """The parcels' outlines as the items of a JSON array, one per parcel, compactly: each ring a
    flat list of integers in 1e-5 degrees (the display precision, ~1 m), its first vertex whole
    and the others as steps from the one before. A third of the size of GeoJSON coordinates, so
    a third of the bytes to send, hash and parse after every edit; ``_DECODE`` makes GeoJSON of
    them in the browser: ``[1, rings]`` is a Polygon, ``[2, polygons]`` a MultiPolygon, ``null``
    no outline."""

    text: str
    count: int

    @classmethod
    def of(cls, parcels: gpd.GeoDataFrame, *, datum: str) -> _Outlines:
        """The outlines of ``parcels`` (WGS84) as drawn in ``datum``. Each parcel's text is kept
        with its outline object (``_PIECES``): after a map edit of one parcel, the unchanged ones
        are the same objects (``geo.planner.measure_geometries(previous=...)``), and only the
        edited outline is converted and encoded again."""
        geoms = parcels.geometry.values.tolist()
        keys = [("outline", id(geom), datum) for geom in geoms]
        pieces = _PIECES.get_many(keys, geoms)
        missing = [i for i, piece in enumerate(pieces) if piece is None]
        if missing:
            frame = display_frame(parcels.iloc[missing], datum=datum, properties={})
            made = _encode(np.asarray(frame.geometry.values, dtype=object))
            for i, text in zip(missing, made, strict=True):
                pieces[i] = text
            _PIECES.put_many([keys[i] for i in missing], made, [geoms[i] for i in missing])
        return cls(",".join(pieces), len(geoms))


def _encode(geoms: np.ndarray) -> list[str]:
    kinds = shapely.get_type_id(geoms)
    polygonal = np.flatnonzero(np.isin(kinds, (3, 6)) & ~shapely.is_empty(geoms))
    parts, part_of = shapely.get_parts(geoms[polygonal], return_index=True)  # a Polygon is its only part
    rings, ring_of = shapely.get_rings(parts, return_index=True)
    counts = shapely.get_num_coordinates(rings)
    vertices = np.rint(shapely.get_coordinates(rings) * 1e5).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    steps = vertices.copy()
    steps[1:] -= vertices[:-1]
    steps[starts] = vertices[starts]  # each ring starts whole
    flat = steps.ravel().astype(str).tolist()
    part_rings: list[list[str]] = [[] for _ in range(len(parts))]
    for start, count, part in zip(starts.tolist(), counts.tolist(), ring_of.tolist(), strict=True):
        part_rings[part].append("[" + ",".join(flat[2 * start:2 * (start + count)]) + "]")
    geometry_parts: dict[int, list[str]] = {}
    for rings_text, geometry in zip(part_rings, polygonal[part_of].tolist(), strict=True):
        geometry_parts.setdefault(geometry, []).append("[" + ",".join(rings_text) + "]")
    out = []
    for index, kind in enumerate(kinds.tolist()):
        found = geometry_parts.get(index)
        if found is None:
            out.append("null")
        elif kind == 6:
            out.append("[2,[" + ",".join(found) + "]]")
        else:
            out.append("[1," + found[0] + "]")
    return out


# The browser's side of ``_Outlines``; ``_decode`` is the same in Python (tests read layers with it).
_DECODE = """function (outline) {
    if (outline === null) { return null; }
    function ring(steps) {
        var x = 0, y = 0, out = [];
        for (var i = 0; i < steps.length; i += 2) { x += steps[i]; y += steps[i + 1]; out.push([x / 1e5, y / 1e5]); }
        return out;
    }
    return outline[0] === 2 ? {type: "MultiPolygon", coordinates: outline[1].map(function (p) { return p.map(ring); })}
                            : {type: "Polygon", coordinates: outline[1].map(ring)};
}"""


def _decode(outline: list | None) -> dict | None:
    if outline is None:
        return None

    def ring(steps: list[int]) -> list[list[float]]:
        xy = np.cumsum(np.asarray(steps, dtype=np.int64).reshape(-1, 2), axis=0)
        return (xy / 1e5).tolist()

    if outline[0] == 2:
        return {"type": "MultiPolygon", "coordinates": [[ring(r) for r in polygon] for polygon in outline[1]]}
    return {"type": "Polygon", "coordinates": [ring(r) for r in outline[1]]}


class _TextMemo:
    """Text made from a scenario's outlines (their drawn form, the measured cells of their popups),
    by ``geometry_key`` and what else it depends on, bounded in characters: an edit of a name or
    a status redraws thousands of parcels whose outlines did not change."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._items: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> object | None:
        if key[0] is None:  # outlines without a geometry_key are not kept
            return None
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: tuple, value: object, *, chars: int) -> None:
        if key[0] is None or chars > self.max_chars:
            return
        with self._lock:
            self._items[key] = (value, chars)
            while sum(size for _, size in self._items.values()) > self.max_chars:
                self._items.popitem(last=False)


_MEMO = _TextMemo(max_chars=64_000_000)


class _PieceMemo:
    """Text made from one parcel (its outline's drawn form, its measured popup rows), by key,
    bounded in characters. A key may come with an owner, the object the text was made from,
    held so its ``id`` (in the key) is never reused while kept."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._items: OrderedDict[object, tuple[object, str]] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get_many(self, keys: list, owners: list | None = None) -> list[str | None]:
        out: list[str | None] = []
        with self._lock:
            for i, key in enumerate(keys):
                found = self._items.get(key)
                owned = found is not None and (owners is None or found[0] is owners[i])
                out.append(found[1] if owned else None)
        return out

    def put_many(self, keys: list, texts: list[str], owners: list | None = None) -> None:
        with self._lock:
            for i, (key, text) in enumerate(zip(keys, texts, strict=True)):
                old = self._items.pop(key, None)
                self._chars += len(text) - (len(old[1]) if old is not None else 0)
                self._items[key] = (owners[i] if owners is not None else None, text)
            while self._chars > self.max_chars and self._items:
                _, (_, text) = self._items.popitem(last=False)
                self._chars -= len(text)


_PIECES = _PieceMemo(max_chars=32_000_000)


class ParcelsLayer(MacroElement):
    """The parcels as one Leaflet GeoJSON layer whose direct children are the parcels' polygons, so
    Leaflet.draw can edit and delete them (``parcel_draw_control``). Its data (``_payload``) is
    the outlines' GeoJSON made whole-array and the properties column by column, made into features
    in the browser: folium's GeoJson would parse it, map a style per feature and write it out
    again, seconds for thousands of parcels."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }}_styles = {{ this.styles|tojson }};
        var {{ this.get_name() }}_data = {{ this.data_token }};
        var {{ this.get_name() }} = L.geoJson({
            type: "FeatureCollection",
            features: {{ this.get_name() }}_data.geometries.map(function (outline, i) {
                var columns = {{ this.get_name() }}_data.properties, properties = {};
                for (var column in columns) { properties[column] = columns[column][i]; }
                return {type: "Feature", geometry: ({{ this.decode }})(outline), properties: properties};
            })
        }, {
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

    def __init__(self, data_text: str, *, styles: dict[str, dict[str, object]], labels: bool, name: str,
                 token: str | None = None) -> None:
        super().__init__()
        self._name = "ParcelsLayer"
        self.data_text = data_text
        # The data goes into the script after rendering (pages._map.render_map): folium and branca
        # lex and rewrite every rendered script, seconds for the megabytes of thousands of parcels.
        name_part = hashlib.sha256(token.encode()).hexdigest()[:32] if token else uuid.uuid4().hex
        self.data_token = f"__deferred_payload_{name_part}__"
        self.deferred_payloads = {self.data_token: data_text}
        self.decode = _DECODE
        self.styles = styles
        self.labels = labels
        self.layer_name = name

    def features(self) -> list[dict]:
        """The GeoJSON features the layer draws, as its script makes them from its data (``_DECODE``)."""
        data = json.loads(self.data_text)
        columns = data["properties"]
        return [{"type": "Feature", "geometry": _decode(outline),
                 "properties": {column: values[i] for column, values in columns.items()}}
                for i, outline in enumerate(data["geometries"])]


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
