"""Parks: one park's map, fact sheet, site context and organisations; or 2-4 parks side by side."""

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.brief import find_cjk_font, park_brief
from geo.errors import GeoError
from geo.figures import dated_series, disagreements, park_headline_figures
from geo.shapes import is_drawn
from geo.selection import extent, park_views
from geo.site import park_isochrones, park_site_metrics
from geo.snapshot import Snapshot
from geo.vocab import GEOMETRY_TIERS, LOCATION_TIERS, ORGANISATION_KINDS, SPECIALISATIONS, split_codes
from layers.basemap import base_map
from layers.context import context_layer
from layers.districts import districts_layer
from layers.figures import (area_chart, comparison_table, enterprises_chart, organisations_chart,
                            series_chart)
from layers.html import markdown_text
from layers.i18n import format_quantity, metric_label, t, term, translator
from layers.isochrones import isochrones_layer, metrics_table, nearest_targets_layer
from layers.legend import Legend
from layers.organisations import organisations_layer
from layers.parks import parks_layer
from pages import _data as cached, _map as maps, _session as session

TEXT = {
    "pick": ("Park", "园区"),
    "facts": ("Fact sheet", "数据一览"),
    "conflict": ("Sources disagree on {figures}: every figure is shown with its source.",
                 "各来源数据不一致：{figures}。全部列出并注明来源。"),
    "orgs": ("Organisations in this park", "园区内机构"),
    "compare": ("Compare parks", "园区对比"),
    "compare_pick": ("Pick 2-4 parks", "选择2至4个园区"),
    "compare_need": ("Pick at least two parks to compare.", "请至少选择两个园区。"),
    "no_facts": ("No figures recorded for this park yet.", "暂无该园区的数据。"),
    "lower_bound": ("Figures marked 'more than' or 'at least' are lower bounds; dates and sources are in the "
                    "table and in each bar's tooltip.",
                    "标有“超过”“不少于”的数值为下限；时间与来源见表格及各柱的提示。"),
    "site": ("Site context", "区位条件"),
    "site_straight": ("Straight line (no street network loaded): distances to the NMPA centres and the airports. "
                      "Upload an OpenStreetMap extract on the OpenStreetMap page for metro stations, tertiary "
                      "hospitals and, with streets, travel times by road.",
                      "直线距离（未加载路网）：至国家药监局直属单位和机场的距离。在“开放街图”页上传数据后，"
                      "可加入地铁站、三级医院，含道路时还可计算行车时间。"),
    "site_context": ("Straight line (no street network loaded): destinations from the OpenStreetMap extract "
                     "“{name}”, the NMPA centres and the airports.",
                     "直线距离（未加载路网）：目的地来自开放街图数据“{name}”、国家药监局直属单位和机场。"),
    "site_road": ("By road on the street network of “{name}”: free-flow driving times, no congestion, "
                  "so real trips take longer. Areas reachable within 15 / 30 / 45 min are on the map.",
                  "基于“{name}”路网的道路行车时间（自由流，未计拥堵，实际耗时更长）。地图上显示15/30/45分钟等时圈。"),
    "load_streets": ("Load the street network", "加载路网"),
    "unload_streets": ("Use straight lines", "改用直线距离"),
    "loading_streets": ("Reading the street network…", "正在读取路网……"),
    "no_isochrones": ("No travel-time areas: {message}", "无法绘制等时圈：{message}"),
    "unlocated": ("{name} is not on the map: no source that can be cited gives its site or boundary, so the "
                  "map shows its district instead. Load an OpenStreetMap extract of the area on the "
                  "OpenStreetMap page, or an official boundary file, to place it.",
                  "{name}未上图：没有可引用的来源给出其位置或边界，地图改为显示其所在区。"
                  "可在“开放街图”页加载该区域的开放街图数据或官方边界文件为其上图。"),
    "site_unlocated": ("No site metrics: the park has no location yet.", "暂无区位指标：园区尚无位置。"),
    "not_published": ("not published", "未公布"),
    "not_stated": ("not stated by the sources", "来源未说明"),
    "brief": ("Park brief (PDF, A4)", "园区简报（PDF，A4）"),
    "brief_help": ("One page to take away: map, figures with their sources, organisations{context}. Made when you "
                   "click.", "一页纸简报：地图、注明来源的数据、机构{context}。点击时生成。"),
    "brief_context": (" and the site context from “{name}”", "以及来自“{name}”的周边配套"),
    "brief_unavailable": ("The park brief cannot be made here: {message}", "无法生成园区简报：{message}"),
}


tr = translator(TEXT)


@st.cache_data(show_spinner=False, max_entries=32)
def _site_metrics(park_id: str, parks_key: str, extract_key: str | None, streets: bool, _data: Snapshot,
                  _context: gpd.GeoDataFrame | None, _graph) -> pd.DataFrame:
    del parks_key, extract_key, streets  # cache keys (with park_id)
    return park_site_metrics(_data, park_id, context=_context, graph=_graph)


@st.cache_data(show_spinner=False, max_entries=16)
def _isochrones(park_id: str, parks_key: str, extract_key: str, _parks: gpd.GeoDataFrame, _graph) -> gpd.GeoDataFrame:
    del parks_key, extract_key  # cache keys (with park_id)
    return park_isochrones(_parks, park_id, _graph)


@st.cache_data(show_spinner=False, max_entries=32)
def _brief(park_id: str, lang: str, parks_key: str, extract_key: str | None, _data: Snapshot,
           _context: gpd.GeoDataFrame | None, context_name: str | None) -> bytes:
    del parks_key, extract_key  # cache keys (with park_id, lang and the extract's name)
    return park_brief(_data, park_id, lang=lang, context=_context, context_name=context_name)


def _street_network(extract: dict | None):
    """The loaded street graph of the session's extract (None if not loaded or not possible)."""
    if extract is None or not extract.get("data") or st.session_state.get(cached.OSM_STREETS) != extract["key"]:
        return None
    suffix = cached.street_suffix(extract["key"], extract["data"])
    if suffix is None:
        return None
    try:
        with st.spinner(tr("loading_streets", lang)):
            return cached.street_graph(extract["key"], suffix, extract["data"])
    except GeoError as exc:
        st.session_state.pop(cached.OSM_STREETS, None)
        st.error(markdown_text(str(exc)))
        return None


settings = session.settings()
lang = settings.lang

with session.friendly_errors(lang):
    data = cached.snapshot()
    parks = data.parks
    names = dict(zip(parks["park_id"], parks["name_zh" if lang == "zh" else "name_en"], strict=False))
    st.title(t("page_parks", lang))

    ids = parks["park_id"].tolist()
    # "parks_pick" is kept across pages (session.KEPT_WIDGETS); the cluster map's "open park" sets it.
    if st.session_state.get("parks_pick") not in ids:
        st.session_state.pop("parks_pick", None)
    park_id = st.selectbox(tr("pick", lang), ids, format_func=names.get, key="parks_pick")
    session.select_park(park_id)  # the park in the page address, and selected on the cluster map
    park = parks.set_index("park_id").loc[park_id]
    located = bool(is_drawn([park.geometry])[0])

    # Site context: from the OSM page's extract if there is one, else straight lines to what
    # the snapshot knows (NMPA centres) and the two airports.
    extract = cached.osm_extract()
    context = cached.osm_context(extract) if extract is not None else None
    graph = _street_network(extract) if located else None
    metrics = _site_metrics(park_id, cached.parks_key(), extract["key"] if extract else None, graph is not None,
                            data, context, graph) if located else None
    reachable = None
    if graph is not None:
        try:
            reachable = _isochrones(park_id, cached.parks_key(), extract["key"], parks, graph)
        except GeoError as exc:
            st.warning(markdown_text(tr("no_isochrones", lang, message=str(exc))))

    left, right = st.columns([3, 2])
    with left:
        district = data.districts[data.districts["district_id"] == park["district_id"]]
        minx, miny, maxx, maxy = park_views(parks, data.districts)[park_id] or extent(data.districts)
        fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key,
                        location=((miny + maxy) / 2, (minx + maxx) / 2),
                        zoom_start=13 if located and reachable is None else 11 if located else 10)
        if not located:
            st.info(tr("unlocated", lang, name=names[park_id]))
            districts_layer(district, lang=lang, datum=settings.datum).add_to(fmap)
        if reachable is not None:
            isochrones_layer(reachable, lang=lang, datum=settings.datum, origin_name=names[park_id]).add_to(fmap)
        parks_layer(parks, lang=lang, datum=settings.datum, selected=park_id).add_to(fmap)
        if context is not None:
            context_layer(context[context["park_id"] == park_id], lang=lang, datum=settings.datum,
                          park_names=names).add_to(fmap)
        if metrics is not None:
            nearest_targets_layer(metrics, lang=lang, datum=settings.datum).add_to(fmap)
        park_orgs = data.organisations[data.organisations["park_id"] == park_id]
        organisations_layer(park_orgs, lang=lang, datum=settings.datum, park_names=names).add_to(fmap)
        Legend(lang=lang, roles=False, expanded=False).add_to(fmap)
        maps.show_map(fmap, key=f"park_map_{park_id}", height=480)
    with right:
        st.subheader(names[park_id])
        tier = GEOMETRY_TIERS[park["geometry_tier"]]
        st.markdown(f"**{t('geometry_tier', lang)}:** {term(tier, lang)}")
        st.caption(f"{tier.description_zh if lang == 'zh' else tier.description_en} {park['geometry_note']}")
        st.markdown(f"**{t('specialisations', lang)}:** " + (", ".join(
            term(SPECIALISATIONS[c], lang) for c in split_codes(park["specialisations"]))
            or tr("not_stated", lang)))
        official = (format_quantity(park["official_area_km2"], "km2", lang)
                    if pd.notna(park["official_area_km2"]) else tr("not_published", lang))
        mapped = format_quantity(park["area_km2"], "km2", lang) if located else "–"
        st.markdown(f"**{t('official_area', lang)}:** {official} · {t('mapped_area', lang)}: {mapped}")
        try:
            find_cjk_font()
        except GeoError as exc:
            st.warning(markdown_text(tr("brief_unavailable", lang, message=str(exc))))
        else:
            context_words = (tr("brief_context", lang, name=markdown_text(extract["name"])) if context is not None
                             else "")
            st.download_button(
                tr("brief", lang), key="parks_brief", mime="application/pdf", icon=":material/picture_as_pdf:",
                file_name=f"brief_{park_id}_{lang}.pdf", help=tr("brief_help", lang, context=context_words),
                data=lambda: _brief(park_id, lang, cached.parks_key(), extract["key"] if extract else None, data,
                                    context, extract["name"] if extract else None))

    st.subheader(tr("site", lang))
    if metrics is None:
        st.caption(tr("site_unlocated", lang))
    elif graph is not None:
        st.caption(markdown_text(tr("site_road", lang, name=extract["name"])))
    elif extract is not None:
        st.caption(markdown_text(tr("site_context", lang, name=extract["name"])))
    else:
        st.caption(tr("site_straight", lang))
    if metrics is not None:
        st.dataframe(metrics_table(metrics, lang=lang), hide_index=True, width="stretch")
    if located and extract is not None and extract.get("data") and cached.street_suffix(extract["key"],
                                                                                          extract["data"]):
        if graph is None and st.button(tr("load_streets", lang), key="parks_load_streets"):
            st.session_state[cached.OSM_STREETS] = extract["key"]
            st.rerun()
        if graph is not None and st.button(tr("unload_streets", lang), key="parks_unload_streets"):
            st.session_state.pop(cached.OSM_STREETS, None)
            st.rerun()

    st.subheader(tr("facts", lang))
    facts = cached.facts_for("park", park_id)
    if facts.empty:
        st.info(tr("no_facts", lang))
    else:
        conflicts = disagreements(facts)
        if not conflicts.empty:
            st.warning(tr("conflict", lang, figures=", ".join(sorted(
                {f"{metric_label(m, lang)} ({d})" for m, d in zip(conflicts["metric"], conflicts["date"])}))))
        sheet = pd.DataFrame({
            t("metric", lang): [metric_label(m, lang) for m in facts["metric"]],
            t("value", lang): [cached.fact_text(f, lang) for _, f in facts.iterrows()],
            t("as_of", lang): facts["as_of"],
            t("source", lang): [cached.source_label(s) for s in facts["source_id"]],
            t("quote", lang): facts["quote"],
        }).sort_values([t("metric", lang), t("as_of", lang)])
        st.dataframe(sheet, hide_index=True, width="stretch")

        series = dated_series(facts)
        if series["date"].nunique() > 1:
            st.altair_chart(series_chart(series, names, data.sources, lang), width="stretch", theme=None)

    st.subheader(f"{tr('orgs', lang)} ({len(park_orgs)})")
    if len(park_orgs):
        # Organisations known only by their park are not points on the maps: they are listed here.
        at_park = int((park_orgs["location_tier"] == "park").sum())
        st.caption(t("park_orgs_located", lang, park=at_park, site=len(park_orgs) - at_park))
        st.dataframe(pd.DataFrame({
            t("name", lang): park_orgs["name_zh" if lang == "zh" else "name_en"],
            t("kind", lang): [term(ORGANISATION_KINDS[k], lang) for k in park_orgs["kind"]],
            t("specialisations", lang): [", ".join(term(SPECIALISATIONS[c], lang) for c in split_codes(v))
                                         for v in park_orgs["specialisations"]],
            t("location_tier", lang): [term(LOCATION_TIERS[k], lang) for k in park_orgs["location_tier"]],
        }), hide_index=True, width="stretch")

    st.divider()
    st.subheader(tr("compare", lang))
    compared = st.multiselect(tr("compare_pick", lang), ids, **session.kept_default("parks_compare", ids[:2]),
                              max_selections=4, format_func=names.get, key="parks_compare")
    if len(compared) < 2:
        st.info(tr("compare_need", lang))
    else:
        headline = park_headline_figures(data.facts, parks, compared)
        table = comparison_table(headline, names, data.sources, lang)
        chosen = parks.set_index("park_id").loc[compared]
        table[t("geometry_tier", lang)] = [term(GEOMETRY_TIERS[g], lang) for g in chosen["geometry_tier"]]
        table[t("specialisations", lang)] = [", ".join(term(SPECIALISATIONS[c], lang) for c in split_codes(v))
                                             or tr("not_stated", lang) for v in chosen["specialisations"]]
        st.dataframe(table, hide_index=True, width="stretch")
        st.caption(tr("lower_bound", lang))
        st.altair_chart(area_chart(headline, names, data.sources, lang), width="stretch", theme=None)
        st.altair_chart(enterprises_chart(headline, names, data.sources, lang), width="stretch", theme=None)
        series = dated_series(data.facts[(data.facts["subject_type"] == "park")
                                         & data.facts["subject_id"].isin(compared)])
        if series["date"].nunique() > 1:
            st.altair_chart(series_chart(series, names, data.sources, lang), width="stretch", theme=None)
        counts = pd.DataFrame({"park": [names[p] for p in compared],
                               "count": [int((data.organisations["park_id"] == p).sum()) for p in compared]})
        st.altair_chart(organisations_chart(counts, lang), width="stretch", theme=None)
