"""Drawing the park brief: its map, locator map and series chart as reportlab flowables, drawn
with path operations from geometries projected to UTM 50N (no tiles), and the page's paragraph
styles and tables. ``geo.brief`` assembles the data and lays out the page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from geo.brief_text import tr
from geo.projection import BEIJING_UTM
from geo.wording import format_compact, metric_label

# Binary (Flate-only) streams: ASCII85 makes a PDF a quarter bigger and is slow in pure Python.
# reportlab serves only the park brief in the app.
rl_config.useA85 = 0

#: The colours of the app's context layer (layers/context.py), by OSM context kind.
CONTEXT_COLOURS: dict[str, str] = {"hospital": "#c0392b", "metro_station": "#2e86c1", "university": "#1e8449",
                                   "research_institute": "#884ea0", "airport": "#34495e"}
MAP_CRS = BEIJING_UTM  # UTM zone 50N: the fixed plane maps are drawn on (geo.projection)


# ----------------------------------------------------------------------------------------------
# Map drawing


class Projector:
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


def fit_bounds(bounds: Sequence[float], w: float, h: float) -> tuple[float, float, float, float]:
    """Grow bounds (metres) to the frame's aspect ratio."""
    minx, miny, maxx, maxy = bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    span_x, span_y = maxx - minx, maxy - miny
    if span_x / w > span_y / h:
        span_y = span_x * h / w
    else:
        span_x = span_y * w / h
    return cx - span_x / 2, cy - span_y / 2, cx + span_x / 2, cy + span_y / 2


def draw_path(canvas: Canvas, geom: shapely.Geometry, project: Projector, *, fill: bool, stroke: bool = True) -> None:
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


def nice_km(span_m: float) -> float:
    target = span_m / 4 / 1000
    for step in (0.1, 0.2, 0.25, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50):
        if step >= target:
            return step
    return 100.0


@dataclass
class MapData:
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


class MapFlowable(Flowable):
    """The brief's main map, drawn with reportlab path operations from projected geometries."""

    def __init__(self, data: MapData, width: float, height: float, font: str) -> None:
        super().__init__()
        self.data, self.width, self.height, self.font = data, width, height, font

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c, d = self.canv, self.data
        w, h = self.width, self.height
        view = fit_bounds(d.view, w, h)
        project = Projector(view, 0, 0, w, h)
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
            draw_path(c, geom, project, fill=True)
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
            draw_path(c, row.geometry, project, fill=True)
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
                label(short(d.names[d.park["park_id"]], 40), px, py + dy, 8, "#4a235a", halo=True)
                if len(placed) > before:
                    break
        for row in d.parks.itertuples():
            if row.park_id == d.park["park_id"]:
                continue
            anchor = shapely.point_on_surface(row.geometry)
            px, py = project(np.array([[anchor.x, anchor.y]]))[0]
            text = short(d.names.get(row.park_id, ""), 30)
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

    def _furniture(self, view: tuple[float, float, float, float], project: Projector) -> None:
        """Scale bar, north arrow and a small legend."""
        c, lang, w, h = self.canv, self.data.lang, self.width, self.height
        span = view[2] - view[0]
        km = nice_km(span)
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


class LocatorFlowable(Flowable):
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
        bounds = fit_bounds(self.districts.total_bounds, self.width, self.height - 10)
        project = Projector(bounds, 0, 0, self.width, self.height - 10)
        c.saveState()
        shown = shapely.simplify(self.districts.geometry.values, 0.4 / project.scale)
        for district_id, geom in zip(self.districts["district_id"], shown, strict=True):
            own = district_id == self.district_id
            c.setFillColor(colors.HexColor("#e59866" if own else "#eef1f4"))
            c.setStrokeColor(colors.white)
            c.setLineWidth(0.4)
            draw_path(c, geom, project, fill=True)
        c.setStrokeColor(colors.HexColor("#c0392b"))
        c.setLineWidth(1)
        draw_path(c, shapely.box(*self.view), project, fill=False)
        c.setFillColor(colors.HexColor("#555555"))
        c.setFont(self.font, 7)
        c.drawString(0, self.height - 8, self.title)
        c.restoreState()


class SeriesFlowable(Flowable):
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


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def paragraph_styles(font: str) -> dict[str, ParagraphStyle]:
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


def esc(value: object) -> str:
    """Text for a reportlab Paragraph (a small XML dialect): escape &, < and >."""
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def table(rows: list[list[str]], widths: list[float], styles: dict[str, ParagraphStyle]) -> Table:
    body = [[Paragraph(esc(cell), styles["cellhead" if i == 0 else "cell"]) for cell in row]
            for i, row in enumerate(rows)]
    out = Table(body, colWidths=widths, repeatRows=1, hAlign="LEFT")
    out.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#5b2c6f")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f4f1f6")]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LINEBELOW", (0, -1), (-1, -1), 0.4, colors.HexColor("#5b2c6f")),
    ]))
    return out

