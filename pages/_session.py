"""What every page starts with: the session's settings (language, basemap) and the sidebar that
sets them, widget values kept across pages and languages, links that reproduce a view, and errors
shown in plain words. A helper module of the pages, not a page: app.py lists the pages."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import streamlit as st

from geo import config
from geo.errors import GeoError, StoreUnavailableError
from layers.basemap import BasemapError, available_basemaps, datum_of
from geo.selection import format_view, parse_view
from layers.i18n import LANGUAGES, t
from pages import _data

LOG = logging.getLogger("pharma_map")


@dataclass(frozen=True)
class Settings:
    lang: str
    basemap: str
    datum: str
    tianditu_key: str | None


def tianditu_key() -> str | None:
    key = config.tianditu_key()
    if key:
        return key
    try:
        return st.secrets.get("TIANDITU_KEY")  # type: ignore[no-any-return]
    except FileNotFoundError:  # no secrets.toml: Tianditu stays hidden
        return None


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
        st.sidebar.caption(f"{t('snapshot', lang)}: `{_data.snapshot().version}` · WGS84")
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


@contextmanager
def friendly_errors(lang: str) -> Iterator[None]:
    """Show errors in plain words, never as a traceback (the traceback goes to the server log)."""
    try:
        yield
    except StoreUnavailableError as exc:  # the shared database is down: say so, and what to do
        st.error(t("store_unavailable", lang, message=str(exc)))
    except (GeoError, BasemapError) as exc:
        st.error(t("error_generic", lang, message=str(exc)))
    except Exception as exc:  # last resort for the user; logged in full for the developers
        LOG.exception("unexpected error on a page")
        st.error(t("error_generic", lang, message=type(exc).__name__))

