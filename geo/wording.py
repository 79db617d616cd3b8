"""Numbers and figures in words, in English and Chinese: the one wording the pages, the map's
tooltips and the park brief share (``layers.i18n`` and ``layers.figures`` re-export it).

Chinese numbers use 万 (10^4) and 亿 (10^8) as Chinese readers expect; every figure is written
with its qualifier ("at least 3,000 mu", "不少于3000亩"), and counts say what they count.
Pure: no UI.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import pandas as pd

from geo.vocab import QUALIFIERS

_UNITS: dict[str, tuple[str, str]] = {
    "km2": ("km²", "平方公里"), "m2": ("m²", "平方米"), "ha": ("ha", "公顷"), "mu": ("mu", "亩"),
    "bn_yuan": ("bn yuan", "亿元"), "m_yuan": ("m yuan", "万元"), "count": ("", ""),
    "percent": ("%", "%"), "km": ("km", "公里"), "weeks": ("weeks", "周"), "bn_yuan_per_year": ("bn yuan a year", "亿元/年"),
    "m_yuan_per_year": ("m yuan a year", "万元/年"),
}
# Multipliers that turn the stored value into the unit shown in Chinese.
_ZH_SCALE = {"bn_yuan": 10.0, "bn_yuan_per_year": 10.0, "m_yuan": 100.0, "m_yuan_per_year": 100.0}


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


_FIGURE_TEXT: dict[str, tuple[str, str]] = {
    "not_reported": ("not reported", "未公布"),
    "counts": ("{value} {what}", "{value}{what}"),
}
_figure_tr = translator(_FIGURE_TEXT)

_COUNT_WORDS: dict[str, tuple[str, str]] = {
    "enterprises": ("enterprises", "家企业"),
    "enterprises_and_institutions": ("enterprises and institutions", "家企业和机构"),
}


def is_missing(value: object) -> bool:
    """True for a missing figure: None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def source_short(source_id: str | None, sources: pd.DataFrame) -> str:
    """'Publisher (date)' of a source, the id if it is unknown."""
    if is_missing(source_id):
        return ""
    row = sources[sources["source_id"] == source_id]
    if row.empty:
        return str(source_id)
    publisher, date = row.iloc[0]["publisher"], row.iloc[0].get("date")
    return f"{publisher} ({date})" if isinstance(date, str) and date else str(publisher)


def source_long(source_id: str | None, sources: pd.DataFrame) -> str:
    """'Publisher, title (date)' of a source, the id if it is unknown."""
    if is_missing(source_id):
        return ""
    row = sources[sources["source_id"] == source_id]
    if row.empty:
        return str(source_id)
    r = row.iloc[0]
    date = r.get("date")
    return f"{r['publisher']}, {r['title']}" + (f" ({date})" if isinstance(date, str) and date else "")


def figure_value(fact: Mapping, lang: str) -> str:
    """The figure with its qualifier and unit ('more than 1,000'); 'not reported' if there is none.

    Counts of enterprises say what they count: 'more than 4,000 enterprises and institutions'.
    """
    if is_missing(fact.get("value")):
        return _figure_tr("not_reported", lang)
    text = format_quantity(float(fact["value"]), str(fact["unit"]), lang, qualifier=str(fact["qualifier"]))
    words = _COUNT_WORDS.get(str(fact.get("metric")))
    if words is not None:
        text = _figure_tr("counts", lang, value=text, what=words[1] if lang == "zh" else words[0])
    return text
