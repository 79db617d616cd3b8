"""Parks: one park's map, fact sheet and organisations; or 2-4 parks side by side."""

import pandas as pd
import streamlit as st

from geo.vocab import GEOMETRY_TIERS, ORGANISATION_KINDS, SPECIALISATIONS, split_codes
from layers.basemap import base_map
from layers.i18n import format_quantity, metric_label, t, term, translator
from layers.legend import Legend
from layers.organisations import organisations_layer
from layers.parks import parks_layer
from pages import common

TEXT = {
    "pick": ("Park", "园区"),
    "facts": ("Fact sheet", "数据一览"),
    "conflict": ("Sources disagree: every figure is shown with its source.",
                 "各来源数据不一致：全部列出并注明来源。"),
    "orgs": ("Organisations in this park", "园区内机构"),
    "compare": ("Compare parks", "园区对比"),
    "compare_pick": ("Pick 2-4 parks", "选择2至4个园区"),
    "compare_need": ("Pick at least two parks to compare.", "请至少选择两个园区。"),
    "no_facts": ("No figures recorded for this park yet.", "暂无该园区的数据。"),
    "reported_enterprises": ("Enterprises reported (latest)", "公开报道企业数（最新）"),
}


tr = translator(TEXT)


settings = common.settings()
lang = settings.lang

with common.friendly_errors(lang):
    data = common.snapshot()
    parks = data.parks
    names = dict(zip(parks["park_id"], parks["name_zh" if lang == "zh" else "name_en"], strict=False))
    st.title(t("page_parks", lang))

    ids = parks["park_id"].tolist()
    preselected = st.session_state.get("parks_selected")
    if preselected in ids and st.session_state.get("parks_pick") != preselected:
        st.session_state["parks_pick"] = preselected
    park_id = st.selectbox(tr("pick", lang), ids, format_func=names.get, key="parks_pick")
    st.session_state["parks_selected"] = park_id
    park = parks.set_index("park_id").loc[park_id]

    left, right = st.columns([3, 2])
    with left:
        minx, miny, maxx, maxy = park.geometry.bounds
        fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key,
                        location=((miny + maxy) / 2, (minx + maxx) / 2), zoom_start=13)
        parks_layer(parks, lang=lang, datum=settings.datum, selected=park_id).add_to(fmap)
        park_orgs = data.organisations[data.organisations["park_id"] == park_id]
        organisations_layer(park_orgs, lang=lang, datum=settings.datum, park_names=names).add_to(fmap)
        Legend(lang=lang, roles=False, expanded=False).add_to(fmap)
        common.show_map(fmap, key=f"park_map_{park_id}", height=480)
    with right:
        st.subheader(names[park_id])
        tier = GEOMETRY_TIERS[park["geometry_tier"]]
        st.markdown(f"**{t('geometry_tier', lang)}:** {term(tier, lang)}")
        st.caption(f"{tier.description_zh if lang == 'zh' else tier.description_en} {park['geometry_note']}")
        st.markdown(f"**{t('specialisations', lang)}:** " + ", ".join(
            term(SPECIALISATIONS[c], lang) for c in split_codes(park["specialisations"])))
        st.markdown(f"**{t('official_area', lang)}:** {format_quantity(park['official_area_km2'], 'km2', lang)}"
                    f" · {t('mapped_area', lang)}: {format_quantity(park['area_km2'], 'km2', lang)}")

    st.subheader(tr("facts", lang))
    facts = common.facts_for("park", park_id)
    if facts.empty:
        st.info(tr("no_facts", lang))
    else:
        if (facts.groupby("metric")["value"].nunique() > 1).any():
            st.warning(tr("conflict", lang))
        sheet = pd.DataFrame({
            t("metric", lang): [metric_label(m, lang) for m in facts["metric"]],
            t("value", lang): [common.fact_text(f, lang) for _, f in facts.iterrows()],
            t("as_of", lang): facts["as_of"],
            t("source", lang): [common.source_label(s) for s in facts["source_id"]],
            t("quote", lang): facts["quote"],
        }).sort_values([t("metric", lang), t("as_of", lang)])
        st.dataframe(sheet, hide_index=True, width="stretch")

    st.subheader(f"{tr('orgs', lang)} ({len(park_orgs)})")
    if len(park_orgs):
        st.dataframe(pd.DataFrame({
            t("name", lang): park_orgs["name_zh" if lang == "zh" else "name_en"],
            t("kind", lang): [term(ORGANISATION_KINDS[k], lang) for k in park_orgs["kind"]],
            t("specialisations", lang): [", ".join(term(SPECIALISATIONS[c], lang) for c in split_codes(v))
                                         for v in park_orgs["specialisations"]],
            t("location_tier", lang): park_orgs["location_tier"],
        }), hide_index=True, width="stretch")

    st.divider()
    st.subheader(tr("compare", lang))
    default = ids[:2]
    compared = st.multiselect(tr("compare_pick", lang), ids, default=default, max_selections=4,
                              format_func=names.get, key="parks_compare")
    if len(compared) < 2:
        st.info(tr("compare_need", lang))
    else:
        enterprise_facts = data.facts[(data.facts["subject_type"] == "park") & (data.facts["metric"] == "enterprises")]
        latest = enterprise_facts.sort_values("as_of").groupby("subject_id").last()
        rows = []
        for pid in compared:
            row = parks.set_index("park_id").loc[pid]
            rows.append({
                t("park", lang): names[pid],
                f"{t('official_area', lang)} (km²)": row["official_area_km2"],
                t("geometry_tier", lang): term(GEOMETRY_TIERS[row["geometry_tier"]], lang),
                t("organisations_count", lang): int((data.organisations["park_id"] == pid).sum()),
                tr("reported_enterprises", lang): (latest.loc[pid, "value"] if pid in latest.index else None),
                t("specialisations", lang): ", ".join(term(SPECIALISATIONS[c], lang)
                                                     for c in split_codes(row["specialisations"])),
            })
        table = pd.DataFrame(rows)
        st.dataframe(table, hide_index=True, width="stretch")
        chart = table.set_index(t("park", lang))[[f"{t('official_area', lang)} (km²)"]]
        st.bar_chart(chart, horizontal=True)
        st.bar_chart(table.set_index(t("park", lang))[[t("organisations_count", lang)]], horizontal=True)
