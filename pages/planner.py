"""Planner: draw, upload and edit parcels, manage scenarios, and track the plan's land and
factory-space targets per district and hub."""

import datetime as dt
import hashlib
from collections import OrderedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo.errors import GeoError, ImportRefusedError
from geo.export import FORMATS, MEDIA_TYPES
from geo.imports import inspect_upload
from geo.parcels import (STATUSES, USES, ParcelIntake, apply_map_edits, fix_parcels, intake_features,
                         intake_upload, suggest_name_column)
from geo.planner import (TARGETS, GeometryMeasures, compare, export_scenario, export_scenario_filename, geometry_key,
                         measure_geometries, measure_parcels, overlap_table, progress, scenario_bounds, totals)
from geo.scenarios import MAX_NAME_CHARS, RETENTION_DAYS, ScenarioError, ScenarioInfo, ScenarioStore
from geo.tables import INPUT_DATUMS
from geo.vocab import PARCEL_PROBLEMS
from layers.basemap import base_map
from layers.html import markdown_text
from layers.i18n import format_number, format_quantity, metric_label, parcel_label, t, term, term_of, translator
from layers.parcels import ParcelLegend, ParcelsLayer, parcel_draw_control, parcels_layer
from layers.parks import parks_layer
from pages import _data as cached, _map as maps, _session as session

TEXT = {
    "title": ("Planner: land and factory space against the plan", "空间规划：产业用地与标准厂房目标"),
    "editing": ("Editing “{name}” · version {version} · last change {when}{author}. Every change is saved at once.",
                "正在编辑“{name}” · 第{version}版 · 最近修改 {when}{author}。所有修改即时保存。"),
    "by": (" by {author}", "，作者 {author}"),
    "not_yet": ("There is no scenario “{name}” (yet): your first parcels create it. It may have been deleted "
                "(see the Scenarios tab) or renamed.",
                "尚无方案“{name}”：绘制或上传的第一个地块将创建它。该方案也可能已被删除（见“方案”标签页）或重命名。"),
    "no_scenario": ("No scenario open: draw or upload parcels and a scenario named “{name}” is created "
                    "(change the name below), or open one.",
                    "尚未打开方案：绘制或上传地块后将自动创建名为“{name}”的方案（可在下方修改名称），或打开已有方案。"),
    "scenario": ("Scenario", "方案"),
    "new": ("New scenario", "新建方案"),
    "new_name": ("Name of the new scenario", "新方案名称"),
    "undo": ("Undo last change", "撤销上一步"),
    "undone": ("Undone: back to the previous version (now version {version}).", "已撤销，恢复到上一版本（现为第{version}版）。"),
    "manage": ("Rename, duplicate, delete, author", "重命名、复制、删除、作者"),
    "rename_to": ("New name", "新名称"),
    "rename": ("Rename", "重命名"),
    "renamed": ("Renamed to “{name}”.", "已重命名为“{name}”。"),
    "duplicate": ("Duplicate", "复制"),
    "duplicated": ("Copied to “{name}”; you are now editing the copy.", "已复制为“{name}”，现在编辑的是副本。"),
    "copy_suffix": (" (copy)", "（副本）"),
    "delete": ("Delete this scenario", "删除此方案"),
    "delete_confirm": ("Yes, delete it (it can be restored for {days} days)", "确认删除（{days}天内可恢复）"),
    "deleted": ("Deleted “{name}”; restore it from the Scenarios tab within {days} days.",
                "已删除“{name}”，{days}天内可在“方案”标签页恢复。"),
    "author": ("Author (kept with the scenario)", "作者（随方案保存）"),
    "author_short": ("Author", "作者"),
    "tab_map": ("Map and parcels", "地图与地块"),
    "tab_progress": ("Progress against the plan", "目标完成情况"),
    "tab_scenarios": ("Scenarios", "方案"),
    "tab_compare": ("Compare two scenarios", "方案对比"),
    "draw_hint": ("Draw parcels with the polygon or rectangle tool (first toolbar group). To move vertices use the "
                  "edit tool, to delete parcels the bin (second group), then press “Save” next to it. Click a parcel "
                  "for its measurements. Each parcel is measured on the ellipsoid and placed in its district, hub "
                  "and park.",
                  "用多边形或矩形工具（第一组按钮）绘制地块；用编辑工具移动顶点、用垃圾桶删除地块（第二组按钮），然后点击旁边的"
                  "“Save”保存。点击地块查看量算结果。每个地块按椭球面计算面积，并匹配所在区、核心区和园区。"),
    "map_changed": ("Map: {added} added, {edited} reshaped, {deleted} deleted.", "地图：新增{added}个，修改形状{edited}个，删除{deleted}个。"),
    "upload": ("Upload parcels (GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ, CSV/XLSX with WKT)",
               "上传地块（GeoJSON、GeoPackage、Shapefile压缩包、KML/KMZ、含WKT的CSV/XLSX）"),
    "file_datum": ("Coordinate system of the file", "文件坐标系"),
    "as_declared": ("As the file declares (GeoJSON/KML: WGS84)", "按文件声明（GeoJSON/KML为WGS84）"),
    "suggested": ("Suggested: {datum} ({why})", "建议：{datum}（{why}）"),
    "name_column": ("Parcel names from column", "地块名称列"),
    "no_name_column": ("(numbers only)", "（仅编号）"),
    "corners": ("Corner points: one row per corner, parcels named by column",
                "角点表：每行一个角点，按此列分组命名地块"),
    "no_corners": ("(not corner points: WKT or one geometry per row)", "（非角点表：WKT或每行一个图形）"),
    "add_from_file": ("Add the file's parcels", "加入文件中的地块"),
    "added": ("Added {n} parcel(s) to “{name}”.", "已将{n}个地块加入“{name}”。"),
    "nothing_added": ("No parcel was added.", "没有加入任何地块。"),
    "refused": ("{n} parcel(s) were not added:", "{n}个地块未加入："),
    "repaired": ("Repaired before measuring:", "量算前已修复："),
    "looks_swapped": ("The coordinates look like (latitude, longitude). If every parcel in the file is written "
                      "that way, tick the box below; otherwise add the file and fix the parcels it names.",
                      "坐标看起来是（纬度, 经度）。如果文件中所有地块都是这样，请勾选下方选项；否则直接加入，再修复被指出的地块。"),
    "swap_all": ("The file's coordinates are (latitude, longitude): swap the axes",
                 "文件坐标为（纬度, 经度）：交换坐标轴"),
    "swap_fix": ("Swap the axes of {rows} and add them", "交换{rows}的坐标轴后加入"),
    "problems": ("{n} parcel(s) in this scenario cannot be measured; the rest of the scenario is measured "
                 "without them.", "本方案中有{n}个地块无法量算，其余地块照常量算。"),
    "fix_swap": ("Swap axes", "交换坐标轴"),
    "fix_datum": ("Read its coordinates as", "按以下坐标系读取"),
    "fix_convert": ("Convert", "转换"),
    "fix_delete": ("Delete", "删除"),
    "fixed": ("Fixed parcel {label}.", "已修复地块{label}。"),
    "parcels": ("Parcels", "地块"),
    "none_yet": ("No parcels yet: draw one on the map or upload a file.", "尚无地块：请在地图上绘制或上传文件。"),
    "total_land": ("Land (overlaps counted once)", "用地面积（重叠只计一次）"),
    "overlap": ("Overlap", "重叠面积"),
    "overlaps_found": ("{n} overlap(s) between parcels: {mu} counted once in the totals.",
                       "地块之间有{n}处重叠：合计中只计一次，重叠面积{mu}。"),
    "overlaps_listed": ("The {shown} largest of {n} overlaps; the table below and the download give each parcel's "
                        "overlaps.", "列出{n}处重叠中面积最大的{shown}处；下表及下载文件列出每个地块的全部重叠地块。"),
    "overlap_a": ("Parcel", "地块"),
    "overlap_b": ("overlaps parcel", "与地块"),
    "floor_given": ("Floor area given (m²)", "已知建筑面积（m²）"),
    "plot_ratio": ("Plot ratio", "容积率"),
    "floor_used": ("Floor area counted (m²)", "计入建筑面积（m²）"),
    "counted": ("Counted (mu)", "计入（亩）"),
    "overlaps_with": ("Overlaps", "重叠地块"),
    "park_share": ("Share in park", "位于园区内比例"),
    "number": ("No.", "编号"),
    "targets": ("Progress against the 2024-2026 city targets (parcels in this scenario)",
                "2024—2026年全市目标完成情况（本方案地块）"),
    "target_sources": ("Targets: {source}. Land counts industrial land and standard-factory parcels (overlaps "
                       "once); factory space counts floor area of standard-factory parcels completed or under "
                       "construction (given, else land × plot ratio).",
                       "目标来源：{source}。产业用地计入产业用地及标准厂房地块（重叠只计一次）；厂房面积计入已建成或在建的标准厂房"
                       "地块建筑面积（已知值，否则按用地×容积率）。"),
    "per_district": ("Per district", "分区"),
    "per_hub": ("Per hub", "分核心区/多点"),
    "nothing_counted": ("Nothing counted towards this target in this scenario yet ({value}).",
                        "本方案尚无计入该目标的地块（{value}）。"),
    "chart_title": ("{target} per {scope} (city target: {value})", "各{scope}{target}（全市目标：{value}）"),
    "scope_district": ("district", "区"),
    "scope_hub": ("hub", "核心区/多点"),
    "unassigned": ("outside every district", "不在任何区内"),
    "download": ("Download the parcels with their measurements", "下载地块及量算结果"),
    "format": ("Format", "格式"),
    "scenarios_table": ("Every scenario", "全部方案"),
    "open": ("Open", "打开"),
    "last_change": ("Last change", "最近修改"),
    "version": ("Version", "版本"),
    "deleted_list": ("Deleted scenarios (restorable for {days} days)", "已删除的方案（{days}天内可恢复）"),
    "restore": ("Restore “{name}”", "恢复“{name}”"),
    "restored": ("Restored “{name}”.", "已恢复“{name}”。"),
    "first": ("First scenario", "方案一"),
    "second": ("Second scenario", "方案二"),
    "need_two": ("Save at least two scenarios to compare them.", "至少需要两个方案才能对比。"),
    "difference": ("Second − first", "方案二 − 方案一"),
    "target": ("Target", "目标"),
}
FORMAT_LABELS = {"geojson": "GeoJSON (RFC 7946)", "gpkg": "GeoPackage", "csv": "CSV"}
SECOND_COLOUR = "#8e44ad"

tr = translator(TEXT)


# ------------------------------------------------------------------ state

def current_name() -> str | None:
    """The scenario being edited lives in the URL (?scenario=...), so a reload keeps it; the session
    remembers it too, since moving to another page drops the URL's parameters."""
    name = st.query_params.get("scenario") or None
    if name is None and st.session_state.get("planner_scenario"):
        name = st.session_state["planner_scenario"]
        st.query_params["scenario"] = name
    st.session_state["planner_scenario"] = name
    return name


def open_scenario(name: str | None) -> None:
    st.session_state["planner_scenario"] = name
    if name:
        st.query_params["scenario"] = name
    elif "scenario" in st.query_params:
        del st.query_params["scenario"]


def flash(level: str, text: str, *, slot: str = "top") -> None:
    """A message for the next run, shown in ``slot``: "top" (under the scenario bar) or "upload"
    (beside the upload button, where the user is looking)."""
    st.session_state.setdefault(f"planner_flash_{slot}", []).append((level, text))


def show_flash(slot: str = "top") -> None:
    for level, text in st.session_state.pop(f"planner_flash_{slot}", []):
        getattr(st, level)(text)


def when(timestamp: str | None) -> str:
    """'2026-11-28 10:35 UTC' from a stored ISO timestamp."""
    return (timestamp or "")[:16].replace("T", " ") + (" UTC" if timestamp else "")


def default_new_name(lang: str) -> str:
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"方案 {stamp}" if lang == "zh" else f"Scenario {stamp}"


def report_intake(intake: ParcelIntake, lang: str, *, slot: str = "top") -> None:
    if intake.refused:
        lines = "\n".join(f"- {markdown_text(r.label)}: **{markdown_text(term_of('problem', r.code, lang))}**"
                          f" — {markdown_text(r.message)}" for r in intake.refused[:50])
        flash("error", f"{tr('refused', lang, n=len(intake.refused))}\n{lines}", slot=slot)
    if intake.notes:
        flash("warning", tr("repaired", lang) + "\n" + "\n".join(f"- {markdown_text(n)}" for n in intake.notes[:50]),
              slot=slot)


def add_to_scenario(store: ScenarioStore, intake: ParcelIntake, lang: str, author: str, *, slot: str = "top") -> None:
    """New parcels go into the open scenario, or create one under the chosen (unique) name."""
    report_intake(intake, lang, slot=slot)
    if intake.parcels.empty:
        flash("info", tr("nothing_added", lang), slot=slot)
        return
    name = current_name()
    if name is None or not store.exists(name):
        wanted = name or st.session_state.get("planner_new_name") or default_new_name(lang)
        name, _ = store.create(wanted, intake.parcels, author=author, unique=True)
    else:
        store.append(name, intake.parcels, author=author or "")
    open_scenario(name)
    flash("success", markdown_text(tr("added", lang, n=len(intake.parcels), name=name)), slot=slot)


@st.cache_resource(show_spinner=False, max_entries=8)
def _geometry(geometry_key: str, parks: str, _parcels: gpd.GeoDataFrame, _data,
              _previous: GeometryMeasures | None) -> GeometryMeasures:
    """The outline part of the measurement, kept while the outlines stay the same (a rename or a
    status change measures only the attributes again); an outline edit measures only what it
    changed against the scenario's previous measurement."""
    del parks  # cache key
    return measure_geometries(np.asarray(_parcels.geometry.values, dtype=object), parks=_data.parks,
                              districts=_data.districts, hubs=_data.hubs, key=geometry_key, previous=_previous)


LATEST_KEPT = 16  # scenarios whose latest outline measurement is kept for their next edit


@st.cache_resource(show_spinner=False)
def _latest_geometry(store_path: str) -> OrderedDict[int, GeometryMeasures]:
    """The latest outline measurement of the scenarios of a store edited last, for the next edit
    to start from."""
    del store_path  # cache key
    return OrderedDict()


@st.cache_resource(show_spinner=False, max_entries=8)
def _measured(store_path: str, scenario_id: int, version: int, parks: str, _store: ScenarioStore,
              _data) -> gpd.GeoDataFrame:
    """One saved version of a scenario, measured; shared by every session and rerun until it changes."""
    del store_path  # cache key
    parcels = _store.load_version(scenario_id, version)
    geometry = measured_outlines(_store, scenario_id, parcels, _data, parks)
    return measure_parcels(parcels, parks=_data.parks, districts=_data.districts, hubs=_data.hubs, geometry=geometry)


def measured_outlines(store: ScenarioStore, scenario_id: int | None, parcels: gpd.GeoDataFrame, data,
                      parks: str) -> GeometryMeasures:
    """The outline measurement of a scenario's parcels, made from its previous one (the map edit
    that is being saved measures the new version, which its rerun then finds here)."""
    latest = _latest_geometry(str(store.path))
    geometry = _geometry(geometry_key(parcels), parks, parcels, data, latest.get(scenario_id))
    if scenario_id is not None:
        latest[scenario_id] = geometry
        latest.move_to_end(scenario_id)
        while len(latest) > LATEST_KEPT:
            latest.popitem(last=False)
    return geometry


def measured_scenario(store: ScenarioStore, info: ScenarioInfo, data, parks: str) -> gpd.GeoDataFrame:
    """The version ``info`` names, measured (cached for all sessions)."""
    return _measured(str(store.path), info.scenario_id, info.version, parks, store, data)


@st.cache_resource(show_spinner=False, max_entries=8)
def _parcels_layer(store_path: str, name: str, version: int, lang: str, datum: str, parks: str,
                   _measured: gpd.GeoDataFrame, _names: dict[str, dict[str, str]]) -> ParcelsLayer:
    """The open version's parcels as a map layer, made once per version, language and datum."""
    del store_path, name, version, parks  # cache keys
    return parcels_layer(_measured, lang=lang, datum=datum, names=_names, token="planner_parcels")


@st.cache_resource(show_spinner=False, max_entries=8)
def _parcel_table(store_path: str, name: str, version: int, lang: str, parks: str, _measured: gpd.GeoDataFrame,
                  _names: dict[str, dict[str, str]]) -> pd.DataFrame:
    """The open version's parcels as the table shows them, made once per version and language."""
    del store_path, name, version, parks  # cache keys
    ok = _measured[_measured["problem"].isna()]
    return pd.DataFrame({
        "parcel_id": ok["parcel_id"], "number": ok["number"], "name": ok["name"], "status": ok["status"],
        "use": ok["use"], "floor_area_m2": ok["floor_area_m2"], "plot_ratio": ok["plot_ratio"],
        "area_mu": ok["area_mu"], "area_ha": ok["area_ha"], "area_m2": ok["area_m2"], "counted_mu": ok["counted_mu"],
        "overlaps_with": ok["overlaps_with"], "floor_area_effective_m2": ok["floor_area_effective_m2"],
        "district": ok["district_id"].map(_names["district"]), "hub": ok["hub_id"].map(_names["hub"]),
        "park": ok["park_id"].map(_names["park"]), "park_share": ok["park_share"] * 100,
    }).reset_index(drop=True)


OVERLAPS_LISTED = 500  # the largest; a scenario of 2,000 parcels can have tens of thousands of overlaps


@st.cache_resource(show_spinner=False, max_entries=8)
def _overlap_display(store_path: str, name: str, version: int, lang: str, _measured: gpd.GeoDataFrame,
                     _pairs: pd.DataFrame) -> pd.DataFrame:
    """The largest overlapping pairs with the parcels' labels, made once per version and language."""
    del store_path, name, version  # cache keys
    largest = _pairs.sort_values(["overlap_m2", "a", "b"], ascending=[False, True, True]).head(OVERLAPS_LISTED)
    labels = dict(zip(_measured["number"].tolist(), [parcel_label(n, m, lang) for n, m in zip(
        _measured["number"].tolist(), _measured["name"].tolist(), strict=True)], strict=True))
    return pd.DataFrame({tr("overlap_a", lang): largest["a"].map(labels), tr("overlap_b", lang): largest["b"].map(labels),
                         f"{tr('overlap', lang)} ({'亩' if lang == 'zh' else 'mu'})": largest["overlap_mu"],
                         f"{tr('overlap', lang)} (m²)": largest["overlap_m2"]}).reset_index(drop=True)


def name_maps(data, lang: str) -> dict[str, dict[str, str]]:
    column = "name_zh" if lang == "zh" else "name_en"
    return {"district": dict(zip(data.districts["district_id"], data.districts[column], strict=False)),
            "hub": dict(zip(data.hubs["hub_id"], data.hubs[column], strict=False)),
            "park": dict(zip(data.parks["park_id"], data.parks[column], strict=False))}


# ------------------------------------------------------------------ sections

def scenario_bar(store: ScenarioStore, name: str | None, info: ScenarioInfo | None, lang: str) -> None:
    version = info.version if info is not None else None
    saved = store.list_scenarios()
    names = [s.name for s in saved]
    left, middle, right = st.columns([3, 1, 1])
    if names:
        options = names if name in names else [""] + names
        pick = left.selectbox(tr("scenario", lang), options, index=options.index(name) if name in options else 0,
                              key=f"planner_pick_{hashlib.sha256(str(name).encode()).hexdigest()[:8]}",
                              format_func=lambda n: n or "—")
        if pick and pick != name:
            open_scenario(pick)
            st.rerun()
    if middle.button(tr("new", lang), key="planner_new", width="stretch"):
        open_scenario(None)
        st.rerun()
    if name and version is not None and right.button(tr("undo", lang), key="planner_undo", width="stretch"):
        try:
            flash("success", tr("undone", lang, version=store.undo(name, expected_version=version)))
        except ScenarioError as exc:
            flash("error", markdown_text(str(exc)))
        st.rerun()
    if name is not None and version is None:
        st.info(markdown_text(tr("not_yet", lang, name=name)))
        return
    if name is None:
        st.info(markdown_text(tr("no_scenario", lang, name=st.session_state.get("planner_new_name")
                                 or default_new_name(lang))))
        st.text_input(tr("new_name", lang), value=default_new_name(lang), key="planner_new_name",
                      max_chars=MAX_NAME_CHARS)
        return
    author = tr("by", lang, author=info.author) if info.author else ""
    st.caption(markdown_text(tr("editing", lang, name=name, version=version, when=when(info.updated_at),
                                author=author)))
    with st.expander(tr("manage", lang)):
        c1, c2 = st.columns(2)
        key = hashlib.sha256(f"{name}|{version}".encode()).hexdigest()[:8]
        new = c1.text_input(tr("rename_to", lang), value=name, key=f"planner_rename_{key}", max_chars=MAX_NAME_CHARS)
        if c1.button(tr("rename", lang), key="planner_rename", disabled=new.strip() == name):
            try:
                store.rename(name, new, expected_version=version)
                open_scenario(new.strip())
                flash("success", markdown_text(tr("renamed", lang, name=new.strip())))
            except ScenarioError as exc:
                flash("error", markdown_text(str(exc)))
            st.rerun()
        author_text = c2.text_input(tr("author", lang), value=info.author, key=f"planner_author_{key}", max_chars=80)
        if author_text.strip() != info.author:
            store.set_author(name, author_text, expected_version=version)
            st.rerun()
        if c2.button(tr("duplicate", lang), key="planner_duplicate"):
            copy, _ = store.duplicate(name, name[:MAX_NAME_CHARS - 8] + tr("copy_suffix", lang), author=info.author)
            open_scenario(copy)
            flash("success", markdown_text(tr("duplicated", lang, name=copy)))
            st.rerun()
        sure = c2.checkbox(tr("delete_confirm", lang, days=RETENTION_DAYS), key=f"planner_delete_sure_{key}")
        if c2.button(tr("delete", lang), key="planner_delete", disabled=not sure, type="primary"):
            try:
                store.delete(name, expected_version=version)
                open_scenario(None)
                flash("success", markdown_text(tr("deleted", lang, name=name, days=RETENTION_DAYS)))
            except ScenarioError as exc:
                flash("error", markdown_text(str(exc)))
            st.rerun()


def map_section(store: ScenarioStore, measured: gpd.GeoDataFrame | None, name: str | None, version: int | None,
                data, settings, lang: str, author: str, parks: str, *, scenario_id: int | None = None) -> None:
    st.caption(tr("draw_hint", lang))
    names = name_maps(data, lang)
    shown_ids = [] if measured is None else measured.loc[measured["problem"].isna(), "parcel_id"].tolist()

    # The parcels' data changes with every edit, the rest of the map does not: the map is rendered
    # once per scenario and outline extent, and each version's parcels are put into it.
    editable = (_parcels_layer(str(store.path), name, version, lang, settings.datum, parks, measured,
                               names) if measured is not None and shown_ids else None)
    bounds = scenario_bounds(measured) if editable is not None else None

    def build():
        fmap = base_map(basemap=settings.basemap, lang=lang, tianditu_key=settings.tianditu_key, zoom_start=10)
        parks_layer(data.parks, lang=lang, datum=settings.datum).add_to(fmap)
        if editable is not None:
            editable.add_to(fmap)
            minx, miny, maxx, maxy = bounds
            fmap.fit_bounds([[miny, minx], [maxy, maxx]], max_zoom=15)
        parcel_draw_control(editable, lang=lang).add_to(fmap)
        ParcelLegend(lang=lang).add_to(fmap)
        return fmap

    key = "planner_map_" + hashlib.sha256(f"{store.path}|{name}|{version}|{settings.basemap}|{lang}".encode()
                                          ).hexdigest()[:12]
    skeleton = (str(store.path), name, settings.basemap, settings.datum, lang, parks,
                None if bounds is None else tuple(round(b, 5) for b in bounds))
    result = maps.show_map(build, key=key, height=520, returned_objects=["all_drawings"], cache_key=skeleton,
                             payloads=editable.deferred_payloads if editable is not None else None)
    drawings = result.get("all_drawings")
    if drawings is None:
        return
    current = measured[["parcel_id", *[c for c in measured.columns if c in (
        "number", "name", "status", "use", "floor_area_m2", "plot_ratio")], "geometry"]] if measured is not None else None
    if current is None:
        add_to_scenario(store, intake_features(drawings, datum=settings.datum), lang, author)
        st.rerun()
    edit = apply_map_edits(current, drawings, shown_ids=shown_ids, datum=settings.datum)
    if not edit.changed and not edit.refused:
        return
    report_intake(ParcelIntake(edit.parcels.iloc[0:0], edit.refused, edit.notes), lang)
    if edit.changed:
        try:
            store.save(name, edit.parcels, expected_version=version, change="map edit",
                       measured=measured_outlines(store, scenario_id, edit.parcels, data, parks))
            flash("success", tr("map_changed", lang, added=edit.added, edited=edit.edited, deleted=edit.deleted))
        except ScenarioError as exc:
            flash("error", markdown_text(str(exc)))
    st.rerun()


def upload_section(store: ScenarioStore, lang: str, author: str) -> None:
    # A plain section, not an expander: an expander closes whenever the page above it changes shape.
    with st.container(border=True):
        upload = st.file_uploader(tr("upload", lang), key="planner_upload",
                                  type=["geojson", "json", "gpkg", "zip", "kml", "kmz", "csv", "tsv", "txt", "xlsx"])
        with st.container():  # the result of the last upload, beside the button that made it
            show_flash("upload")
        if upload is None:
            return
        data_bytes = upload.getvalue()
        file_key = hashlib.sha256(data_bytes).hexdigest()[:10]  # widgets per file: their options differ
        try:
            inspection = inspect_upload(data_bytes, filename=upload.name)
        except ImportRefusedError as exc:
            st.error(markdown_text(str(exc)))
            return
        options = ([] if inspection.is_table else [""]) + list(INPUT_DATUMS)
        suggested = inspection.suggestion.datum if inspection.suggestion is not None else None
        index = options.index(suggested) if inspection.is_table and suggested in options else 0
        c1, c2 = st.columns(2)
        datum = c1.selectbox(tr("file_datum", lang), options, index=index, key=f"planner_upload_datum_{file_key}",
                             format_func=lambda d: term(INPUT_DATUMS[d], lang) if d else tr("as_declared", lang))
        if inspection.suggestion is not None:
            c1.caption(markdown_text(tr("suggested", lang, datum=term(INPUT_DATUMS[inspection.suggestion.datum], lang)
                                        if inspection.suggestion.datum in INPUT_DATUMS else inspection.suggestion.datum,
                                        why="; ".join(inspection.suggestion.reasons)[:200])))
        columns = [c for c in inspection.columns if c not in ("geometry",)]
        guess = suggest_name_column(columns)
        name_column = c2.selectbox(tr("name_column", lang), [""] + columns, key=f"planner_upload_name_{file_key}",
                                   index=columns.index(guess) + 1 if guess else 0,
                                   format_func=lambda c: c or tr("no_name_column", lang))
        corner_column = None
        if inspection.is_table:
            corner_column = c2.selectbox(tr("corners", lang), [""] + columns, key=f"planner_upload_corners_{file_key}",
                                         format_func=lambda c: c or tr("no_corners", lang)) or None
        swap = False
        if not inspection.is_table:  # tables find swapped columns themselves
            if inspection.suggestion is not None and inspection.suggestion.swapped:
                c1.warning(tr("looks_swapped", lang))
            swap = c1.checkbox(tr("swap_all", lang), key=f"planner_upload_swap_{file_key}")
        if st.button(tr("add_from_file", lang), key="planner_upload_add", type="primary"):
            try:
                intake = intake_upload(data_bytes, filename=upload.name, datum=datum or None,
                                       name_column=None if corner_column else name_column or None, swap_axes=swap,
                                       corner_column=corner_column)
            except (ImportRefusedError, GeoError) as exc:
                flash("error", markdown_text(str(exc)), slot="upload")
                st.rerun()
            add_to_scenario(store, intake, lang, author, slot="upload")
            swap_rows = intake.rows_with_fix("swap_axes")
            st.session_state["planner_swap_fix"] = ({"sha": hashlib.sha256(data_bytes).hexdigest(), "rows": swap_rows,
                                                     "datum": datum or None, "name_column": name_column or None}
                                                    if swap_rows else None)
            st.rerun()
        pending = st.session_state.get("planner_swap_fix")
        if pending and pending["sha"] == hashlib.sha256(data_bytes).hexdigest():
            rows = ", ".join(map(str, pending["rows"][:12]))
            label = f"{inspection.source_format} #{rows}" if inspection.is_table else f"feature {rows}"
            if st.button(tr("swap_fix", lang, rows=label), key="planner_upload_swap"):
                intake = intake_upload(data_bytes, filename=upload.name, datum=pending["datum"], swap_axes=True,
                                       rows=tuple(pending["rows"]), name_column=pending["name_column"])
                st.session_state["planner_swap_fix"] = None
                add_to_scenario(store, intake, lang, author, slot="upload")
                st.rerun()


def problems_section(store: ScenarioStore, measured: gpd.GeoDataFrame, name: str, version: int, lang: str) -> None:
    problems = measured[measured["problem"].notna()]
    if problems.empty:
        return
    st.warning(tr("problems", lang, n=len(problems)))
    for row in problems.itertuples():
        label = parcel_label(row.number, row.name, lang)
        problem = term_of("problem", row.problem, lang)
        hint = PARCEL_PROBLEMS[row.problem]
        with st.container(border=True):
            st.markdown(f"**{markdown_text(label)}**: {markdown_text(problem)} — {markdown_text(row.problem_message)}. "
                        f"{markdown_text(hint.description_zh if lang == 'zh' else hint.description_en)}")
            c1, c2, c3, c4 = st.columns([1, 2, 1, 1])
            fix, datum = None, None
            if row.problem_fix == "swap_axes" and c1.button(tr("fix_swap", lang), key=f"planner_fix_swap_{row.parcel_id}"):
                fix = "swap_axes"
            if row.problem_fix == "choose_datum":
                datum = c2.selectbox(tr("fix_datum", lang), list(INPUT_DATUMS), key=f"planner_fix_datum_{row.parcel_id}",
                                     format_func=lambda d: term(INPUT_DATUMS[d], lang))
                if c3.button(tr("fix_convert", lang), key=f"planner_fix_convert_{row.parcel_id}"):
                    fix = "choose_datum"
            if c4.button(tr("fix_delete", lang), key=f"planner_fix_delete_{row.parcel_id}"):
                fix = "delete"
            if fix is None:
                continue
            parcels, _ = store.load(name)
            try:
                if fix == "delete":
                    fixed = parcels[parcels["parcel_id"] != row.parcel_id]
                else:
                    fixed = fix_parcels(parcels, [row.parcel_id], fix=fix, datum=datum)
                store.save(name, fixed, expected_version=version, change=f"{fix}: parcel {row.number}")
                flash("success", markdown_text(tr("fixed", lang, label=label)))
            except GeoError as exc:
                flash("error", markdown_text(str(exc)))
            st.rerun()


def parcels_section(store: ScenarioStore, measured: gpd.GeoDataFrame, name: str, version: int, data,
                    lang: str, parks: str) -> None:
    names = name_maps(data, lang)
    summary = totals(measured)
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("parcels", lang), format_number(summary.parcels, lang))
    c2.metric(tr("total_land", lang), format_quantity(summary.area_mu, "mu", lang),
              help=f"{format_quantity(summary.area_m2 / 10_000, 'ha', lang)} · {format_quantity(summary.area_m2, 'm2', lang)}")
    c3.metric(tr("overlap", lang), format_quantity(summary.overlap_mu, "mu", lang))
    pairs = overlap_table(measured)
    if pairs is not None and len(pairs):
        st.warning(tr("overlaps_found", lang, n=len(pairs), mu=format_quantity(summary.overlap_mu, "mu", lang)))
        st.dataframe(_overlap_display(str(store.path), name, version, lang, measured, pairs), hide_index=True,
                     width="stretch")
        if len(pairs) > OVERLAPS_LISTED:
            st.caption(tr("overlaps_listed", lang, shown=OVERLAPS_LISTED, n=len(pairs)))
    unit_mu = "亩" if lang == "zh" else "mu"
    table = _parcel_table(str(store.path), name, version, lang, parks, measured, names)
    read_only = ["parcel_id", "number", "area_mu", "area_ha", "area_m2", "counted_mu", "overlaps_with",
                 "floor_area_effective_m2", "district", "hub", "park", "park_share"]
    editor_key = f"planner_table_{hashlib.sha256(f'{name}|{version}|{lang}'.encode()).hexdigest()[:10]}"
    edited = st.data_editor(
        table, key=editor_key,
        hide_index=True, width="stretch", num_rows="delete", disabled=read_only, placeholder="–",
        column_order=[c for c in table.columns if c != "parcel_id"],
        column_config={
            "number": st.column_config.NumberColumn(tr("number", lang), format="%d", width="small"),
            "name": st.column_config.TextColumn(t("name", lang), max_chars=120),
            "status": st.column_config.SelectboxColumn(t("parcel_status", lang), options=list(STATUSES), required=True,
                                                       format_func=lambda c: term_of("status", c, lang)),
            "use": st.column_config.SelectboxColumn(t("parcel_use", lang), options=list(USES), required=True,
                                                    format_func=lambda c: term_of("use", c, lang)),
            "floor_area_m2": st.column_config.NumberColumn(tr("floor_given", lang), min_value=0.0, format="%.0f"),
            "plot_ratio": st.column_config.NumberColumn(tr("plot_ratio", lang), min_value=0.0, max_value=20.0,
                                                        format="%.2f"),
            "area_mu": st.column_config.NumberColumn(f"{t('area', lang)} ({unit_mu})", format="%.2f"),
            "area_ha": st.column_config.NumberColumn(f"{t('area', lang)} ({'公顷' if lang == 'zh' else 'ha'})",
                                                     format="%.2f"),
            "area_m2": st.column_config.NumberColumn(f"{t('area', lang)} (m²)", format="%.0f"),
            "counted_mu": st.column_config.NumberColumn(tr("counted", lang), format="%.2f"),
            "overlaps_with": st.column_config.TextColumn(tr("overlaps_with", lang)),
            "floor_area_effective_m2": st.column_config.NumberColumn(tr("floor_used", lang), format="%.0f"),
            "district": st.column_config.TextColumn(t("district", lang)),
            "hub": st.column_config.TextColumn(t("hub", lang)),
            "park": st.column_config.TextColumn(t("park", lang)),
            "park_share": st.column_config.NumberColumn(tr("park_share", lang), format="%.0f%%"),
        })
    changes = st.session_state.get(editor_key) or {}
    if not any(changes.get(kind) for kind in ("edited_rows", "deleted_rows", "added_rows")):
        return  # nothing typed in the table: no 2,000-row comparison
    editable = ["parcel_id", "name", "status", "use", "floor_area_m2", "plot_ratio"]
    if edited[editable].reset_index(drop=True).equals(table[editable].reset_index(drop=True)):
        return
    parcels, _ = store.load(name)
    problem_ids = set(measured.loc[measured["problem"].notna(), "parcel_id"])
    kept = parcels[parcels["parcel_id"].isin(set(edited["parcel_id"]) | problem_ids)].set_index("parcel_id")
    updates = edited.set_index("parcel_id")[editable[1:]]
    kept.loc[updates.index, editable[1:]] = updates.to_numpy()
    try:
        store.save(name, gpd.GeoDataFrame(kept.reset_index(), geometry="geometry", crs=4326),
                   expected_version=version, change="table edit")
    except GeoError as exc:
        flash("error", markdown_text(str(exc)))
    st.rerun()


def download_section(name: str, version: int, parcels_loader, data, lang: str) -> None:
    c1, c2 = st.columns([1, 2])
    fmt = c1.radio(tr("format", lang), list(FORMATS), format_func=FORMAT_LABELS.get, horizontal=True,
                   key="planner_download_format")
    # Built on click: a scenario of 2,000 parcels takes a moment to export.
    c2.download_button(tr("download", lang), lambda: export_scenario(
        parcels_loader(), scenario=name, version=version, snapshot=data, fmt=fmt).data,
        file_name=export_scenario_filename(name, version=version, snapshot=data, fmt=fmt),
        mime=MEDIA_TYPES[fmt], key="planner_download")


def progress_section(measured: gpd.GeoDataFrame | None, data, lang: str) -> None:
    facts = data.facts.set_index("fact_id")
    names = name_maps(data, lang)
    st.subheader(tr("targets", lang))
    source = measured if measured is not None else pd.DataFrame(
        {"use": [], "status": [], "area_mu": [], "floor_area_effective_m2": [], "problem": []})
    city = progress(source)
    for row in city.itertuples():
        fact = facts.loc[row.fact_id] if row.fact_id in facts.index else None
        target_text = cached.fact_text(fact, lang) if fact is not None else format_quantity(row.target_value, row.unit, lang)
        st.progress(min(float(row.share), 1.0),
                    text=f"{metric_label(row.target, lang)}: "
                         f"{format_quantity(row.achieved, row.unit, lang)} / {target_text} ({row.share:.1%})")
    first = facts.loc[TARGETS[0].fact_id] if TARGETS[0].fact_id in facts.index else None
    if first is not None:
        st.caption(tr("target_sources", lang, source=cached.source_label(first["source_id"])
))
    if measured is None or measured["problem"].isna().sum() == 0:
        return
    for scope, column, label in (("district_id", "district", tr("per_district", lang)),
                                 ("hub_id", "hub", tr("per_hub", lang))):
        st.markdown(f"#### {label}")
        table = progress(measured, by=scope)
        table["scope"] = table["scope"].map(lambda v: names[column].get(v, tr("unassigned", lang)))
        charts = st.columns(len(TARGETS))
        for chart, target in zip(charts, TARGETS, strict=True):
            part = table[table["target"] == target.key]
            unit = {"mu": "亩" if lang == "zh" else "mu", "m2": "m²"}[target.unit]
            chart.markdown(f"**{markdown_text(tr('chart_title', lang, target=metric_label(target.key, lang), scope=tr('scope_' + column, lang), value=format_quantity(target.value, target.unit, lang)))}**")
            if not part["achieved"].any():  # a chart of zeros is an axis without a scale: say it in words
                chart.caption(tr("nothing_counted", lang, value=format_quantity(0.0, target.unit, lang)))
                continue
            chart.bar_chart(part.rename(columns={"scope": tr("scope_" + column, lang), "achieved": unit}),
                            x=tr("scope_" + column, lang), y=unit, x_label=tr("scope_" + column, lang),
                            y_label=f"{metric_label(target.key, lang)} ({unit})", height=240)
        wide = table.pivot(index="scope", columns="target", values="achieved").rename_axis(
            tr("scope_" + column, lang))
        wide.columns = [metric_label(c, lang) for c in wide.columns]
        st.dataframe(wide, width="stretch")


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


def map_tab(store: ScenarioStore, measured: gpd.GeoDataFrame | None, name: str | None, info: ScenarioInfo | None,
            data, settings, lang: str, parks: str) -> None:
    version = info.version if info is not None else None
    author = info.author if info is not None else ""
    map_section(store, measured, name, version, data, settings, lang, author, parks,
                scenario_id=info.scenario_id if info is not None else None)
    upload_section(store, lang, author)
    st.subheader(tr("parcels", lang))
    if measured is None or measured.empty or info is None:
        st.info(tr("none_yet", lang))
        return
    problems_section(store, measured, name, version, lang)
    parcels_section(store, measured, name, version, data, lang, parks)
    # the version shown, even if another session saved a newer one meanwhile
    download_section(name, version, lambda: store.load_version(info.scenario_id, info.version), data, lang)


# ------------------------------------------------------------------ page

settings = session.settings()
lang = settings.lang

with session.friendly_errors(lang):
    data = cached.snapshot()
    parks = cached.parks_key()  # once per run: it reads the outline store
    store = ScenarioStore()
    st.title(tr("title", lang))
    name = current_name()
    info = store.find(name) if name else None  # read once per run: version, author, id
    measured = measured_scenario(store, info, data, parks) if info is not None else None
    scenario_bar(store, name, info, lang)
    # Always one element here, messages or not: a message that comes and goes would move the map to
    # another place in the page, and Streamlit would load it afresh (losing an edit in progress).
    with st.container():
        show_flash()
    # Lazy tabs: only the open tab's content runs (and the tab is kept in the URL, so a reload
    # stays on it). A rerun after an edit on the map does not draw six charts nobody sees.
    tab_map, tab_progress, tab_scenarios, tab_compare = st.tabs(
        [tr("tab_map", lang), tr("tab_progress", lang), tr("tab_scenarios", lang), tr("tab_compare", lang)],
        key="tab", on_change="rerun", bind="query-params")
    if tab_map.open:
        with tab_map:
            map_tab(store, measured, name, info, data, settings, lang, parks)
    if tab_progress.open:
        with tab_progress:
            progress_section(measured, data, lang)
    if tab_scenarios.open:
        with tab_scenarios:
            scenarios_tab(store, lang)
    if tab_compare.open:
        with tab_compare:
            compare_tab(store, data, settings, lang, parks)
