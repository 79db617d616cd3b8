"""Organisations: filter by kind, specialisation, park and hub; map, table and counts."""

import numpy as np
import pandas as pd
import streamlit as st

from geo.joins import assign_areas, compare_with_reported, count_by
from geo.workspace import specialisation_mask, used_specialisations
from geo.vocab import LOCATION_TIERS, ORGANISATION_KINDS, POINT_LOCATION_TIERS, SPECIALISATIONS, split_codes
from layers.basemap import base_map
from layers.figures import reported_comparison
from layers.html import markdown_text
from layers.i18n import t, term, translator
from layers.legend import Legend
from layers.organisations import organisations_layer
from layers.parks import parks_layer
from pages import _data as cached, _map as maps, _session as session

TEXT = {
    "counts": ("Counts", "统计"),
    "by_kind": ("By kind", "按类型"),
    "by_specialisation": ("By specialisation (an organisation counts once per field)", "按领域（一家机构可计入多个领域）"),
    "vs_reported": ("On the map vs reported enterprise counts", "地图统计与公开报道企业数对比"),
    "vs_note": ("The map holds a curated sample of named organisations; reported counts are totals from "
                "the sources. Both are shown, neither replaces the other.",
                "地图收录的是有名称、有出处的机构样本；公开报道数为来源中的总数。两者并列展示，互不替代。"),
    "joined_park": ("Park (by location)", "所在园区（按位置）"),
}


tr = translator(TEXT)


settings = session.settings()
lang = settings.lang

with session.friendly_errors(lang):
    data = cached.snapshot()
    orgs = data.organisations
    name_col = "name_zh" if lang == "zh" else "name_en"
    park_names = dict(zip(data.parks["park_id"], data.parks[name_col], strict=False))
    hub_names = dict(zip(data.hubs["hub_id"], data.hubs[name_col], strict=False))
    st.title(t("page_orgs", lang))

    placed = orgs.join(assign_areas(orgs, parks=data.parks, districts=data.districts, hubs=data.hubs))

    c1, c2, c3, c4 = st.columns(4)
    kinds = c1.multiselect(t("filter_kind", lang), sorted(set(orgs["kind"])), key="orgs_kinds",
                           format_func=lambda k: term(ORGANISATION_KINDS[k], lang), placeholder=t("all", lang))
    used_specs = used_specialisations(orgs["specialisations"])
    specs = c2.multiselect(t("filter_specialisation", lang), used_specs, key="orgs_specs",
                           format_func=lambda c: term(SPECIALISATIONS[c], lang), placeholder=t("all", lang))
    parks = c3.multiselect(t("filter_park", lang), list(park_names), key="orgs_parks",
                           format_func=park_names.get, placeholder=t("all", lang))
    hubs = c4.multiselect(t("filter_hub", lang), list(hub_names), key="orgs_hubs",
                          format_func=hub_names.get, placeholder=t("all", lang))

    keep = np.ones(len(placed), dtype=bool)
    if kinds:
        keep &= placed["kind"].isin(kinds).to_numpy()
    if specs:
        keep &= specialisation_mask(placed["specialisations"], specs)
    if parks:
        keep &= placed["park_id"].isin(parks).to_numpy()
    if hubs:
        keep &= placed["hub_id_joined"].isin(hubs).to_numpy()
    shown = placed[keep]
    at_site = int(shown["location_tier"].isin(POINT_LOCATION_TIERS).sum())
    # Only organisations with a site of their own are points; the others are counted on their park.
    st.caption(f"{t('organisations_count', lang)}: {len(shown)} / {len(orgs)} · "
               + t("orgs_on_map_split", lang, site=at_site, park=len(shown) - at_site))

    if shown.empty:
        st.info(t("no_results", lang))
    fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key, zoom_start=10)
    parks_layer(data.parks, lang=lang, datum=settings.datum).add_to(fmap)
    organisations_layer(shown, lang=lang, datum=settings.datum, park_names=park_names).add_to(fmap)
    imported_names = maps.add_imported_layers(fmap, lang=lang, datum=settings.datum)
    if imported_names:
        st.caption(t("imported_on_map", lang, names=markdown_text(", ".join(imported_names))))
    Legend(lang=lang, roles=False, expanded=False).add_to(fmap)
    maps.show_map(fmap, key="orgs_map", height=500)

    st.dataframe(pd.DataFrame({
        t("name", lang): shown[name_col],
        t("kind", lang): [term(ORGANISATION_KINDS[k], lang) for k in shown["kind"]],
        t("specialisations", lang): [", ".join(term(SPECIALISATIONS[c], lang) for c in split_codes(v))
                                     for v in shown["specialisations"]],
        t("park", lang): shown["park_id"].map(park_names),
        tr("joined_park", lang): shown["park_id_joined"].map(park_names),
        t("hub", lang): shown["hub_id_joined"].map(hub_names),
        t("location_tier", lang): [term(LOCATION_TIERS[v], lang) for v in shown["location_tier"]],
        t("address", lang): shown["address_zh"],
    }), hide_index=True, width="stretch")

    st.subheader(tr("counts", lang))
    left, right = st.columns(2)
    if not shown.empty:
        by_kind = count_by(shown, by="kind")
        by_kind["kind"] = [term(ORGANISATION_KINDS[k], lang) for k in by_kind["kind"]]
        left.markdown(f"**{tr('by_kind', lang)}**")
        left.bar_chart(by_kind.set_index("kind"), horizontal=True)
        spec_counts = count_by(shown.assign(all="all"), by="all", specialisations=True)
        spec_counts["specialisation"] = [term(SPECIALISATIONS[c], lang) for c in spec_counts["specialisation"]]
        right.markdown(f"**{tr('by_specialisation', lang)}**")
        right.bar_chart(spec_counts.set_index("specialisation")[["count"]], horizontal=True)

    st.markdown(f"**{tr('vs_reported', lang)}**")
    st.caption(tr("vs_note", lang))
    comparison = compare_with_reported(count_by(placed.dropna(subset=["park_id"]), by="park_id"),
                                       data.facts, subject_column="park_id", subject_type="park")
    st.dataframe(reported_comparison(comparison, park_names, data.sources, lang), hide_index=True, width="stretch")
