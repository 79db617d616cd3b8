"""Cluster map: the plan's "four core hubs and multiple growth points" at a glance."""

import streamlit as st

from geo.datums import convert
from geo.search import build_index, map_labels, search, view_centre, view_for
from geo.selection import overlapping_parks, park_at, park_views
from geo.shapes import is_drawn
from geo.structure import hub_structure
from geo.workspace import specialisation_mask, used_specialisations
from geo.vocab import GEOMETRY_TIERS, HUB_ROLES, POINT_LOCATION_TIERS, SPECIALISATIONS, split_codes
from layers.basemap import base_map, fit_to
from layers.districts import districts_layer
from layers.hubs import hub_labels
from layers.html import escape, markdown_text
from layers.i18n import format_compact, format_quantity, t, term
from layers.address import ViewInAddress
from layers.labels import LabelPlacer
from layers.legend import Legend
from layers.organisations import organisations_layer
from layers.parks import park_symbols, parks_layer
from layers.styles import ROLE_COLOURS
from pages import _data as cached, _map as maps, _session as session

HEADLINE_FACTS = ("plan_industrial_land", "plan_factory_completed", "plan_factory_started",
                  "plan_industry_scale_2026", "xinhua_health_sector_2024")
HEADLINE_LABELS = {
    "plan_industrial_land": ("New industrial land 2024-26 (mu)", "新增产业用地（亩）"),
    "plan_factory_completed": ("Factories completed (m²)", "建成标准厂房（m²）"),
    "plan_factory_started": ("Factories started (m²)", "新开工标准厂房（m²）"),
    "plan_industry_scale_2026": ("Industry target 2026 (yuan)", "2026年产业规模目标（元）"),
    "xinhua_health_sector_2024": ("Industry scale 2024 (yuan)", "2024年产业规模（元）"),
}
MAP_HEIGHT = 500
# Headline tiles wrap their labels instead of cutting them ("New industrial lan..."), and the
# page starts higher, so the map is on the first screen at 1366x768.
PAGE_CSS = """<style>
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * { white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important; }
[data-testid="stMetricLabel"] p { font-size: 0.85rem; line-height: 1.25; }
[data-testid="stMetricValue"] { font-size: 1.6rem; }
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; }
h1 { font-size: 1.9rem !important; padding-bottom: 0.1rem !important; }
.st-key-structure { gap: 0.1rem !important; }
.st-key-structure [data-testid="stBaseButton-tertiary"] { min-height: 1.5rem; padding: 0; text-align: left; }
.st-key-structure [data-testid="stBaseButton-tertiary"] p { font-weight: 600; }
.st-key-structure [data-testid="stCaptionContainer"] p { margin-bottom: 0.35rem; font-size: 0.78rem; }
</style>"""


@st.cache_resource(show_spinner=False, max_entries=8)
def _search_index(parks_key: str, _data):
    del parks_key  # the cache key
    return build_index(parks=_data.parks, organisations=_data.organisations, districts=_data.districts,
                       hubs=_data.hubs, aliases=_data.aliases)


@st.cache_resource(show_spinner=False, max_entries=8)
def _area_notes(parks_key: str, lang: str, _data) -> dict[str, str]:
    """Each park's official area as its source gives it: qualifier, source and date."""
    del parks_key  # the cache key, with lang
    facts = _data.facts.set_index("fact_id")
    return {pid: f"{cached.fact_text(facts.loc[fid], lang)} ({cached.source_label(facts.loc[fid, 'source_id'])}, "
                 f"{facts.loc[fid, 'as_of']})"
            for pid, fid in zip(_data.parks["park_id"], _data.parks["area_fact_id"], strict=True)
            if fid in facts.index}


@st.cache_resource(show_spinner=False, max_entries=8)
def _structure(parks_key: str, _data):
    """The panel's hub -> parks -> specialisations, and where each park button moves the map."""
    del parks_key  # the cache key
    views = park_views(_data.parks, _data.districts)  # the park's outline, else (not drawn) its district
    lines = hub_structure(_data.hubs, _data.parks, _data.organisations)
    shown = {line.park_id: views[line.park_id] for hub in lines for line in hub.parks}
    return lines, shown


def _show(park_id: str | None, bounds) -> None:
    """Select ``park_id`` (if any) on every page and in the link, and move the map to ``bounds``
    (WGS84, if given): what a search pick, a click in the structure panel or the chooser does."""
    if park_id:
        st.session_state["parks_pick"] = park_id  # the Parks page opens on it
    if bounds is not None:
        st.session_state[session.MAP_VIEW] = view_for(bounds)
    session.select_park(park_id or st.session_state.get(session.SELECTED_PARK))


def _on_search() -> None:
    query = st.session_state.get("map_search", "")
    matches = search(_search_index(cached.parks_key(), cached.snapshot()), query)
    st.session_state["map_search_results"] = matches
    if matches:
        _show(matches[0].entry.park_id, matches[0].entry.bounds)


# The sidebar's and the filter's widgets are sent after the map: each needs its own lazily loaded
# frontend code, and the browser fetches those files (six at a time) in the order the elements
# arrive, so widgets sent first would delay the map component's code.
settings = session.settings(widgets=False)
lang = settings.lang

with session.sidebar_after(settings), session.friendly_errors(lang):
    data = cached.snapshot()
    st.markdown(PAGE_CSS, unsafe_allow_html=True)
    st.title(t("app_title", lang))
    st.caption(t("plan_caption", lang))

    # The tiles are filled after the map is sent, so the map component starts loading first.
    headline_box = st.container()

    used = used_specialisations(data.organisations["specialisations"], data.parks["specialisations"])
    if "cluster_specs" in st.session_state:  # from a link: only codes this snapshot uses
        st.session_state["cluster_specs"] = [c for c in st.session_state["cluster_specs"] if c in used]
    chosen = list(st.session_state.get("cluster_specs", []))

    orgs = data.organisations[specialisation_mask(data.organisations["specialisations"], chosen)]
    parks = data.parks[specialisation_mask(data.parks["specialisations"], chosen)]
    park_names = dict(zip(data.parks["park_id"], data.parks["name_zh" if lang == "zh" else "name_en"], strict=False))
    ids = set(data.parks["park_id"])
    if st.session_state.get(session.SELECTED_PARK) not in ids:
        st.session_state.pop(session.SELECTED_PARK, None)
    selected = st.session_state.get(session.SELECTED_PARK)
    labels = {pid: label for (kind, pid), label in map_labels(data.aliases, lang).items() if kind == "park"}
    parks_key = cached.parks_key()  # one read of the outline store per run
    area_notes = _area_notes(parks_key, lang, data)

    def build_map():
        fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key)
        # Opening view: every core hub and growth point whole (southern Daxing included).
        fmap.options["zoomSnap"] = 0.5
        fit_to(fmap, data.hubs, datum=settings.datum)
        districts_layer(data.districts_display, lang=lang, datum=settings.datum).add_to(fmap)
        parks_layer(parks, lang=lang, datum=settings.datum, selected=selected, area_notes=area_notes).add_to(fmap)
        organisations_layer(orgs, lang=lang, datum=settings.datum, park_names=park_names).add_to(fmap)
        hub_labels(data.hubs, lang=lang, datum=settings.datum).add_to(fmap)
        park_symbols(parks, orgs, lang=lang, datum=settings.datum, selected=selected, labels=labels,
                     area_notes=area_notes).add_to(fmap)
        maps.add_imported_layers(fmap, lang=lang, datum=settings.datum)
        Legend(lang=lang, symbols=True).add_to(fmap)
        LabelPlacer().add_to(fmap)
        ViewInAddress(datum=settings.datum).add_to(fmap)
        return fmap

    map_column, panel = st.columns([2.6, 1], gap="small")
    with map_column:
        # Imported layers live in the session only, so a map showing them is not shared.
        imported_names = maps.imported_layer_names()
        cache_key = None if imported_names else (
            parks_key, lang, settings.basemap, settings.tianditu_key, tuple(chosen), selected)
        view = st.session_state.get(session.MAP_VIEW)  # WGS84, from the map, a link or a pick
        clicked = maps.show_map(build_map, key="cluster_map", height=MAP_HEIGHT,
                                  returned_objects=["last_clicked", "last_active_drawing"],
                                  cache_key=cache_key, center=view_centre(view, datum=settings.datum) if view else None,
                                  zoom=view[2] if view else None)
        if imported_names:
            st.caption(t("imported_on_map", lang, names=markdown_text(", ".join(imported_names))))
        drawn = is_drawn(parks.geometry)
        at_site = int(orgs["location_tier"].isin(POINT_LOCATION_TIERS).sum())
        st.caption(f"{t('organisations_count', lang)}: "
                   + t("orgs_on_map_split", lang, site=at_site, park=len(orgs) - at_site)
                   + f" · {t('layer_parks', lang)}: {int(drawn.sum())} · " + t("click_park_hint", lang))
        if not drawn.all():
            st.caption(t("parks_not_drawn", lang,
                         names=markdown_text(", ".join(park_names[p] for p in parks.loc[~drawn, "park_id"]))))

    with panel:
        st.text_input(t("search", lang), key="map_search", on_change=_on_search,
                      placeholder=t("search_placeholder", lang))
        results = st.session_state.get("map_search_results")
        if results is not None and st.session_state.get("map_search"):
            if not results:
                st.caption(t("search_none", lang, query=markdown_text(st.session_state["map_search"])))
            else:
                top = results[0].entry
                st.caption(t("search_found", lang, name=markdown_text(top.name(lang)), kind=t(f"kind_{top.kind}", lang)))
                for i, match in enumerate(results[1:5]):
                    st.button(f"{match.entry.name(lang)} · {t(f'kind_{match.entry.kind}', lang)}",
                              key=f"search_pick_{i}", on_click=_show, args=(match.entry.park_id, match.entry.bounds),
                              type="tertiary")
        st.multiselect(t("filter_specialisation", lang), used, key="cluster_specs",
                       format_func=lambda c: term(SPECIALISATIONS[c], lang), placeholder=t("all", lang))
        st.markdown(f"**{t('structure_title', lang)}**")
        st.caption(t("structure_caption", lang))
        with st.container(height=300, border=False, key="structure"):
            hubs = data.hubs.set_index("hub_id")
            lines, shown_bounds = _structure(parks_key, data)
            for hub in lines:
                name = hubs.loc[hub.hub_id, "name_zh" if lang == "zh" else "name_en"]
                st.markdown(
                    f"<span style='color:{ROLE_COLOURS.get(hub.role, '#555')};font-weight:700'>{escape(name)}</span> "
                    f"<span style='color:#666;font-size:0.8rem'>· {escape(term(HUB_ROLES[hub.role], lang))} · "
                    f"{escape(t('layer_parks', lang))} {len(hub.parks)} · "
                    f"{escape(t('hub_orgs_in_parks', lang, n=hub.organisations))}</span>", unsafe_allow_html=True)
                if not hub.parks:
                    st.caption(t("structure_no_parks", lang))
                for line in hub.parks:
                    label = labels.get(line.park_id) or park_names[line.park_id]
                    label += f" · {line.organisations}" if line.organisations else ""
                    if not line.drawn:
                        note = t("structure_not_drawn", lang)
                        label += f"（{note}）" if lang == "zh" else f" ({note})"
                    st.button(label, key=f"structure_{line.park_id}", type="tertiary", on_click=_show,
                              args=(line.park_id, shown_bounds[line.park_id]))
                    if line.specialisations:
                        st.caption(" · ".join(term(SPECIALISATIONS[c], lang) + (f" {n}" if n else "")
                                              for c, n in line.specialisations))

    with headline_box:
        facts = data.facts.set_index("fact_id")
        headline = [f for f in HEADLINE_FACTS if f in facts.index]
        columns = st.columns(max(len(headline), 1))
        for column, fact_id in zip(columns, headline, strict=False):
            fact = facts.loc[fact_id]
            en, zh = HEADLINE_LABELS[fact_id]
            column.metric(zh if lang == "zh" else en,
                          format_compact(float(fact["value"]), str(fact["unit"]), lang,
                                         qualifier=str(fact["qualifier"]), with_unit=False),
                          help=f"{cached.fact_text(fact, lang)}\n\n{cached.fact_help(fact, lang)}", border=True)

    # A click on a park's symbol names the park; anywhere else (an outline, the map) the point is
    # looked up in the parks, and where parks nest the smallest containing it is picked.
    drawing = clicked.get("last_active_drawing") or {}
    point = clicked.get("last_clicked")
    symbol = (drawing.get("geometry") or {}).get("type") == "Point"
    park_of_symbol = (drawing.get("properties") or {}).get("park_id")
    picked = park_of_symbol if symbol and park_of_symbol in ids else None
    if picked is None and point and point.get("lng") is not None:
        lon, lat = convert([point["lng"]], [point["lat"]], source=settings.datum, target="wgs84")
        picked = park_at(parks, float(lon[0]), float(lat[0]))  # nested parks: the smallest, as drawn on top
    if picked is not None and picked != selected:
        _show(picked, None)
        st.rerun()

    if selected in ids:
        park = data.parks.set_index("park_id").loc[selected]
        with st.container(border=True):
            st.subheader(f"{t('selected_park', lang)}: {park_names[selected]}")
            # Nested or overlapping parks: each can be picked from here too.
            mates = overlapping_parks(data.parks, selected)
            if mates:
                st.caption(t("park_chooser", lang))
                for mate in mates:
                    st.button(park_names[mate], key=f"mate_{mate}", on_click=_show, args=(mate, None))
            st.write(f"{t('geometry_tier', lang)}: **{term(GEOMETRY_TIERS[park['geometry_tier']], lang)}** — "
                     f"{park['geometry_note']}")
            if selected in area_notes:
                st.write(f"{t('official_area', lang)}: **{markdown_text(area_notes[selected])}**")
            elif park["official_area_km2"] == park["official_area_km2"]:  # not NaN: the area is published
                st.write(f"{t('official_area', lang)}: **{format_quantity(park['official_area_km2'], 'km2', lang)}**")
            specs = ", ".join(term(SPECIALISATIONS[c], lang) for c in split_codes(park["specialisations"]))
            st.write(f"{t('specialisations', lang)}: {specs or '–'}")
            park_orgs = data.organisations[data.organisations["park_id"] == selected]
            at_park = park_orgs[park_orgs["location_tier"] == "park"]
            st.write(f"{t('park_orgs_count', lang, n=len(park_orgs))} "
                     f"({t('park_orgs_located', lang, park=len(at_park), site=len(park_orgs) - len(at_park))})")
            if len(at_park):
                st.caption(f"{t('park_orgs_listed', lang)}: " + markdown_text(
                    ", ".join(sorted(at_park["name_zh" if lang == "zh" else "name_en"]))))
            if st.button(t("open_park_page", lang), key="open_park"):
                st.session_state["parks_pick"] = selected
                st.switch_page("pages/parks.py")
