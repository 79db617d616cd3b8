"""What every page shares: cached data (with the OSM outline overrides), the sidebar settings,
the map widget, figures with their sources, errors shown in plain words, and the session's
OpenStreetMap extract with its cached site context and street network."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import sqlite3
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING

import branca
import folium
import folium.elements
import geopandas as gpd
import pandas as pd
import streamlit as st
import streamlit_folium

from geo import config
from geo.config import data_dir
from geo.errors import GeoError
from geo.imports import ImportedLayer, UploadInspection, inspect_upload, read_upload
from geo.lru import ByteLRU
from geo.osm import context_layers, match_parks, read_osm_file
from geo.org_placements import OrgPlacementStore
from geo.osm_store import ParkGeometryStore
from geo.snapshot import Snapshot, load_snapshot
from geo.workspace import assemble
from layers.assets import MissingAssetError
from layers.basemap import BasemapError, available_basemaps, datum_of
from layers.i18n import LANGUAGES, format_quantity, t

if TYPE_CHECKING:
    import networkx as nx

LOG = logging.getLogger("pharma_map")


@dataclass(frozen=True)
class Settings:
    lang: str
    basemap: str
    datum: str
    tianditu_key: str | None


@st.cache_resource(show_spinner=False)
def bundled_snapshot() -> Snapshot:
    """The bundled snapshot as built, verified once per server process (no OSM overrides)."""
    return load_snapshot()


def park_geometry_store() -> ParkGeometryStore:
    """The OSM outline overrides of the data folder ($PHARMA_MAP_DATA_DIR, read on every call)."""
    return ParkGeometryStore(data_dir())


def overrides_revision(store: ParkGeometryStore | None = None) -> int:
    """A number that changes whenever an OSM outline is applied or restored: the newest entry
    of the store's append-only history (0 for none). Cache keys of the parks build on it."""
    store = store if store is not None else park_geometry_store()
    with closing(sqlite3.connect(store.path, timeout=config.SQLITE_TIMEOUT_S)) as connection:
        row = connection.execute("SELECT coalesce(max(entry), 0) FROM history").fetchone()
    return int(row[0])


# cache_resource: the parks are shared read-only by every session and page, not copied per rerun.
@st.cache_resource(show_spinner=False, max_entries=16)
def _with_overrides(version: str, directory: str, revision: int, _base: Snapshot, placed: int = 0) -> Snapshot:
    del version, revision, placed  # cache keys: a new snapshot or a new apply/restore rebuilds the parks
    return assemble(_base, store=ParkGeometryStore(directory), placements=OrgPlacementStore(directory))


def placements_revision() -> int:
    """A number that changes whenever an organisation is placed on an OSM feature or restored."""
    return OrgPlacementStore(data_dir()).revision()


def snapshot() -> Snapshot:
    """The snapshot as users see it (``geo.workspace.assemble``): the park outlines confirmed from
    OpenStreetMap laid over it, with the hubs and organisations placed by them.

    The cached snapshot itself is never modified; the parks with overrides are cached per data
    folder and store revision, so applying or restoring an outline shows on every page at the
    next rerun. If the override store cannot be read, the parks are shown as built (logged).
    """
    base = bundled_snapshot()
    try:
        store = park_geometry_store()
        return _with_overrides(base.version, str(store.path.parent.resolve()), overrides_revision(store), base,
                               placements_revision())
    except (sqlite3.Error, OSError, GeoError):
        LOG.exception("the OSM outline overrides could not be read; showing the parks as built")
        return base


def tianditu_key() -> str | None:
    key = config.tianditu_key()
    if key:
        return key
    try:
        return st.secrets.get("TIANDITU_KEY")  # type: ignore[no-any-return]
    except FileNotFoundError:  # no secrets.toml: Tianditu stays hidden
        return None


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


def _leave_pages_directory_mode() -> None:
    """Run app.py's navigation even when the first visit after a server start is a deep link.

    Streamlit decides at its first session whether the app is an old-style "pages/ folder" app;
    until app.py has called ``st.navigation`` once, a visit to e.g. /planner runs the page on its
    own (narrow layout, a sidebar listing every file in pages/) and every later session does too.
    Clearing that flag and rerunning hands the session to app.py. The flag is Streamlit's
    (streamlit.runtime.pages_manager.PagesManager.uses_pages_directory, 1.67); a browser test
    covers this path.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        # Once per session: streamlit.testing's AppTest sets the flag again before every run, and
        # a rerun there would drop the button click being tested.
        if not st.session_state.get("_navigation_checked"):
            st.session_state["_navigation_checked"] = True
            st.rerun()
    st.session_state["_navigation_checked"] = True


# Widget values a user expects to keep: across pages (Streamlit forgets a keyed widget's value in
# any run that does not draw it, i.e. on every other page) and across a language switch (a select
# widget whose labels depend on the language cannot take back the value the browser holds in the
# old labels: Streamlit fails with a TypeError). Each run copies them out and sets them again
# through the Session State API, which is what the widgets then show.
KEPT_WIDGETS: tuple[str, ...] = (
    "lang", "basemap", "cluster_specs", "orgs_kinds", "orgs_specs", "orgs_parks", "orgs_hubs",
    "parks_pick", "parks_compare", "export_layers", "export_format", "export_datum", "export_specs")
_KEPT = "_kept_widget_values"


def _keep_widget_values() -> None:
    kept = st.session_state.setdefault(_KEPT, {})
    for key in KEPT_WIDGETS:
        if key in st.session_state:
            kept[key] = st.session_state[key]
    for key, value in kept.items():
        if key in st.session_state:
            del st.session_state[key]  # drops the browser's copy, labelled in the old language
        st.session_state[key] = value


def kept_default(key: str, default: object) -> dict:
    """``default=`` for a kept widget: given only on its first run (later the kept value is
    set through the Session State API, and Streamlit refuses both at once)."""
    return {} if key in st.session_state.get(_KEPT, {}) or key in st.session_state else {"default": default}


# --------------------------------------------------------------------------------------------
# Links that reproduce a view: the page address carries the language, basemap, selected park,
# specialisation filter and the cluster map's view (?lang=zh&park=bda_yizhuang&spec=a,b&view=lat,lng,zoom).
# A reload or a shared link starts a new session, which reads them once; every run writes them
# back. Parameters other pages own (the planner's ?scenario=) are never touched.

LINK_KEYS: tuple[str, ...] = ("lang", "basemap", "park", "spec", "view")
SELECTED_PARK = "selected_park"  # the park selected on any page (the cluster map, the Parks page's pick)
MAP_VIEW = "map_view"  # the cluster map's view: (lat, lng, zoom), from the map or a link
_LINK_READ = "_link_read"


def parse_view(text: object) -> tuple[float, float, float] | None:
    """``"lat,lng,zoom"`` from a link, if it is a view of the Beijing area (else None)."""
    if not isinstance(text, str):
        return None
    try:
        lat, lng, zoom = (float(part) for part in text.split(","))
    except ValueError:
        return None
    if not (39.0 <= lat <= 41.5 and 115.0 <= lng <= 118.0 and 5 <= zoom <= 18):
        return None
    return round(lat, 5), round(lng, 5), round(zoom, 2)


def format_view(view: tuple[float, float, float]) -> str:
    lat, lng, zoom = view
    return f"{lat:.5f},{lng:.5f},{zoom:g}"


def apply_link() -> None:
    """Once per session, copy the settings in the page address into session state (unknown or
    malformed values are ignored: the defaults apply). app.py calls it before the navigation is
    labelled, so a link with ``lang=zh`` opens in Chinese from the first paint."""
    if st.session_state.get(_LINK_READ):
        return
    st.session_state[_LINK_READ] = True
    params = st.query_params
    if params.get("lang") in LANGUAGES:
        st.session_state["lang"] = params["lang"]
    if params.get("basemap"):
        st.session_state["basemap"] = params["basemap"]  # checked against the available ones in settings()
    park = params.get("park")
    if park:
        st.session_state[SELECTED_PARK] = park  # pages check it against the parks they know
        st.session_state["parks_pick"] = park
    if params.get("spec"):
        from geo.vocab import SPECIALISATIONS

        st.session_state["cluster_specs"] = [c for c in params["spec"].split(",") if c in SPECIALISATIONS]
    read_view()


_VIEW_SEEN = "_view_in_address"


def read_view() -> None:
    """Adopt the address's ``view`` when it changed since it was last seen here: the map writes
    it there itself after the user moves it (``layers.address.ViewInAddress``), and Streamlit
    sends the address with every rerun."""
    text = st.query_params.get("view")
    if text != st.session_state.get(_VIEW_SEEN):
        st.session_state[_VIEW_SEEN] = text
        view = parse_view(text)
        if view is not None:
            st.session_state[MAP_VIEW] = view


def write_link() -> None:
    """Put the current settings in the page address; only keys in ``LINK_KEYS`` change."""
    state = st.session_state
    wanted = {
        "lang": state.get("lang"),
        "basemap": state.get("basemap") if state.get("basemap") not in (None, "osm") else None,
        "park": state.get(SELECTED_PARK) or None,
        "spec": ",".join(state.get("cluster_specs") or []) or None,
        "view": format_view(state[MAP_VIEW]) if state.get(MAP_VIEW) else None,
    }
    st.session_state[_VIEW_SEEN] = wanted["view"]
    for key, value in wanted.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get(key) != value:
            st.query_params[key] = value


def select_park(park_id: str | None) -> None:
    """Select a park for every page (and the link); None clears the selection."""
    if park_id is None:
        st.session_state.pop(SELECTED_PARK, None)
    else:
        st.session_state[SELECTED_PARK] = park_id
    write_link()


def settings(*, widgets: bool = True) -> Settings:
    """The sidebar: language and basemap, shared by every page through session state.

    With ``widgets=False`` the settings are read from session state only, and the page draws
    the widgets later in the run with ``sidebar_after(settings)``. The settings in the page
    address are read at a session's start and written back on every run (``apply_link``).
    """
    _leave_pages_directory_mode()
    apply_link()
    read_view()
    _keep_widget_values()
    if st.session_state.get("lang") not in LANGUAGES:
        st.session_state["lang"] = "en"
    key = tianditu_key()
    if st.session_state.get("basemap") not in available_basemaps(tianditu_key=key):
        st.session_state["basemap"] = "osm"
    basemap = st.session_state["basemap"]
    current = Settings(lang=st.session_state["lang"], basemap=basemap, datum=datum_of(basemap),
                       tianditu_key=key)
    write_link()
    if widgets:
        sidebar(current)
    return current


def sidebar(current: Settings) -> None:
    """The sidebar's widgets for the settings read by ``settings()`` (keys "lang", "basemap")."""
    lang = current.lang
    st.sidebar.radio(t("language", lang), list(LANGUAGES), format_func=LANGUAGES.get, key="lang",
                     horizontal=True)
    st.sidebar.selectbox(t("basemap", lang), available_basemaps(tianditu_key=current.tianditu_key),
                         key="basemap", format_func=lambda b: t(f"basemap_{b}", lang))
    try:
        st.sidebar.caption(f"{t('snapshot', lang)}: `{snapshot().version}` · WGS84")
    except GeoError as exc:  # the page body reports it in plain words too
        st.sidebar.caption(f"{t('snapshot', lang)}: {exc}")


@contextmanager
def sidebar_after(current: Settings) -> Iterator[None]:
    """Draw the sidebar's widgets when the block ends, however it ends: a widget missing from a
    finished run would lose its value (the language would fall back to English)."""
    try:
        yield
    finally:
        sidebar(current)


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


@st.cache_resource(show_spinner=False)
def _source_labels(version: str) -> dict[str, str]:
    del version  # the cache key: labels are rebuilt only for another snapshot
    return {row.source_id: f"{row.publisher}, {row.title}" + (f" ({row.date})" if row.date else "")
            for row in snapshot().sources.itertuples()}


def source_label(source_id: str) -> str:
    """'Publisher, title (date)' of a source; the id itself if it is unknown."""
    return _source_labels(snapshot().version).get(source_id, source_id)


def fact_text(fact: pd.Series, lang: str) -> str:
    return format_quantity(float(fact["value"]), str(fact["unit"]), lang, qualifier=str(fact["qualifier"]))


def fact_help(fact: pd.Series, lang: str) -> str:
    """Source, date and quote of a figure, for hover help."""
    period = f" · {fact['period']}" if fact.get("period") else ""
    return (f"{t('source', lang)}: {source_label(fact['source_id'])}{period} · "
            f"{t('as_of', lang)} {fact['as_of']}\n\n> {fact['quote']}")


def facts_for(subject_type: str, subject_id: str) -> pd.DataFrame:
    facts = snapshot().facts
    return facts[(facts["subject_type"] == subject_type) & (facts["subject_id"] == subject_id)]


@contextmanager
def friendly_errors(lang: str) -> Iterator[None]:
    """Show errors in plain words, never as a traceback (the traceback goes to the server log)."""
    try:
        yield
    except (GeoError, BasemapError) as exc:
        st.error(t("error_generic", lang, message=str(exc)))
    except Exception as exc:  # last resort for the user; logged in full for the developers
        LOG.exception("unexpected error on a page")
        st.error(t("error_generic", lang, message=type(exc).__name__))


# --------------------------------------------------------------------------------------------
# Uploads already read, kept for every session within one memory budget (geo.lru.ByteLRU): the
# budget is in bytes ($PHARMA_MAP_UPLOAD_CACHE_MB, geo.config), not in entries, so sixteen large
# uploads cost what two do. Keys start with the job, then the upload's sha256.


@st.cache_resource(show_spinner=False)
def upload_cache() -> ByteLRU:
    """The server's one cache of uploads already read: imported layers, OSM extracts, their site
    context and matches, street networks. Shared read-only by every session."""
    return ByteLRU(max_bytes=config.upload_cache_bytes())


def inspect_import(sha256: str, filename: str, data: bytes) -> UploadInspection:
    """``geo.imports.inspect_upload`` of an upload, cached by content and name."""
    return upload_cache().get_or_compute(("import.inspect", sha256, filename),
                                         lambda: inspect_upload(data, filename=filename))


def read_import(sha256: str, filename: str, data: bytes, *, datum: str | None = None, lon: str | None = None,
                lat: str | None = None, wkt: str | None = None) -> ImportedLayer:
    """``geo.imports.read_upload`` of an upload, cached by content, name and the choices made.
    Nothing downstream modifies the cached layer."""
    return upload_cache().get_or_compute(
        ("import.read", sha256, filename, datum, lon, lat, wkt),
        lambda: read_upload(data, filename=filename, datum=datum, lon_column=lon, lat_column=lat, wkt_column=wkt))


def read_osm_extract(sha256: str, filename: str, data: bytes) -> gpd.GeoDataFrame:
    """``geo.osm.read_osm_file`` of an uploaded extract, cached by content and name."""
    return upload_cache().get_or_compute(("osm.read", sha256, filename),
                                         lambda: read_osm_file(data, filename=filename))


# --------------------------------------------------------------------------------------------
# OpenStreetMap extract of the session (the OSM page sets it, the Parks page reads it)

OSM_EXTRACT = "osm_extract"  # {"name": str, "key": str, "data": bytes | None, "features": GeoDataFrame}
OSM_STREETS = "osm_streets"  # the key of the extract whose street network the user loaded


def osm_extract() -> dict | None:
    """The session's OpenStreetMap extract, or None.

    ``st.session_state["osm_extract"]`` is a dict: ``name`` (shown), ``features`` (from
    ``geo.osm.read_osm_file`` or ``fetch_osm``), ``data`` (the uploaded bytes, or None for a
    query) and ``key`` (a cache key: the sha256 of ``data``; filled in here when missing).
    """
    extract = st.session_state.get(OSM_EXTRACT)
    if not isinstance(extract, dict) or extract.get("features") is None:
        return None
    if not extract.get("key"):
        data = extract.get("data")
        if data:
            extract["key"] = hashlib.sha256(data).hexdigest()
        else:
            ids = "\n".join(map(str, extract["features"].get("osm_id", pd.Series(dtype=object))))
            extract["key"] = "features:" + hashlib.sha256(ids.encode()).hexdigest()
    return extract


def parks_key() -> str:
    """Changes whenever the parks shown change: snapshot version, data folder, store revision."""
    try:
        store = park_geometry_store()
        return (f"{bundled_snapshot().version}|{store.path.parent.resolve()}|{overrides_revision(store)}"
                f"|{placements_revision()}")
    except (sqlite3.Error, OSError, GeoError):  # as snapshot(): the parks are shown as built
        return f"{bundled_snapshot().version}|as built"


def osm_context(extract: dict) -> gpd.GeoDataFrame:
    """Hospitals, metro stations, universities, research institutes and airports near every
    park (``geo.osm.context_layers``) in the extract; cached per extract and parks revision."""
    features, parks = extract["features"], snapshot().parks
    return upload_cache().get_or_compute(("osm.context", extract["key"], parks_key()),
                                         lambda: context_layers(features, parks))


def osm_matches(extract: dict, parks: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``geo.osm.match_parks`` of the extract against ``parks`` (parks not yet on the map are
    looked for by name in their district); cached per extract and parks revision."""
    features = extract["features"]
    return upload_cache().get_or_compute(("osm.match", extract["key"], parks_key()),
                                         lambda: match_parks(features, parks, districts=districts))


@st.cache_data(show_spinner=False, max_entries=8)
def street_suffix(sha256: str, _data: bytes) -> str | None:
    """``.osm`` or ``.osm.bz2`` if the uploaded extract holds a street network
    (``geo.streets.street_suffix``); None otherwise. A short string per upload."""
    del sha256
    from geo.streets import street_suffix as sniff  # networkx: only when asked for

    return sniff(_data)


def street_graph(sha256: str, suffix: str, _data: bytes) -> nx.MultiDiGraph:
    """The drivable street network of an uploaded extract (``geo.streets.street_graph_from_bytes``)."""
    from geo.streets import street_graph_from_bytes  # networkx: only when asked for

    del suffix  # the content decides
    return upload_cache().get_or_compute(("streets", sha256), lambda: street_graph_from_bytes(_data))
