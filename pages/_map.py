"""The map component: a folium map rendered once (cached for every session) and shown through
streamlit-folium's component, with the layers' deferred data put in after rendering; and the
session's imported layers drawn on a map. A helper module of the pages, not a page."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import branca
import folium
import folium.elements
import streamlit as st
import streamlit_folium

from geo import config
from layers.assets import MissingAssetError


def imported_layer_names() -> list[str]:
    """Names of the session's imported layers (Import page), as add_imported_layers draws them."""
    return list(st.session_state.get("imports", {}))


def add_imported_layers(fmap: folium.Map, *, lang: str, datum: str) -> list[str]:
    """Draw the session's imported layers (Import page) on a map; returns their names."""
    from layers.imported import imported_layer

    imports = st.session_state.get("imports", {})
    for name, layer in imports.items():
        imported_layer(layer.frame, name=name, lang=lang, datum=datum).add_to(fmap)
    return list(imports)


@dataclass(frozen=True)
class RenderedMap:
    """A folium map as streamlit-folium's component receives it: Leaflet script, HTML, header
    and the map's JS/CSS links. Plain strings, so one render can be shared by every session."""

    script: str
    header: str
    html: str
    map_id: str
    bounds: list
    zoom: int | None
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    component_key: str  # streamlit-folium's widget id: a hash of the script and the page's key


def _links(element) -> Iterator[tuple[list, list]]:
    if isinstance(element, branca.colormap.ColorMap):  # st_folium would add d3 from two CDNs
        raise MissingAssetError("no local copy of d3 for a branca colormap; draw a Legend instead")
    if isinstance(element, folium.elements.JSCSSMixin):
        yield element.default_css, element.default_js
    for child in getattr(element, "_children", {}).values():
        yield from _links(child)


def _deferred_payloads(element) -> Iterator[tuple[str, str]]:
    """(token, text) of the elements whose data is put into the script after rendering (a layer's
    ``deferred_payloads``, e.g. layers.parcels.ParcelsLayer): rendering megabytes through folium's
    templates and streamlit-folium's rewriting costs seconds, a string replacement milliseconds."""
    yield from getattr(element, "deferred_payloads", {}).items()
    for child in getattr(element, "_children", {}).values():
        yield from _deferred_payloads(child)


class _ScriptlessTemplate:
    """An element's template without its ``script`` macro, for the render passes whose script
    output streamlit-folium throws away (``Figure.script`` is never sent to the browser)."""

    def __init__(self, template) -> None:
        self.module = SimpleNamespace(**{name: value for name, value in vars(template.module).items()
                                         if name != "script"})

    def render(self, *args, **kwargs) -> str:  # Popup.render puts its whole template in Figure.script
        return ""


@contextmanager
def _scripts_skipped(element) -> Iterator[None]:
    """While the block runs, every macro element under ``element`` renders its header and HTML
    and keeps its render() side effects (the children Layer and Marker add, LayerControl's
    layers, GeoJson's data) but not its script: each script is rendered once, by
    streamlit-folium's ``_get_map_string``. Building the script's Element also compiled it as a
    Jinja template: for a GeoJSON layer, megabytes of data lexed twice more per render."""
    patched = []
    stack = [element]
    while stack:
        node = stack.pop()
        if isinstance(node, branca.element.MacroElement):
            patched.append((node, node.__dict__.get("_template", _CLASS_TEMPLATE)))
            node._template = _ScriptlessTemplate(node._template)
        stack.extend(getattr(node, "_children", {}).values())
    try:
        yield
    finally:
        for node, template in patched:
            if template is _CLASS_TEMPLATE:
                del node._template
            else:
                node._template = template


_CLASS_TEMPLATE = object()  # marks an element whose template was its class's


def render_map(fmap: folium.Map, key: str, *, keep_tokens: Collection[str] = ()) -> RenderedMap:
    """What ``streamlit_folium.st_folium`` (0.27.4) computes for a folium.Map before it calls its
    component, as a value that can be cached. tests/test_pages.py checks it against st_folium.

    st_folium renders the whole figure, then the map again, then every element's script a third
    time for the component; only the last script and the header and HTML of the first two passes
    are sent. Here the first two passes run with their scripts skipped, so each element's script
    is rendered once, and the result is the same.

    The layers' deferred payloads are put into the script, except those in ``keep_tokens``: the
    caller puts them in (``show_map(payloads=...)``), so one render serves every version of the data."""
    with _scripts_skipped(fmap.get_root()):
        fmap.get_root().render()
    with _scripts_skipped(fmap):
        fmap.render()
    html = streamlit_folium._get_html(fmap)
    header = streamlit_folium._get_header(fmap)
    script = streamlit_folium._get_map_string(fmap)  # renames the map's variables (in this order)
    map_id = streamlit_folium.get_full_id(fmap)
    try:
        bounds = fmap.get_bounds()
    except AttributeError:  # as st_folium: an element without bounds leaves them unknown
        bounds = [[None, None], [None, None]]
    for token, payload in _deferred_payloads(fmap):
        if token not in keep_tokens:
            script = script.replace(token, payload)
    css: list[str] = []
    js: list[str] = []
    for element_css, element_js in _links(fmap):
        css.extend(href for _, href in element_css)
        js.extend(src for _, src in element_js)
    return RenderedMap(script=script, header=header, html=html, map_id=map_id, bounds=bounds,
                       zoom=fmap.options.get("zoom"), css_links=tuple(dict.fromkeys(css)),
                       js_links=tuple(dict.fromkeys(js)),
                       component_key=streamlit_folium.generate_js_hash(script, key, False))


# Rendering a folium map costs ~0.2 s of server CPU (hundreds of Jinja templates). Held by the
# script thread, that CPU also slows the server's answers to the browser while the page loads.
@st.cache_resource(show_spinner=False, max_entries=config.RENDER_CACHE_ENTRIES)
def _cached_render(key: str, cache_key: Hashable, _build: Callable[[], folium.Map],
                   keep_tokens: tuple[str, ...] = ()) -> RenderedMap:
    del cache_key  # everything the map shows must be in it
    return render_map(_build(), key, keep_tokens=keep_tokens)


def _with_payloads(rendered: RenderedMap, key: str, payloads: Mapping[str, str]) -> RenderedMap:
    """A rendered map with its layers' data put in; its component key changes with the data."""
    script = rendered.script
    digest = hashlib.sha256(f"{rendered.component_key}|{key}".encode())
    for token, payload in payloads.items():
        script = script.replace(token, payload)
        digest.update(token.encode())
        digest.update(payload.encode())
    return dataclasses.replace(rendered, script=script, component_key=digest.hexdigest())


def _bounds_dict(bounds: list) -> dict:
    (south, west), (north, east) = bounds
    return {"_southWest": {"lat": south, "lng": west}, "_northEast": {"lat": north, "lng": east}}


def show_map(fmap: folium.Map | Callable[[], folium.Map], *, key: str, height: int = 560,
             returned_objects: list[str] | None = None, cache_key: Hashable | None = None,
             center: tuple[float, float] | None = None, zoom: float | None = None,
             payloads: Mapping[str, str] | None = None) -> dict:
    """Render a folium map; only the listed interactions rerun the script (none by default).

    ``fmap`` may be a function building the map; with a ``cache_key`` (which must contain
    everything the map depends on) the map is built and rendered once per key for all sessions.
    ``center`` (lat, lng) and ``zoom`` move the drawn map without rebuilding it (streamlit-folium
    sets the view when they change).
    ``payloads`` (token -> text) are data put into the rendered script on every call, so a map
    whose layers' data changes (the Planner's parcels after an edit) is rendered once: its
    ``cache_key`` leaves the data out, and the layers leave their tokens in (``deferred_payloads``).
    """
    tokens = tuple(payloads or ())
    if cache_key is not None:
        # With payloads, one render serves every version of their data: its key leaves them out.
        rendered = _cached_render("" if tokens else key, cache_key, fmap if callable(fmap) else (lambda: fmap),
                                  tokens)
    else:
        rendered = render_map(fmap() if callable(fmap) else fmap, key, keep_tokens=tokens)
    if tokens:
        rendered = _with_payloads(rendered, key, payloads)
    returned = returned_objects or []
    defaults = {"last_clicked": None, "last_object_clicked": None, "last_object_clicked_count": None,
                "last_object_clicked_tooltip": None, "last_object_clicked_popup": None,
                "all_drawings": None, "last_active_drawing": None,
                "bounds": _bounds_dict(rendered.bounds), "zoom": rendered.zoom,
                "last_circle_radius": None, "last_circle_polygon": None, "selected_layers": None,
                "selected_tags": None, "last_geocoder_result": None, "center": None}
    hash_key = rendered.component_key

    def on_change() -> None:  # as st_folium: the keyed state mirrors the component's value
        st.session_state[key] = st.session_state.get(hash_key, {})

    value = streamlit_folium._component_func(
        script=rendered.script, header=rendered.header, html=rendered.html, id=rendered.map_id,
        key=hash_key, height=height, width=None, returned_objects=returned,
        default={k: v for k, v in defaults.items() if k in returned}, zoom=zoom,
        center=None if center is None else [center[0], center[1]],
        feature_group=None, return_on_hover=False, layer_control=None, pixelated=False,
        css_links=list(rendered.css_links), js_links=list(rendered.js_links), on_change=on_change,
        wrap_longitude=False)
    return value or {}

