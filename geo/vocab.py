"""Controlled bilingual vocabularies: specialisations, organisation kinds, roles and tiers.

Every coded value stored in the snapshot comes from one of these tables, so the app can label
it in Chinese or English and validation can reject a typo.
"""

from __future__ import annotations

from typing import NamedTuple


class Term(NamedTuple):
    en: str
    zh: str
    description_en: str = ""
    description_zh: str = ""


SPECIALISATIONS: dict[str, Term] = {
    "innovative_drugs": Term("Innovative drugs", "创新药"),
    "biologics": Term("Biologics and antibodies", "生物药与抗体"),
    "cell_gene_therapy": Term("Cell and gene therapy", "细胞与基因治疗"),
    "medical_devices": Term("Medical devices", "医疗器械"),
    "high_end_devices": Term("High-end medical equipment", "高端医疗装备"),
    "brain_computer_interface": Term("Brain-computer interfaces", "脑机接口"),
    "synthetic_biology": Term("Synthetic biology and bio-manufacturing", "合成生物与生物制造"),
    "ai_healthcare": Term("AI in healthcare", "人工智能+医疗"),
    "digital_health": Term("Digital health", "数字医疗"),
    "vaccines": Term("Vaccines", "疫苗"),
    "diagnostics": Term("Diagnostics (IVD)", "体外诊断"),
    "cardiovascular": Term("Cardiovascular drugs and devices", "心血管药械"),
    "nucleic_acid_drugs": Term("Nucleic acid drugs", "核酸药物"),
    "cro_cdmo": Term("CRO / CDMO services", "研发与生产外包服务"),
    "traditional_chinese_medicine": Term("Traditional Chinese medicine", "中医药"),
    "neuroscience": Term("Neuroscience", "神经科学"),
    "genomics": Term("Genomics and precision medicine", "基因组与精准医学"),
    "clinical_research": Term("Clinical research and translation", "临床研究与转化"),
    "regulatory_services": Term("Regulatory review and services", "审评审批与监管服务"),
}

ORGANISATION_KINDS: dict[str, Term] = {
    "enterprise": Term("Enterprise", "企业"),
    "national_lab": Term("National laboratory", "国家实验室"),
    "research_institute": Term("Research institute", "科研机构"),
    "university": Term("University", "高校"),
    "hospital": Term("Hospital", "医院"),
    "regulator_centre": Term("Regulator's centre", "监管审评机构"),
    "incubator": Term("Incubator", "孵化器"),
    "platform": Term("Service platform", "公共服务平台"),
}

HUB_ROLES: dict[str, Term] = {
    "core_hub": Term("Core hub", "核心区",
                     "One of the plan's four core hubs (Action Plan 2024-2026, item 30).",
                     "行动方案（2024—2026年）第30条所列“四个核心区”之一。"),
    "growth_point": Term("Growth point", "多点支撑",
                         "One of the plan's growth points: areas with distinct advantages.",
                         "行动方案所列“多点”：具有特色优势的区域。"),
    "other": Term("Other district", "其他区"),
}

GEOMETRY_TIERS: dict[str, Term] = {
    "official": Term(
        "Official boundary", "官方边界",
        "Boundary published by the park's administration or a planning authority.",
        "园区管理机构或规划部门公布的边界。"),
    "osm": Term(
        "OpenStreetMap", "开放街图",
        "Boundary mapped in OpenStreetMap (ODbL); as good as the mapper's survey.",
        "来自开放街图（ODbL）的边界，精度取决于贡献者的测绘。"),
    "approximate": Term(
        "Approximate outline", "近似轮廓",
        "Digitised from boundary descriptions and known landmarks; area matches the official "
        "figure within 5 %, the line itself may be off by hundreds of metres.",
        "根据四至描述和已知地标勾绘，面积与官方数据相差不超过5%，边线可能偏差数百米。"),
    "nominal": Term(
        "Nominal extent", "示意范围",
        "Not a boundary: a circle of the official area centred on a sourced anchor point, "
        "drawn so the park's size can be seen and compared.",
        "并非边界：以有出处的定位点为圆心、按官方面积绘制的圆，仅示意园区规模。"),
    "unlocated": Term(
        "Not on the map", "未上图",
        "No source that can be cited gives the park's site or boundary, so it is not drawn; its "
        "figures and notes are listed. An OpenStreetMap extract or an official boundary file "
        "(OpenStreetMap page) can place it.",
        "没有可引用的来源给出园区位置或边界，因此不绘制，只列出数据与说明；"
        "可通过开放街图数据或官方边界文件（开放街图页面）为其上图。"),
}

LOCATION_TIERS: dict[str, Term] = {
    "site": Term("Site", "实际地址",
                 "Coordinates of the organisation's own site, from a cited source.",
                 "来自引用来源的机构实际位置坐标。"),
    "park": Term("Park anchor", "园区定位点",
                 "The exact site is not known: placed at its park's anchor point.",
                 "具体位置未知：标注在所在园区的定位点。"),
    "osm": Term("OpenStreetMap feature", "开放街图要素",
                "Was known only by its park; placed on an OpenStreetMap feature matched by its name and address"
                " and confirmed (© OpenStreetMap contributors, ODbL 1.0).",
                "原仅知所在园区；按名称和地址匹配到开放街图要素并经确认（© OpenStreetMap 贡献者，ODbL 1.0）。"),
}
# Tiers drawn as points of their own (the others are counted on their park's symbol).
POINT_LOCATION_TIERS: tuple[str, ...] = ("site", "osm")
# Tiers the curated data may state; "osm" is only given in a workspace (geo.org_placements).
CURATED_LOCATION_TIERS: tuple[str, ...] = ("site", "park")

QUALIFIERS: dict[str, Term] = {
    "exact": Term("", ""),
    "at_least": Term("at least", "不少于"),
    "about": Term("about", "约"),
    "more_than": Term("more than", "超过"),
    "nearly": Term("nearly", "近"),
    "up_to": Term("up to", "最高"),
}

SUBJECT_TYPES: tuple[str, ...] = ("city", "hub", "district", "park", "organisation")


def label(vocabulary: dict[str, Term], code: str, *, language: str = "en") -> str:
    """Return the label of ``code`` in ``language`` ("en" or "zh"); the code if unknown."""
    term = vocabulary.get(code)
    if term is None:
        return code
    return term.zh if language == "zh" else term.en


def split_codes(value: object) -> list[str]:
    """Split a stored ``a;b;c`` list of codes; empty for missing values."""
    if not isinstance(value, str) or not value.strip():
        return []
    return [part.strip() for part in value.split(";") if part.strip()]

PARCEL_STATUSES: dict[str, Term] = {
    "planned": Term("planned", "规划"),
    "under_construction": Term("under construction (started)", "在建（已开工）"),
    "completed": Term("completed", "建成"),
}

PARCEL_USES: dict[str, Term] = {
    "industrial_land": Term("industrial land", "产业用地"),
    "standard_factory": Term("standard factory buildings", "标准厂房"),
    "other": Term("other", "其他"),
}

# What stops a parcel from being used (geo.geometry_check codes), with the fix in both languages.
PARCEL_PROBLEMS: dict[str, Term] = {
    "missing": Term("no geometry", "无几何图形", "Delete it, or upload the parcel again.", "请删除，或重新上传该地块。"),
    "not_polygon": Term("not a polygon", "不是面要素", "Parcels must be polygons: delete it.", "地块必须是面要素：请删除。"),
    "non_finite": Term("coordinates contain NaN or Infinity", "坐标含有NaN或无穷大",
                       "Fix the coordinates in the source file, or delete it.", "请在源文件中修正坐标，或删除。"),
    "empty": Term("no area", "面积为零", "Delete it, or draw it again.", "请删除或重新绘制。"),
    "too_many_vertices": Term("too many vertices", "顶点过多",
                              "Simplify it (e.g. QGIS Simplify, 1 m) and upload it again.",
                              "请简化后（如QGIS简化工具，容差1米）重新上传。"),
    "swapped_axes": Term("latitude and longitude swapped", "经纬度顺序颠倒",
                         "Swap the axes back.", "请交换坐标轴顺序。"),
    "projected": Term("coordinates in metres, not degrees", "坐标为米制而非经纬度",
                      "Choose the coordinate system the file was written in.", "请选择文件所用的坐标系。"),
    "outside_beijing": Term("outside Beijing", "不在北京市范围内",
                            "Choose the right coordinate system, or delete it.", "请选择正确的坐标系，或删除。"),
    "attribute": Term("an attribute cannot be used", "属性值无法使用",
                      "Fix the status, use or floor figures in the file.", "请修正文件中的状态、用途或面积数值。"),
    "import": Term("could not be read", "无法读取", "See the reason; fix the file and upload it again.",
                   "请查看原因，修正文件后重新上传。"),
}
