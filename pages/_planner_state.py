"""The Planner's texts (English, Chinese), the scenario open in this session (kept in the URL),
the messages shown on the next run, and adding parcels to the open scenario."""

import datetime as dt

import streamlit as st

from geo.parcels import ParcelIntake
from geo.scenarios import ScenarioStore
from layers.html import markdown_text
from layers.i18n import term_of, translator

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
