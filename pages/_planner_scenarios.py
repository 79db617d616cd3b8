"""The Planner's scenario list (open, restore what was deleted) and the comparison of two scenarios."""

import hashlib

import pandas as pd
import streamlit as st

from geo.planner import compare, scenario_bounds
from geo.scenarios import MAX_NAME_CHARS, RETENTION_DAYS, ScenarioError, ScenarioStore
from layers.basemap import base_map
from layers.html import markdown_text
from layers.i18n import metric_label, t
from layers.parcels import parcels_layer
from pages import _map as maps
from pages._planner_cache import measured_scenario, name_maps
from pages._planner_state import SECOND_COLOUR, flash, open_scenario, tr, when


def scenarios_tab(store: ScenarioStore, lang: str) -> None:
    saved = store.list_scenarios()
    st.subheader(tr("scenarios_table", lang))
    if saved:
        unit_mu = "亩" if lang == "zh" else "mu"
        st.dataframe(pd.DataFrame({
            tr("scenario", lang): [s.name for s in saved], tr("parcels", lang): [s.parcels for s in saved],
            f"{t('area', lang)} ({unit_mu})": [round(s.area_mu, 2) if s.area_mu is not None else None for s in saved],
            f"{t('area', lang)} (m²)": [round(s.area_m2) if s.area_m2 is not None else None for s in saved],
            tr("last_change", lang): [when(s.updated_at) for s in saved],
            tr("author_short", lang): [s.author for s in saved], tr("version", lang): [s.version for s in saved],
        }), hide_index=True, width="stretch")
        c1, c2 = st.columns([3, 1])
        pick = c1.selectbox(tr("scenario", lang), [s.name for s in saved], key="planner_list_pick")
        if c2.button(tr("open", lang), key="planner_list_open"):
            open_scenario(pick)
            st.rerun()
    deleted = store.list_deleted()
    if deleted:
        st.markdown(f"**{tr('deleted_list', lang, days=RETENTION_DAYS)}**")
        for number, info in enumerate(deleted[:30]):
            c1, c2 = st.columns([3, 1])
            c1.caption(markdown_text(f"{info.name} · {info.parcels} · {when(info.deleted_at)}"))
            if c2.button(tr("restore", lang, name=info.name[:30]), key=f"planner_restore_{number}"):
                try:
                    restored, _ = store.restore(info.name)
                except ScenarioError:
                    restored, _ = store.restore(info.name, new_name=f"{info.name[:MAX_NAME_CHARS - 12]} (restored)")
                open_scenario(restored)
                flash("success", markdown_text(tr("restored", lang, name=restored)))
                st.rerun()


def compare_tab(store: ScenarioStore, data, settings, lang: str, parks: str) -> None:
    saved = [s.name for s in store.list_scenarios()]
    if len(saved) < 2:
        st.info(tr("need_two", lang))
        return
    c1, c2 = st.columns(2)
    first = c1.selectbox(tr("first", lang), saved, key="planner_compare_first")
    second = c2.selectbox(tr("second", lang), [s for s in saved if s != first], key="planner_compare_second")
    info_a, info_b = store.info(first), store.info(second)
    a, b = measured_scenario(store, info_a, data, parks), measured_scenario(store, info_b, data, parks)
    version_a, version_b = info_a.version, info_b.version
    names = name_maps(data, lang)
    for scope, column, label in (("district_id", "district", tr("per_district", lang)),
                                 ("hub_id", "hub", tr("per_hub", lang))):
        table = compare(a, b, by=scope)
        table["scope"] = table["scope"].map(lambda v: names[column].get(v, tr("unassigned", lang)))
        table["target"] = [metric_label(k, lang) for k in table["target"]]
        st.markdown(f"**{label}**")
        st.dataframe(table.rename(columns={"scope": tr("scope_" + column, lang), "target": tr("target", lang),
                                           "first": first, "second": second, "difference": tr("difference", lang)}),
                     hide_index=True, width="stretch")

    def build():
        fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key, zoom_start=10)
        parcels_layer(a, lang=lang, datum=settings.datum, names=names, labels=False, layer_name=first).add_to(fmap)
        parcels_layer(b, lang=lang, datum=settings.datum, names=names, labels=False, colour=SECOND_COLOUR,
                      layer_name=second).add_to(fmap)
        bounds = scenario_bounds(a, b)
        if bounds is not None:
            minx, miny, maxx, maxy = bounds
            fmap.fit_bounds([[miny, minx], [maxy, maxx]], max_zoom=15)
        return fmap

    key = "planner_compare_" + hashlib.sha256(f"{first}|{version_a}|{second}|{version_b}|{settings.basemap}|{lang}"
                                              .encode()).hexdigest()[:12]
    maps.show_map(build, key=key, height=420, cache_key=(key, str(store.path), parks))
