"""What every page shares: cached data, the sidebar settings, the map widget, figures with
their sources, and errors shown in plain words."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import GeoError
from geo.snapshot import Snapshot, load_snapshot
from layers.basemap import BasemapError, available_basemaps, datum_of
from layers.i18n import LANGUAGES, format_quantity, t

LOG = logging.getLogger("pharma_map")


@dataclass(frozen=True)
class Settings:
    lang: str
    basemap: str
    datum: str
    tianditu_key: str | None


@st.cache_resource(show_spinner=False)
def snapshot() -> Snapshot:
    """The bundled snapshot, verified once per server process."""
    return load_snapshot()


def tianditu_key() -> str | None:
    key = os.environ.get("TIANDITU_KEY")
    if key:
        return key
    try:
        return st.secrets.get("TIANDITU_KEY")  # type: ignore[no-any-return]
    except FileNotFoundError:  # no secrets.toml: Tianditu stays hidden
        return None


def settings() -> Settings:
    """The sidebar: language and basemap, shared by every page through session state."""
    if "lang" not in st.session_state:
        st.session_state["lang"] = "en"
    lang = st.sidebar.radio(t("language", st.session_state["lang"]), list(LANGUAGES),
                            format_func=LANGUAGES.get, key="lang", horizontal=True)
    key = tianditu_key()
    options = available_basemaps(tianditu_key=key)
    if st.session_state.get("basemap") not in options:
        st.session_state["basemap"] = "osm"
    basemap = st.sidebar.selectbox(t("basemap", lang), options, key="basemap",
                                   format_func=lambda b: t(f"basemap_{b}", lang))
    try:
        st.sidebar.caption(f"{t('snapshot', lang)}: `{snapshot().version}` · WGS84")
    except GeoError as exc:  # the page body reports it in plain words too
        st.sidebar.caption(f"{t('snapshot', lang)}: {exc}")
    return Settings(lang=lang, basemap=basemap, datum=datum_of(basemap), tianditu_key=key)


def show_map(fmap: folium.Map, *, key: str, height: int = 560,
             returned_objects: list[str] | None = None) -> dict:
    """Render a folium map; only the listed interactions rerun the script (none by default)."""
    return st_folium(fmap, key=key, height=height, use_container_width=True,
                     returned_objects=returned_objects or []) or {}


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
