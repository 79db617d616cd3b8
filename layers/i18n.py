"""User-interface strings in Chinese and English, and numbers formatted for each language.

Every string a page, legend or tooltip shows goes through ``t(key, lang)``; Chinese numbers use
万 (10^4) and 亿 (10^8) as Chinese readers expect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Literal

from geo.vocab import QUALIFIERS, Term

Language = Literal["en", "zh"]
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}

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

_UNITS: dict[str, tuple[str, str]] = {
    "km2": ("km²", "平方公里"), "m2": ("m²", "平方米"), "ha": ("ha", "公顷"), "mu": ("mu", "亩"),
    "bn_yuan": ("bn yuan", "亿元"), "m_yuan": ("m yuan", "万元"), "count": ("", ""),
    "percent": ("%", "%"), "km": ("km", "公里"), "weeks": ("weeks", "周"), "bn_yuan_per_year": ("bn yuan a year", "亿元/年"),
    "m_yuan_per_year": ("m yuan a year", "万元/年"),
}
# Multipliers that turn the stored value into the unit shown in Chinese.
_ZH_SCALE = {"bn_yuan": 10.0, "bn_yuan_per_year": 10.0, "m_yuan": 100.0, "m_yuan_per_year": 100.0}


def t(key: str, lang: str, **values: object) -> str:
    """The string ``key`` in ``lang``; ``{name}`` fields are filled from ``values``."""
    en, zh = STRINGS.get(key, (key, key))
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text


def term(vocabulary_term: Term, lang: str) -> str:
    return vocabulary_term.zh if lang == "zh" else vocabulary_term.en


def _trim(value: float, digits: int) -> str:
    text = f"{value:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_number(value: float, lang: str, *, digits: int = 2) -> str:
    """12345678 -> '12,345,678' (en) or '1234.57万' (zh); small numbers stay plain."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if lang == "zh":
        magnitude = abs(value)
        if magnitude >= 1e12:
            return _trim(value / 1e12, digits).replace(",", "") + "万亿"
        if magnitude >= 1e8:
            return _trim(value / 1e8, digits).replace(",", "") + "亿"
        if magnitude >= 1e4:
            return _trim(value / 1e4, digits).replace(",", "") + "万"
        return _trim(value, digits).replace(",", "")
    return _trim(value, digits)


def format_quantity(value: float, unit: str, lang: str, *, qualifier: str = "exact") -> str:
    """A value with its unit and qualifier, e.g. 'at least 3,000 mu' / '不少于3000亩'."""
    return format_quantities([value], unit, lang, qualifier=qualifier)[0]


def format_quantities(values: Iterable[float], unit: str, lang: str, *, qualifier: str = "exact") -> list[str]:
    """``format_quantity`` of many values in one unit (a column of a table, the popups of a layer)."""
    qualifier_term = QUALIFIERS.get(qualifier)
    prefix = (qualifier_term.zh if lang == "zh" else qualifier_term.en) if qualifier_term else ""
    unit_en, unit_zh = _UNITS.get(unit, (unit, unit))
    if lang == "zh":
        scale = _ZH_SCALE.get(unit, 1.0)
        out = []
        for value in values:
            number = format_number(value * scale, "zh")
            if unit in ("bn_yuan", "bn_yuan_per_year") and value * 10 >= 1e4:
                # 1250 bn yuan = 1.25万亿元: keep the 亿元 unit and scale the number.
                number = _trim(value * 10 / 1e4, 2) + "万"
            out.append(f"{prefix}{number}{unit_zh}")
        return out
    unit_text = f" {unit_en}" if unit_en and unit_en != "%" else unit_en
    head = prefix + " " if prefix else ""
    return [f"{head}{format_number(value, 'en')}{unit_text}".strip() for value in values]


METRICS: dict[str, tuple[str, str]] = {
    "area": ("Area", "面积"),
    "area_expansion": ("Expansion area", "扩区面积"),
    "area_expansion_north": ("Expansion area (north)", "扩区面积（北区）"),
    "area_expansion_south": ("Expansion area (south)", "扩区面积（南区）"),
    "area_planned_with_expansion": ("Planned area incl. expansion", "含扩区规划面积"),
    "area_with_neighbouring_zones": ("Area incl. neighbouring zones", "含周边区域面积"),
    "biomedical_enterprises": ("Biomedical enterprises", "生物医药企业"),
    "biopark_area": ("Biomedicine park area", "生物医药园区面积"),
    "cmu_campus_land": ("Capital Medical University campus land", "首都医科大学校区用地"),
    "future_science_city_area": ("Future Science City area", "未来科学城面积"),
    "future_science_city_west_zone_area": ("Future Science City West Zone area", "未来科学城西区面积"),
    "host_park_area": ("Host park area", "所在园区面积"),
    "industry_guidance_fund": ("Industry guidance fund", "产业引导基金"),
    "life_valley_area": ("Life Valley area", "生命谷面积"),
    "life_valley_enterprises": ("Life Valley enterprises", "生命谷企业"),
    "land_area": ("Land area", "土地面积"),
    "planned_floor_area": ("Planned floor area", "规划建筑面积"),
    "enterprises": ("Enterprises", "企业数量"),
    "enterprises_above_designated_size_target": ("Enterprises above designated size (target)", "规上企业数（目标）"),
    "listed_enterprises_target": ("Listed enterprises (target)", "上市企业数（目标）"),
    "new_drugs_and_devices_target": ("New drugs and Class II/III devices (target)", "新上市药品及二三类器械（目标）"),
    "nmpa_centres": ("NMPA centres in the BDA", "国家药监局直属单位落地数"),
    "subsidy_major_projects_max": ("Matching funds for major projects (max)", "重大项目配套资金（上限）"),
    "subsidy_early_rd_max": ("Reward for early R&D per firm (max)", "单家企业研发奖励（上限）"),
    "subsidy_innovative_device_once": ("One-time reward, innovative device review", "创新医疗器械一次性奖励"),
    "rent_subsidy": ("Rent subsidy", "房租补贴比例"),
    "new_industrial_land": ("New industrial land", "新增产业用地"),
    "standard_factory_completed": ("Standard factory buildings completed", "建成标准厂房"),
    "standard_factory_started": ("Standard factory buildings started", "新开工标准厂房"),
    "industry_scale": ("Industry scale", "产业规模"),
    "industry_scale_target": ("Industry scale (target)", "产业规模（目标）"),
    "industry_growth": ("Industry growth", "产业增速"),
    "industry_fund": ("Healthcare industry fund", "医药健康产业基金"),
    "district_fund": ("District fund", "区级基金"),
    "pharma_revenue_target": ("Pharma manufacturing revenue (target)", "医药制造业营收（目标）"),
    "fixed_asset_investment_target": ("Fixed-asset investment (target)", "固定资产投资（目标）"),
    "innovative_drugs_approved_target": ("Innovative drugs approved (target)", "获批创新药（目标）"),
    "innovative_devices_approved_target": ("Innovative devices approved (target)", "获批创新医疗器械（目标）"),
    "clinical_trial_startup_weeks_target": ("Clinical trial start-up time (target)", "临床试验启动用时（目标）"),
    "blockbuster_products_target": ("Products with sales over 1 bn yuan (target)", "过亿元大品种（目标）"),
    "policy_measures": ("Policy measures", "政策措施条数"),
    "service_platforms_and_incubators": ("Service platforms and incubators", "服务平台与孵化器"),
    "companies_incubated_c_campus": ("Companies supported by C-Campus", "C-Campus支持的企业"),
    "hospital_beds_nearby": ("Hospital beds nearby", "周边医院床位"),
    "neuroscience_companies": ("Neuroscience companies", "神经科学企业"),
    "cgt_pipeline_products": ("CGT pipeline products", "细胞与基因治疗在研产品"),
    "cgt_clinical_trial_approvals": ("CGT clinical trial approvals", "细胞与基因治疗临床批件"),
    "cgt_clinical_trial_share_of_china": ("Share of China's CGT trial approvals", "占全国细胞与基因治疗临床批件比例"),
    "digital_medical_firms": ("Digital medical firms", "数字医疗企业"),
    "ai_class_iii_certificates": ("AI Class III device certificates", "人工智能三类医疗器械证"),
    "ai_class_iii_share_of_beijing": ("Share of Beijing's AI Class III certificates", "占北京人工智能三类证比例"),
    "enterprises_and_institutions": ("Enterprises and institutions", "企业和机构数量"),
    "area_phase_i": ("Phase I planned area", "一期规划面积"),
}


def metric_label(metric: str, lang: str) -> str:
    """A figure's name in ``lang``; unknown metrics fall back to their code, readable."""
    en, zh = METRICS.get(metric, (metric.replace("_", " "), metric.replace("_", " ")))
    return zh if lang == "zh" else en


_COMPACT_QUALIFIERS = {"at_least": "≥", "more_than": ">", "about": "~", "nearly": "~", "up_to": "≤"}
_COMPACT_UNITS = {"m2": "m²", "km2": "km²", "ha": "ha", "mu": ("mu", "亩"), "percent": "%",
                  "bn_yuan": ("yuan", "元"), "bn_yuan_per_year": ("yuan/yr", "元/年"), "count": ""}


def format_compact(value: float, unit: str, lang: str, *, qualifier: str = "exact",
                   with_unit: bool = True) -> str:
    """A short form for headline tiles: '≥3,000 mu', '1.2 M m²', '1.25 tn yuan' / '≥3000亩', '120万m²'."""
    sign = _COMPACT_QUALIFIERS.get(qualifier, "")
    unit_text = _COMPACT_UNITS.get(unit, unit)
    if isinstance(unit_text, tuple):
        unit_text = unit_text[1] if lang == "zh" else unit_text[0]
    if not with_unit:
        unit_text = ""
    if unit in ("bn_yuan", "bn_yuan_per_year"):
        value = value * 1e9
    if lang == "zh":
        number = format_number(value, "zh")
        return f"{sign}{number}{unit_text}"
    for threshold, suffix in ((1e12, " tn"), (1e9, " bn"), (1e6, " M")):
        if abs(value) >= threshold:
            return f"{sign}{_trim(value / threshold, 2)}{suffix} {unit_text}".strip()
    space = "" if unit_text in ("%", "") else " "
    return f"{sign}{_trim(value, 2)}{space}{unit_text}".strip()


def translator(table: dict[str, tuple[str, str]]):
    """A ``tr(key, lang, **values)`` function over a page's own (English, Chinese) strings."""

    def tr(key: str, lang: str, **values: object) -> str:
        en, zh = table[key]
        text = zh if lang == "zh" else en
        return text.format(**values) if values else text

    return tr


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
