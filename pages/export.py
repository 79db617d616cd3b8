"""Export: layers (optionally filtered, or a planner scenario) as GeoJSON, GeoPackage or CSV; the facts
and sources tables; everything as one zip. The same functions as ``python -m geo export``."""

import streamlit as st

from geo.bundle import bundle_filename, export_bundle
from geo.export import (EXPORT_DATUMS, FORMATS, MEDIA_TYPES, TABLES, export_filename, export_frame,
                        export_layer, export_table)
from geo.imports import import_metadata
from geo.planner import export_scenario, export_scenario_filename
from geo.snapshot import GEO_LAYERS
from geo.vocab import SPECIALISATIONS
from geo.workspace import used_specialisations
from layers.i18n import FORMAT_LABELS, t, term, translator
from pages import _data as cached, _session as session

TEXT = {
    "layers": ("Layers", "图层"),
    "format": ("Format", "格式"),
    "datum": ("Coordinates", "坐标系"),
    "gcj_warning": ("GCJ-02 files are for Chinese map tools only; they are not WGS84 and not RFC 7946. "
                    "The file name and metadata say so, GeoPackages declare a custom GCJ-02 CRS (not EPSG:4326) "
                    "and CSV coordinate columns end in _gcj02.",
                    "GCJ-02文件仅用于国内地图工具，并非WGS84，也不符合RFC 7946；文件名和元数据中均已注明，"
                    "GeoPackage 声明自定义的 GCJ-02 坐标系（非 EPSG:4326），CSV 坐标列名以 _gcj02 结尾。"),
    "filter": ("Only organisations and parks in these specialisations", "仅导出以下领域的机构和园区"),
    "scenario": ("Add a planner scenario as a 'parcels' layer", "附加一个规划方案（地块图层）"),
    "none": ("(none)", "（无）"),
    "imports": ("Your imported layers (this session)", "本次会话导入的图层"),
    "download": ("Download {layer} ({n} features)", "下载 {layer}（{n}个要素）"),
    "carries": ("Every file carries the snapshot version, datum, licence and sources. CSV rows name their "
                "sources and licences by id: the sources and licences tables below describe each.",
                "每个文件均包含数据版本、坐标系、许可和来源信息。CSV 各行以编号注明来源和许可，下方的来源表和许可表逐一说明。"),
    "tables": ("Facts, sources and licences", "数据、来源与许可"),
    "facts": ("Download the facts table (every figure with qualifier, date, source and quote; {n} rows, CSV)",
              "下载数据表（每个数字及其限定、日期、来源和原文；{n}行，CSV）"),
    "sources": ("Download the sources table ({n} sources, CSV)", "下载来源表（{n}条来源，CSV）"),
    "licences": ("Download the licences table ({n} licences, CSV)", "下载许可表（{n}项许可，CSV）"),
    "all": ("Download all (zip): every layer ({fmt}), the facts, the sources, the licences and a README of "
            "the columns", "全部下载（zip）：所有图层（{fmt}）、数据表、来源表、许可表及字段说明"),
}


tr = translator(TEXT)


settings = session.settings()
lang = settings.lang

with session.friendly_errors(lang):
    data = cached.snapshot()
    st.title(t("page_export", lang))
    layer_labels = {"districts": t("layer_districts", lang), "hubs": t("layer_hubs", lang),
                    "parks": t("layer_parks", lang), "organisations": t("layer_orgs", lang)}
    chosen = st.multiselect(tr("layers", lang), list(GEO_LAYERS),
                            **session.kept_default("export_layers", ["parks", "organisations"]),
                            format_func=layer_labels.get, key="export_layers")
    fmt = st.radio(tr("format", lang), list(FORMATS), format_func=FORMAT_LABELS.get, horizontal=True,
                   key="export_format")
    datum = st.radio(tr("datum", lang), list(EXPORT_DATUMS), horizontal=True, key="export_datum",
                     format_func={"wgs84": "WGS84 (EPSG:4326)", "gcj02": "GCJ-02"}.get)
    if datum == "gcj02":
        st.warning(tr("gcj_warning", lang))
    used = used_specialisations(data.organisations["specialisations"], data.parks["specialisations"])
    specs = st.multiselect(tr("filter", lang), used, key="export_specs", placeholder=t("all", lang),
                           format_func=lambda c: term(SPECIALISATIONS[c], lang))
    store = cached.scenario_store(lang)  # None while the shared database is down: the layers still export
    scenarios = [s.name for s in store.list_scenarios()] if store is not None else []
    scenario = st.selectbox(tr("scenario", lang), [""] + scenarios, key="export_scenario",
                            format_func=lambda n: n or tr("none", lang))
    st.caption(tr("carries", lang))

    imported = st.session_state.get("imports", {})
    chosen_imports = st.multiselect(tr("imports", lang), list(imported), key="export_imports",
                                    placeholder=tr("none", lang)) if imported else []

    for layer in chosen:
        # The one layer export, as `python -m geo export LAYER --spec ...` writes it.
        exported = export_layer(data, layer, fmt=fmt, datum=datum, specialisations=specs)
        st.download_button(tr("download", lang, layer=layer_labels.get(layer, layer), n=exported.rows),
                           exported.data, file_name=exported.filename, mime=exported.media_type,
                           key=f"export_download_{layer}")
    if scenario:
        # The same export as the Planner's download and `python -m geo scenario export`: measured parcels.
        parcels, version = store.load(scenario)
        st.download_button(tr("download", lang, layer=f"{t('layer_parcels', lang)} · {scenario}", n=len(parcels)),
                           lambda: export_scenario(parcels, scenario=scenario, version=version, snapshot=data,
                                                   fmt=fmt, datum=datum).data,
                           file_name=export_scenario_filename(scenario, version=version, snapshot=data, fmt=fmt,
                                                              datum=datum),
                           mime=MEDIA_TYPES[fmt], key="export_download_parcels")
    for number, name in enumerate(chosen_imports):
        layer = imported[name]
        metadata = import_metadata(layer, snapshot_version=data.version)
        # Built on click: an imported layer can have 200,000 features.
        st.download_button(tr("download", lang, layer=name, n=len(layer.frame)),
                           lambda frame=layer.frame, metadata=metadata: export_frame(
                               frame, fmt=fmt, datum=datum, metadata=metadata).data,
                           file_name=export_filename(metadata, fmt=fmt, datum=datum), mime=MEDIA_TYPES[fmt],
                           key=f"export_download_import_{number}")

    st.subheader(tr("tables", lang))
    for table in TABLES:
        exported = export_table(data, table)  # as `python -m geo export facts` / `sources`
        st.download_button(tr(table, lang, n=exported.rows), exported.data, file_name=exported.filename,
                           mime=exported.media_type, key=f"export_download_{table}")
    # Built on click, as `python -m geo export all`: every layer, the facts, the sources, a README.
    st.download_button(tr("all", lang, fmt=FORMAT_LABELS[fmt]),
                       lambda: export_bundle(data, fmt=fmt, datum=datum).data,
                       file_name=bundle_filename(data, fmt=fmt, datum=datum), mime="application/zip",
                       key="export_download_all", type="primary")
