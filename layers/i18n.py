"""User-interface strings in Chinese and English, and numbers formatted for each language.

Every string a page, legend or tooltip shows goes through ``t(key, lang)``; Chinese numbers use
万 (10^4) and 亿 (10^8) as Chinese readers expect.
"""

from __future__ import annotations

from typing import Literal

from geo.vocab import Term
# The number and figure wording is geo's (the park brief says what the pages say); re-exported here.
from geo.wording import (  # noqa: F401
    METRICS,
    format_compact,
    format_number,
    format_quantities,
    format_quantity,
    metric_label,
    translator,
)

Language = Literal["en", "zh"]
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
#: Export formats as every download names them (the same in both languages).
FORMAT_LABELS: dict[str, str] = {"geojson": "GeoJSON (RFC 7946)", "gpkg": "GeoPackage", "csv": "CSV"}

STRINGS: dict[str, tuple[str, str]] = {
    # app and navigation
    "app_title": ("Beijing pharma & healthcare map", "北京医药健康产业地图"),
    "page_cluster": ("Cluster map", "产业布局图"),
    "page_parks": ("Parks", "园区"),
    "page_planner": ("Planner", "空间规划"),
    "page_orgs": ("Organisations", "机构"),
    "page_import": ("Import your data", "导入数据"),
    "page_osm": ("OpenStreetMap", "开放街图"),
    "parks_not_drawn": ("Not on the map, no citable location (see the Parks page): {names}",
                        "未上图、无可引用位置（见“园区”页）：{names}"),
    "imported_on_map": ("Also on the map, from your imports: {names}", "地图上还显示了您导入的图层：{names}"),
    "page_export": ("Export", "数据导出"),
    "page_sources": ("Sources and method", "来源与方法"),
    "language": ("Language / 语言", "语言 / Language"),
    "basemap": ("Basemap", "底图"),
    "snapshot": ("Data snapshot", "数据版本"),
    "map_datum": ("Map datum", "地图坐标系"),
    "datum_badge_wgs84": ("Map in WGS84", "地图坐标：WGS84"),
    "datum_badge_gcj02": ("Map in GCJ-02: overlays shifted to match Gaode tiles; "
                          "measurements still in WGS84",
                          "地图坐标：GCJ-02（叠加图层已偏移以匹配高德底图；量算仍用WGS84）"),
    "basemap_osm": ("OpenStreetMap (WGS84)", "OpenStreetMap（WGS84）"),
    "basemap_gaode": ("Gaode / Amap (GCJ-02)", "高德地图（GCJ-02）"),
    "basemap_tianditu": ("Tianditu (CGCS2000 ~ WGS84)", "天地图（CGCS2000，近WGS84）"),
    "basemap_none": ("No basemap", "无底图"),
    "error_generic": ("Something went wrong: {message}", "出现错误：{message}"),
    "store_unavailable": ("Shared scenarios and layers are unavailable: {message}",
                          "共享的方案和图层暂不可用（数据库无法连接）：{message}"),
    # layers and legend
    "layer_districts": ("Districts", "行政区"),
    "layer_hubs": ("Hubs", "核心区与多点"),
    "layer_parks": ("Parks", "园区"),
    "layer_orgs": ("Organisations", "机构"),
    "layer_parcels": ("Parcels", "地块"),
    "parcel": ("Parcel", "地块"),
    "parcel_status": ("Status", "状态"),
    "parcel_use": ("Use", "用途"),
    "parcel_counted": ("counted (overlaps once)", "计入（重叠只计一次）"),
    "parcel_overlaps": ("overlaps parcel(s)", "与以下地块重叠"),
    "parcel_overlap": ("Overlap", "重叠"),
    "legend_title": ("Legend", "图例"),
    "legend_roles": ("District role in the plan", "各区在行动方案中的定位"),
    "legend_tiers": ("Park geometry", "园区范围精度"),
    "legend_orgs": ("Organisations (clustered)", "机构（聚合显示）"),
    "tier_note": ("Dashed and dotted outlines are not surveyed boundaries.",
                  "虚线、点线范围均非测绘边界。"),
    # fields
    "name": ("Name", "名称"),
    "district": ("District", "行政区"),
    "hub": ("Hub", "核心区/多点"),
    "park": ("Park", "园区"),
    "kind": ("Kind", "类型"),
    "role": ("Role", "定位"),
    "specialisations": ("Specialisations", "重点领域"),
    "geometry_tier": ("Geometry", "范围精度"),
    "location_tier": ("Location", "位置精度"),
    "official_area": ("Official area", "官方面积"),
    "mapped_area": ("Area of the drawn shape", "图形面积"),
    "area": ("Area", "面积"),
    "source": ("Source", "来源"),
    "sources": ("Sources", "来源"),
    "as_of": ("As of", "时间"),
    "value": ("Value", "数值"),
    "metric": ("Figure", "指标"),
    "quote": ("Quote", "原文"),
    "note": ("Note", "说明"),
    "address": ("Address", "地址"),
    "organisations_count": ("Organisations on the map", "地图上的机构数"),
    "reported": ("Reported", "公开报道"),
    "mapped": ("On the map", "地图统计"),
    "all": ("All", "全部"),
    "filter_specialisation": ("Specialisation", "重点领域"),
    "filter_kind": ("Kind of organisation", "机构类型"),
    "filter_park": ("Park", "园区"),
    "filter_hub": ("Hub", "核心区/多点"),
    "headline": ("Headline figures", "核心指标"),
    "no_results": ("Nothing matches these filters.", "没有符合筛选条件的结果。"),
    "click_park_hint": ("Click a park on the map to see its details.", "点击地图上的园区查看详情。"),
    "selected_park": ("Selected park", "选中的园区"),
    "open_park_page": ("Open on the Parks page", "在园区页面查看"),
    # the investor's map (issue 11)
    "layer_park_symbols": ("Parks (symbols)", "园区（符号）"),
    "park_orgs_count": ("{n} organisations", "{n}家机构"),
    "park_orgs_located": ("{park} located only at the park, {site} at their own site",
                          "{park}家仅定位到园区，{site}家有实际地址"),
    "park_orgs_location_park": ("{n} organisations, location: park (exact site unknown)",
                                "{n}家机构，位置：园区（具体地址未知）"),
    "park_orgs_location_site": ("{n} at their own site (on the map)", "{n}家有实际地址（已上图）"),
    "same_place_as": ("Same place as: {names}", "位置重合：{names}"),
    "click_to_select": ("Click to select", "点击选中"),
    "legend_symbols": ("Parks, zoomed out (zoom in for outlines)", "园区符号（放大后显示范围）"),
    "legend_symbol_size": ("Size: official area · number: organisations in the park",
                           "大小：官方面积 · 数字：园区内机构数"),
    "legend_orgs_site": ("Organisations at their own site (clustered)", "有实际地址的机构（聚合显示）"),
    "legend_unlocated": ("listed below the map, not drawn", "列于地图下方，不绘制"),
    "structure_title": ("Four core hubs and multiple growth points", "四个核心区 + 多点支撑"),
    "plan_caption": ("四个核心区 + 多点支撑 · Four core hubs and multiple growth points (Action Plan 2024-2026, "
                     "item 30)", "四个核心区 + 多点支撑（行动计划（2024-2026年）第30条）"),
    "structure_caption": ("Hub → parks → specialisations (organisations). Click a park to select it on the map.",
                          "核心区/多点 → 园区 → 重点领域（机构数）。点击园区即在地图上选中。"),
    "hub_orgs_in_parks": ("{n} organisations in its parks", "园区内{n}家机构"),
    "legend_caveat": ("dotted: nominal extent, not a boundary", "点线：示意范围，非边界"),
    "structure_no_parks": ("No park named in the snapshot", "暂无园区"),
    "structure_not_drawn": ("not on the map", "未上图"),
    "search": ("Search parks, organisations, districts", "搜索园区、机构、行政区"),
    "search_placeholder": ("e.g. 亦庄, BDA, 生命科学园, Haidian", "如：亦庄、BDA、生命科学园、海淀"),
    "search_none": ("Nothing found for “{query}”.", "未找到“{query}”。"),
    "search_found": ("Found: {name} ({kind})", "找到：{name}（{kind}）"),
    "search_others": ("Other matches:", "其他结果："),
    "kind_park": ("park", "园区"),
    "kind_hub": ("hub", "核心区/多点"),
    "kind_district": ("district", "行政区"),
    "kind_organisation": ("organisation", "机构"),
    "park_chooser": ("Parks at this point (nested or overlapping): pick one", "此处有重叠园区，请选择："),
    "orgs_on_map_split": ("{site} at their own site, {park} counted on their park's symbol",
                          "{site}家标注实际地址，{park}家计入所在园区符号"),
    "park_orgs_listed": ("Organisations located only at the park (exact site unknown)",
                         "仅定位到园区的机构（具体地址未知）"),
}

def t(key: str, lang: str, **values: object) -> str:
    """The string ``key`` in ``lang``; ``{name}`` fields are filled from ``values``."""
    en, zh = STRINGS.get(key, (key, key))
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def term(vocabulary_term: Term, lang: str) -> str:
    return vocabulary_term.zh if lang == "zh" else vocabulary_term.en


def term_of(vocabulary: str, code: object, lang: str) -> str:
    """A code of one of the planner's vocabularies ("status", "use", "problem") in ``lang``;
    an unknown code is shown as itself, escaped by the caller like any other text."""
    from geo.vocab import PARCEL_PROBLEMS, PARCEL_STATUSES, PARCEL_USES

    table = {"status": PARCEL_STATUSES, "use": PARCEL_USES, "problem": PARCEL_PROBLEMS}[vocabulary]
    found = table.get(str(code))
    return term(found, lang) if found is not None else str(code)


def parcel_label(number: object, name: object, lang: str) -> str:
    """'3 · Lot 7', or 'Parcel 3' / '地块 3' for a parcel without a name."""
    text = "" if name is None or (isinstance(name, float) and name != name) else str(name).strip()
    shown = int(number) if isinstance(number, int | float) and number == number else number
    if text:
        return f"{shown} · {text}"
    return f"地块 {shown}" if lang == "zh" else f"Parcel {shown}"
