"""Cached data for the pages: the snapshot as users see it (with the confirmed OpenStreetMap
outlines), figures with their sources, the server's one cache of uploads already read, and the
session's OpenStreetMap extract with its cached site context, matches and street network.
A helper module of the pages, not a page."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import config
from geo.config import data_dir
from geo.imports import ImportedLayer, UploadInspection, inspect_upload, read_upload
from geo.lru import ByteLRU
from geo.osm import context_layers, match_parks, read_osm_file
from geo.errors import StoreUnavailableError
from geo.org_placements import OrgPlacementStore
from geo.osm_store import READ_ERRORS, ParkGeometryStore
from geo.scenarios import ScenarioStore
from geo.snapshot import Snapshot, load_snapshot
from geo.workspace import assemble
from layers.i18n import format_quantity, t

if TYPE_CHECKING:
    import networkx as nx

LOG = logging.getLogger("pharma_map")


@st.cache_resource(show_spinner=False)
def bundled_snapshot() -> Snapshot:
    """The bundled snapshot as built, verified once per server process (no OSM overrides)."""
    return load_snapshot()


def park_geometry_store() -> ParkGeometryStore:
    """The confirmed OSM outlines: the shared database ($PHARMA_MAP_DATABASE_URL) or the data
    folder ($PHARMA_MAP_DATA_DIR), read on every call."""
    return ParkGeometryStore()


# cache_resource: the parks are shared read-only by every session and page, not copied per rerun.
@st.cache_resource(show_spinner=False, max_entries=16)
def _with_overrides(version: str, location: str, revision: int, _base: Snapshot, placed: int = 0) -> Snapshot:
    del version, location, revision, placed  # cache keys: a new snapshot, store, apply/restore or placement
    return assemble(_base, store=park_geometry_store(), placements=OrgPlacementStore(data_dir()))


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
        return _with_overrides(base.version, store.location, store.revision(), base, placements_revision())
    except StoreUnavailableError as exc:  # the shared database is down: one line, not a traceback per run
        LOG.warning("showing the parks as built: %s", exc)
        return base
    except READ_ERRORS:
        LOG.exception("the OSM outline overrides could not be read; showing the parks as built")
        return base


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


def scenario_store(lang: str) -> ScenarioStore | None:
    """The shared store of scenarios and saved layers; None, after one message naming the problem
    and the fix, when its database cannot be reached (the page goes on with what needs no store)."""
    try:
        return ScenarioStore()
    except StoreUnavailableError as exc:
        st.error(t("store_unavailable", lang, message=str(exc)))
        return None


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
        return f"{bundled_snapshot().version}|{store.location}|{store.revision()}|{placements_revision()}"
    except READ_ERRORS:  # as snapshot(): the parks are shown as built
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
