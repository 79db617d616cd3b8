"""Cluster map: the plan's "four core hubs and multiple growth points" at a glance."""

import numpy as np
import streamlit as st

from geo.datums import convert
from geo.joins import locate
from geo.shapes import is_drawn
from geo.vocab import GEOMETRY_TIERS, SPECIALISATIONS, split_codes
from layers.basemap import base_map
from layers.districts import districts_layer
from layers.hubs import hub_labels
from layers.html import markdown_text
from layers.i18n import format_compact, format_quantity, t, term
from layers.legend import Legend
from layers.organisations import organisations_layer
from layers.parks import parks_layer
from pages import common

HEADLINE_FACTS = ("plan_industrial_land", "plan_factory_completed", "plan_factory_started",
                  "plan_industry_scale_2026", "xinhua_health_sector_2024")
HEADLINE_LABELS = {
    "plan_industrial_land": ("New industrial land 2024-26 (mu)", "新增产业用地（亩）"),
    "plan_factory_completed": ("Factories completed (m²)", "建成标准厂房（m²）"),
    "plan_factory_started": ("Factories started (m²)", "新开工标准厂房（m²）"),
    "plan_industry_scale_2026": ("Industry target 2026 (yuan)", "2026年产业规模目标（元）"),
    "xinhua_health_sector_2024": ("Industry scale 2024 (yuan)", "2024年产业规模（元）"),
}

# The sidebar's and the filter's widgets are sent after the map: each needs its own lazily loaded
# frontend code, and the browser fetches those files (six at a time) in the order the elements
# arrive, so widgets sent first would delay the map component's code.
settings = common.settings(widgets=False)
lang = settings.lang

with common.sidebar_after(settings), common.friendly_errors(lang):
    data = common.snapshot()
    st.title(t("app_title", lang))
    st.caption("四个核心区 + 多点支撑 · Four core hubs and multiple growth points "
               "(Action Plan 2024-2026, item 30)")

    # The tiles are filled after the map is sent, so the map component starts loading first.
    headline_box = st.container()

    used = sorted({c for v in data.organisations["specialisations"] for c in split_codes(v)}
                  | {c for v in data.parks["specialisations"] for c in split_codes(v)})
    filter_box = st.container()
    chosen = [c for c in st.session_state.get("cluster_specs", []) if c in used]

    def has_any(values) -> np.ndarray:
        return np.array([not chosen or bool(set(split_codes(v)) & set(chosen)) for v in values], dtype=bool)

    orgs = data.organisations[has_any(data.organisations["specialisations"])]
    parks = data.parks[has_any(data.parks["specialisations"])]
    park_names = dict(zip(data.parks["park_id"], data.parks["name_zh" if lang == "zh" else "name_en"], strict=False))

    selected = st.session_state.get("selected_park")

    def build_map():
        fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key)
        districts_layer(data.districts_display, lang=lang, datum=settings.datum).add_to(fmap)
        parks_layer(parks, lang=lang, datum=settings.datum, selected=selected).add_to(fmap)
        organisations_layer(orgs, lang=lang, datum=settings.datum, park_names=park_names).add_to(fmap)
        hub_labels(data.hubs, lang=lang, datum=settings.datum).add_to(fmap)
        common.add_imported_layers(fmap, lang=lang, datum=settings.datum)
        Legend(lang=lang).add_to(fmap)
        return fmap

    imported_names = common.imported_layer_names()
    if imported_names:
        st.caption(t("imported_on_map", lang, names=markdown_text(", ".join(imported_names))))
    drawn = is_drawn(parks.geometry)
    st.caption(f"{t('organisations_count', lang)}: {len(orgs)} · {t('layer_parks', lang)}: {int(drawn.sum())} · "
               + t("click_park_hint", lang))
    if not drawn.all():
        st.caption(t("parks_not_drawn", lang,
                     names=markdown_text(", ".join(park_names[p] for p in parks.loc[~drawn, "park_id"]))))
    # Imported layers live in the session only, so a map showing them is not shared.
    cache_key = None if imported_names else (
        common.parks_key(), lang, settings.basemap, settings.tianditu_key, tuple(chosen), selected)
    clicked = common.show_map(build_map, key="cluster_map", returned_objects=["last_clicked"],
                              cache_key=cache_key)

    with filter_box:
        st.multiselect(t("filter_specialisation", lang), used, key="cluster_specs",
                       format_func=lambda c: term(SPECIALISATIONS[c], lang), placeholder=t("all", lang))

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
                          help=f"{common.fact_text(fact, lang)}\n\n{common.fact_help(fact, lang)}", border=True)

    point = clicked.get("last_clicked") if clicked else None
    if point and point.get("lng") is not None:
        lon, lat = convert([point["lng"]], [point["lat"]], source=settings.datum, target="wgs84")
        hit = locate(lon, lat, parks.geometry.values)[0]
        if hit >= 0:
            st.session_state["selected_park"] = parks["park_id"].iloc[hit]

    selected = st.session_state.get("selected_park")
    if selected in set(data.parks["park_id"]):
        park = data.parks.set_index("park_id").loc[selected]
        with st.container(border=True):
            st.subheader(f"{t('selected_park', lang)}: {park['name_zh'] if lang == 'zh' else park['name_en']}")
            st.write(f"{t('geometry_tier', lang)}: **{term(GEOMETRY_TIERS[park['geometry_tier']], lang)}** — "
                     f"{park['geometry_note']}")
            if park["official_area_km2"] == park["official_area_km2"]:  # not NaN: the area is published
                st.write(f"{t('official_area', lang)}: **{format_quantity(park['official_area_km2'], 'km2', lang)}**")
            specs = ", ".join(term(SPECIALISATIONS[c], lang) for c in split_codes(park["specialisations"]))
            st.write(f"{t('specialisations', lang)}: {specs or '–'}")
            park_orgs = data.organisations[data.organisations["park_id"] == selected]
            st.write(f"{t('organisations_count', lang)}: {len(park_orgs)}")
            if st.button(t("open_park_page", lang), key="open_park"):
                st.session_state["parks_pick"] = selected
                st.switch_page("pages/parks.py")
