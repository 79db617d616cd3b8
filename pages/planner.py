"""Planner: draw or upload parcels, measure them, and track the plan's land and factory targets."""

import datetime as dt
import hashlib
import json

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.export import ExportMetadata, export_frame
from geo.planner import STATUSES, USES, measure_parcels, parcels_from_features, progress
from geo.scenarios import ScenarioConflictError, ScenarioError, ScenarioStore
from layers.basemap import base_map
from layers.i18n import format_quantity, t, translator
from layers.parcels import parcels_layer
from layers.parks import parks_layer
from pages import common

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
TEXT = {
    "title": ("Planner: land and factory space against the plan", "空间规划：产业用地与标准厂房目标"),
    "targets": ("Progress against the 2024-2026 targets (parcels in this scenario)",
                "2024—2026年目标完成情况（本方案地块）"),
    "draw_hint": ("Draw parcels with the polygon or rectangle tool; edit or delete them with the toolbar. "
                  "Each parcel is measured geodesically and assigned to its district, hub and park.",
                  "用多边形或矩形工具绘制地块，可用工具栏编辑或删除。每个地块按椭球面计算面积，并匹配所在区、核心区和园区。"),
    "upload": ("Upload parcels (GeoJSON)", "上传地块（GeoJSON）"),
    "upload_datum": ("Coordinates of the uploaded file", "上传文件的坐标系"),
    "parcels": ("Parcels", "地块"),
    "none_yet": ("No parcels yet: draw one on the map or upload a file.", "尚无地块：请在地图上绘制或上传文件。"),
    "scenario": ("Scenario", "方案"),
    "scenario_name": ("Scenario name", "方案名称"),
    "save": ("Save as", "另存为"),
    "active": ("Editing scenario '{name}' (version {version}); every change is saved.",
               "正在编辑方案“{name}”（第{version}版），所有修改自动保存。"),
    "new": ("New empty scenario", "新建空白方案"),
    "load": ("Load", "载入"),
    "saved": ("Saved '{name}' (version {version}).", "已保存“{name}”（第{version}版）。"),
    "loaded": ("Loaded '{name}' (version {version}).", "已载入“{name}”（第{version}版）。"),
    "store_at": ("Scenarios are stored in {path} (set PHARMA_MAP_DATA_DIR to move them).",
                 "方案保存在 {path}（可通过环境变量 PHARMA_MAP_DATA_DIR 修改）。"),
    "by_hub": ("Totals per hub", "分核心区统计"),
    "download": ("Download parcels (GeoJSON)", "下载地块（GeoJSON）"),
    "too_big": ("The file is {size:,} bytes; the limit is {limit:,} bytes.", "文件大小为{size:,}字节，上限为{limit:,}字节。"),
    "clear": ("Clear all parcels", "清空地块"),
    "target_new_industrial_land": ("New industrial land", "新增产业用地"),
    "target_standard_factory_completed": ("Standard factories completed", "建成标准厂房"),
    "target_standard_factory_started": ("Standard factories started (under construction)", "新开工标准厂房（在建）"),
    "repaired": ("Repaired before measuring: {message}", "量算前已修复：{message}"),
    "status": ("Status", "状态"),
    "use": ("Use", "用途"),
    "floor_given": ("Floor area given (m²)", "已知建筑面积（m²）"),
    "plot_ratio": ("Plot ratio", "容积率"),
    "floor_used": ("Floor area counted (m²)", "计入建筑面积（m²）"),
}
STATUS_LABELS = {"planned": ("planned", "规划"), "under_construction": ("under construction", "在建"),
                 "completed": ("completed", "建成")}
USE_LABELS = {"industrial_land": ("industrial land", "产业用地"), "standard_factory": ("standard factory", "标准厂房"),
              "other": ("other", "其他")}


tr = translator(TEXT)


def active_scenario() -> str | None:
    """The scenario being edited lives in the URL (?scenario=...), so a reload keeps it; the session
    remembers it too, since moving to another page drops the URL's parameters."""
    name = st.query_params.get("scenario") or None
    if name is None and st.session_state.get("planner_scenario"):
        name = st.session_state["planner_scenario"]
        st.query_params["scenario"] = name
    st.session_state["planner_scenario"] = name
    return name


def load_active(store: ScenarioStore) -> tuple[gpd.GeoDataFrame, int | None]:
    name = active_scenario()
    if name is None:
        return parcels_from_features([]), None
    try:
        return store.load(name)
    except ScenarioError:
        return parcels_from_features([]), None


def save_active(store: ScenarioStore, parcels: gpd.GeoDataFrame, version: int | None) -> None:
    """Every change is saved at once; a change based on an outdated version is refused."""
    name = active_scenario()
    if name is None:
        name = "draft " + dt.datetime.now().strftime("%Y-%m-%d %H.%M.%S")
        version = None
    try:
        store.save(name, parcels, expected_version=version)
    except ScenarioConflictError as exc:
        st.session_state["planner_flash"] = ("error", str(exc))
        return
    st.query_params["scenario"] = name


settings = common.settings()
lang = settings.lang

with common.friendly_errors(lang):
    data = common.snapshot()
    store = ScenarioStore()
    st.title(tr("title", lang))
    flash = st.session_state.pop("planner_flash", None)
    if flash:
        getattr(st, flash[0])(flash[1])

    parcels, version = load_active(store)
    if active_scenario() and version is not None:
        st.caption(tr("active", lang, name=active_scenario(), version=version))

    # Saved parcels are shown as a layer; the Draw tool adds new ones. Every change gives the map
    # a new key, so the drawing layer starts empty and nothing is counted twice.
    st.caption(tr("draw_hint", lang))
    measured = (measure_parcels(parcels, parks=data.parks, districts=data.districts, hubs=data.hubs)
                if not parcels.empty else None)
    fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key, zoom_start=10)
    parks_layer(data.parks, lang=lang, datum=settings.datum).add_to(fmap)
    if measured is not None:
        parcels_layer(measured, lang=lang, datum=settings.datum).add_to(fmap)
        minx, miny, maxx, maxy = measured.total_bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]], max_zoom=15)
    folium.plugins.Draw(
        export=False, position="topleft",
        draw_options={"polyline": False, "circle": False, "marker": False, "circlemarker": False,
                      "polygon": {"allowIntersection": False, "showArea": False}, "rectangle": True},
        edit_options={"edit": False, "remove": False},
    ).add_to(fmap)
    map_key = "planner_map_" + hashlib.sha256(
        f"{active_scenario()}|{version}|{settings.datum}|{lang}".encode()).hexdigest()[:10]
    result = common.show_map(fmap, key=map_key, height=520, returned_objects=["all_drawings"])
    drawings = (result or {}).get("all_drawings")
    if drawings:
        added = parcels_from_features(drawings, datum=settings.datum)
        save_active(store, pd.concat([parcels, added], ignore_index=True), version)
        st.rerun()

    with st.expander(tr("upload", lang)):
        datum = st.radio(tr("upload_datum", lang), ["wgs84", "gcj02"], horizontal=True, key="planner_upload_datum",
                         format_func={"wgs84": "WGS84", "gcj02": "GCJ-02"}.get)
        upload = st.file_uploader(tr("upload", lang), type=["geojson", "json"], key="planner_upload")
        if upload is not None and st.session_state.get("planner_upload_seen") != upload.file_id:
            st.session_state["planner_upload_seen"] = upload.file_id
            raw = upload.getvalue()
            if len(raw) > MAX_UPLOAD_BYTES:
                st.error(tr("too_big", lang, size=len(raw), limit=MAX_UPLOAD_BYTES))
            else:
                try:
                    document = json.loads(raw.decode("utf-8"))
                    features = document.get("features", []) if isinstance(document, dict) else []
                    added = parcels_from_features(features, datum=datum)
                    save_active(store, pd.concat([parcels, added], ignore_index=True), version)
                    st.rerun()
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    st.error(t("error_generic", lang, message=f"not a GeoJSON file ({exc})"))

    st.subheader(f"{tr('parcels', lang)} ({len(parcels)})")
    if measured is None:
        st.info(tr("none_yet", lang))
    else:
        repairs = measured.attrs.get("repairs")
        if repairs:
            st.warning(tr("repaired", lang, message=repairs.message()))
        name_col = "name_zh" if lang == "zh" else "name_en"
        hub_names = dict(zip(data.hubs["hub_id"], data.hubs[name_col], strict=False))
        park_names = dict(zip(data.parks["park_id"], data.parks[name_col], strict=False))
        district_names = dict(zip(data.districts["district_id"], data.districts[name_col], strict=False))
        table = pd.DataFrame({
            "parcel_id": measured["parcel_id"], "name": measured["name"], "status": measured["status"],
            "use": measured["use"], "floor_area_m2": measured["floor_area_m2"],
            "plot_ratio": measured["plot_ratio"],
            "area_m2": measured["area_m2"], "area_ha": measured["area_ha"], "area_mu": measured["area_mu"],
            "floor_area_effective_m2": measured["floor_area_effective_m2"],
            "district": measured["district_id"].map(district_names),
            "hub": measured["hub_id"].map(hub_names), "park": measured["park_id"].map(park_names),
        })
        edited = st.data_editor(
            table, key=f"planner_table_{map_key}", hide_index=True, width="stretch",
            num_rows="delete",
            disabled=["parcel_id", "area_m2", "area_ha", "area_mu", "floor_area_effective_m2",
                      "district", "hub", "park"],
            column_config={
                "parcel_id": st.column_config.TextColumn("ID"),
                "name": st.column_config.TextColumn(t("name", lang)),
                "status": st.column_config.SelectboxColumn(tr("status", lang), options=list(STATUSES), required=True),
                "use": st.column_config.SelectboxColumn(tr("use", lang), options=list(USES), required=True),
                "floor_area_m2": st.column_config.NumberColumn(tr("floor_given", lang), min_value=0.0, format="%.0f"),
                "plot_ratio": st.column_config.NumberColumn(tr("plot_ratio", lang), min_value=0.0, max_value=20.0,
                                                            format="%.2f"),
                "area_m2": st.column_config.NumberColumn(f"{t('area', lang)} (m²)", format="%.0f"),
                "area_ha": st.column_config.NumberColumn(f"{t('area', lang)} (ha)", format="%.2f"),
                "area_mu": st.column_config.NumberColumn(f"{t('area', lang)} ({'亩' if lang == 'zh' else 'mu'})",
                                                         format="%.2f"),
                "floor_area_effective_m2": st.column_config.NumberColumn(tr("floor_used", lang), format="%.0f"),
                "district": st.column_config.TextColumn(t("district", lang)),
                "hub": st.column_config.TextColumn(t("hub", lang)),
                "park": st.column_config.TextColumn(t("park", lang)),
            })
        for _, row in measured.iterrows():
            st.text(f"{row['name']}: {format_quantity(row['area_mu'], 'mu', lang)} · "
                    f"{format_quantity(row['area_ha'], 'ha', lang)} · {format_quantity(row['area_m2'], 'm2', lang)}"
                    f" · {district_names.get(row['district_id'], '-')} · {hub_names.get(row['hub_id'], '-')}")
        editable = ["parcel_id", "name", "status", "use", "floor_area_m2", "plot_ratio"]
        if not edited[editable].reset_index(drop=True).equals(table[editable].reset_index(drop=True)):
            updated = parcels.set_index("parcel_id").loc[edited["parcel_id"]].reset_index()
            for column in editable[1:]:
                updated[column] = edited[column].to_numpy()
            save_active(store, gpd.GeoDataFrame(updated, geometry="geometry", crs=4326), version)
            st.rerun()

    st.subheader(tr("targets", lang))
    facts = data.facts.set_index("fact_id")
    source = measured if measured is not None else pd.DataFrame(
        {"use": [], "status": [], "area_mu": [], "floor_area_effective_m2": []})
    for _, row in progress(source).iterrows():
        achieved = format_quantity(row["achieved"], row["unit"], lang)
        if row["fact_id"] in facts.index:
            fact = facts.loc[row["fact_id"]]
            target, cited = common.fact_text(fact, lang), common.fact_help(fact, lang).split("\n")[0]
        else:
            target, cited = format_quantity(row["target_value"], row["unit"], lang), row["fact_id"]
        st.progress(min(float(row["share"]), 1.0),
                    text=f"{tr('target_' + row['target'], lang)}: {achieved} / {target} ({row['share']:.1%})")
        st.caption(cited)
    if measured is not None:
        st.markdown(f"**{tr('by_hub', lang)}**")
        by_hub = progress(measured, by="hub_id")
        by_hub["scope"] = by_hub["scope"].map(lambda h: hub_names.get(h, h))
        by_hub["target"] = [tr("target_" + k, lang) for k in by_hub["target"]]
        st.dataframe(by_hub.pivot(index="scope", columns="target", values="achieved"), width="stretch")

    st.subheader(tr("scenario", lang))
    st.caption(tr("store_at", lang, path=str(store.path)))
    left, right = st.columns(2)
    with left:
        name = st.text_input(tr("scenario_name", lang), key="planner_save_name", max_chars=80)
        if st.button(tr("save", lang), key="planner_save", disabled=not name.strip() or parcels.empty):
            try:
                saved_version = store.save(name, parcels, expected_version=None)
                st.query_params["scenario"] = name.strip()
                st.session_state["planner_flash"] = ("success", tr("saved", lang, name=name.strip(),
                                                                   version=saved_version))
                st.rerun()
            except ScenarioConflictError as exc:
                st.error(str(exc))
    with right:
        saved = store.list_scenarios()
        if saved:
            names = [s.name for s in saved]
            pick = st.selectbox(tr("scenario", lang), names, key="planner_pick",
                                format_func=lambda n: f"{n} (v{saved[names.index(n)].version}, "
                                                      f"{saved[names.index(n)].parcels})")
            if st.button(tr("load", lang), key="planner_load"):
                st.query_params["scenario"] = pick
                st.rerun()
        if st.button(tr("new", lang), key="planner_new"):
            st.session_state.pop("planner_scenario", None)
            st.query_params.clear()
            st.rerun()
    if measured is not None:
        exported = export_frame(measured, fmt="geojson", metadata=ExportMetadata(
            layer=f"parcels_{active_scenario() or 'draft'}", snapshot_version=data.version),
            id_column="parcel_id")
        st.download_button(tr("download", lang), exported.data, file_name=exported.filename,
                           mime=exported.media_type, key="planner_download")
