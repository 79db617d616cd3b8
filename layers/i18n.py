"""User-interface strings in Chinese and English, and numbers formatted for each language.

Every string a page, legend or tooltip shows goes through ``t(key, lang)``; Chinese numbers use
万 (10^4) and 亿 (10^8) as Chinese readers expect.
"""

from __future__ import annotations

import math
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
    # layers and legend
    "layer_districts": ("Districts", "行政区"),
    "layer_hubs": ("Hubs", "核心区与多点"),
    "layer_parks": ("Parks", "园区"),
    "layer_orgs": ("Organisations", "机构"),
    "layer_parcels": ("Parcels", "地块"),
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
}

_UNITS: dict[str, tuple[str, str]] = {
    "km2": ("km²", "平方公里"), "m2": ("m²", "平方米"), "ha": ("ha", "公顷"), "mu": ("mu", "亩"),
    "bn_yuan": ("bn yuan", "亿元"), "m_yuan": ("m yuan", "万元"), "count": ("", ""),
    "percent": ("%", "%"), "weeks": ("weeks", "周"), "bn_yuan_per_year": ("bn yuan a year", "亿元/年"),
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
        if magnitude >= 1e8:
            return _trim(value / 1e8, digits).replace(",", "") + "亿"
        if magnitude >= 1e4:
            return _trim(value / 1e4, digits).replace(",", "") + "万"
        return _trim(value, digits).replace(",", "")
    return _trim(value, digits)


def format_quantity(value: float, unit: str, lang: str, *, qualifier: str = "exact") -> str:
    """A value with its unit and qualifier, e.g. 'at least 3,000 mu' / '不少于3000亩'."""
    qualifier_term = QUALIFIERS.get(qualifier)
    prefix = (qualifier_term.zh if lang == "zh" else qualifier_term.en) if qualifier_term else ""
    unit_en, unit_zh = _UNITS.get(unit, (unit, unit))
    if lang == "zh":
        number = format_number(value * _ZH_SCALE.get(unit, 1.0), "zh")
        if unit in ("bn_yuan", "bn_yuan_per_year") and value * 10 >= 1e4:
            # 1250 bn yuan = 1.25万亿元: keep the 亿元 unit and scale the number.
            number = _trim(value * 10 / 1e4, 2) + "万"
        return f"{prefix}{number}{unit_zh}"
    number = format_number(value, "en")
    unit_text = f" {unit_en}" if unit_en and unit_en != "%" else unit_en
    return f"{prefix + ' ' if prefix else ''}{number}{unit_text}".strip()
