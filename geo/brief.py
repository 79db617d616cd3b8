"""A park brief to take away: one A4 page (PDF) about one park, rendered offline.

The page holds a map drawn from the snapshot itself (district boundaries, the park's shape, other
parks, organisations with a known site and, when an OpenStreetMap extract is given, its site
context; no tiles), a locator map of Beijing, the park's figures with qualifier, date and
source, its specialisations and organisations, what its shape on the map is (a nominal circle
is a size, not a boundary; an unlocated park is not on the map) and the snapshot version.

This module assembles what the page says from the snapshot and lays the page out; the words and
the font are in ``geo.brief_text``, the drawing (maps, chart, tables) in ``geo.brief_draw``.
Wording and number formats are ``geo.wording``'s, which the pages use too, so the brief says
exactly what the Parks page says.
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
import shapely
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame, KeepInFrame, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from geo.brief_draw import (
    MAP_CRS,
    LocatorFlowable,
    MapData,
    MapFlowable,
    SeriesFlowable,
    esc,
    paragraph_styles,
    short,
    table,
)
from geo.brief_text import FONT_ENV, LANGUAGES, TEXT, FontChoice, find_cjk_font, register_font, tr  # noqa: F401
from geo.errors import BriefError
from geo.figures import ENTERPRISE_METRICS, dated_series, disagreements, figure_date, latest_figures
from geo.shapes import is_drawn
from geo.snapshot import Snapshot
from geo.vocab import GEOMETRY_TIERS, HUB_ROLES, LOCATION_TIERS, ORGANISATION_KINDS, SPECIALISATIONS, split_codes
from geo.wording import figure_value, metric_label, source_long

# ----------------------------------------------------------------------------------------------
# Content


def _name(row: Mapping | pd.Series, lang: str) -> str:
    return str(row["name_zh"] if lang == "zh" else row["name_en"])


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
    font = register_font(*(lambda f: (str(f.path), f.index))(find_cjk_font()))
    styles = paragraph_styles(font)
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
    map_data = MapData(districts=districts_m, parks=parks_m, park=park_row, located=located,
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
    canvas.drawString(margin, page_h - margin - 29, short(other_title, 110))
    canvas.setFont(font, 7.5)
    canvas.drawRightString(page_w - margin, page_h - margin + 8 - 6, f"{tr('brief', lang)} · {tr('generated_by', lang)}")
    canvas.setFont(font, 7.5)
    canvas.drawString(margin, page_h - margin - 40,
                      f"{tr('district', lang)}: {district_name}"
                      + (f" · {tr('hub', lang)}: {_name(hub.iloc[0], lang)} "
                         f"({(HUB_ROLES[hub.iloc[0]['role']].zh if lang == 'zh' else HUB_ROLES[hub.iloc[0]['role']].en)})"
                         if len(hub) and hub.iloc[0]['role'] in HUB_ROLES else ""))

    # Map (left) with its title
    map_title = (tr("map_title", lang, name=short(title, 60)) if located
                 else tr("map_unlocated", lang, district=district_name))
    canvas.setFillColor(colors.HexColor("#4a235a"))
    canvas.setFont(font, 8.5)
    canvas.drawString(margin, top - 12, map_title)
    map_flow = MapFlowable(map_data, map_w, map_h, font)
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
    glance_table = Table([[Paragraph(esc(k), styles["small"]), Paragraph(esc(v), styles["cell"])] for k, v in glance],
                         colWidths=[side_w * 0.36, side_w * 0.64], hAlign="LEFT")
    glance_table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#d5d8dc")),
        ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    side.append(glance_table)
    side.append(Spacer(1, 6))
    specs = [SPECIALISATIONS[c].zh if lang == "zh" else SPECIALISATIONS[c].en
             for c in split_codes(park["specialisations"]) if c in SPECIALISATIONS]
    side.append(Paragraph(esc(tr("specialisations", lang)), styles["h2"]))
    side.append(Paragraph(esc(("、" if lang == "zh" else ", ").join(specs) or tr("none_stated", lang)),
                          styles["small"]))
    side_h_avail = map_h + 16 - 118
    side_frame = Frame(margin + map_w + 12, top - 16 - map_h + 118, side_w, side_h_avail,
                       leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, showBoundary=0)
    side_frame.addFromList([KeepInFrame(side_w, side_h_avail, side, mode="shrink")], canvas)
    locator = LocatorFlowable(districts_m, str(park["district_id"]), view, side_w, 112, font,
                               f"{tr('locator', lang)} · {district_name}")
    locator.drawOn(canvas, margin + map_w + 12, top - 16 - map_h)

    # Lower part: geometry tier statement, figures, organisations, site context, sources
    lower: list[Flowable] = []
    tier = str(park["geometry_tier"])
    statement = tr(f"tier_{tier}", lang) if f"tier_{tier}" in TEXT else GEOMETRY_TIERS[tier].en
    note = park.get("geometry_note")
    tier_text = f"<font color='#7d3c98'>{esc(tr('geometry', lang))}:</font> {esc(statement)}"
    if park_tier_count:
        tier_text += " " + esc(tr("park_tier_orgs", lang, n=park_tier_count))
    lower.append(Paragraph(tier_text, styles["tier"]))
    if isinstance(note, str) and note:
        lower.append(Spacer(1, 5))
        lower.append(Paragraph(f"<font color='#777777'>{esc(tr('note', lang))}</font>{esc(note)}", styles["tiny"]))

    lower.append(Paragraph(esc(tr("figures", lang)), styles["h2"]))
    if facts.empty:
        lower.append(Paragraph(esc(tr("no_figures", lang)), styles["small"]))
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
            figures_table = table(rows, [table_w * 0.40, table_w * 0.32, table_w * 0.16, table_w * 0.12], styles)
            chart = SeriesFlowable(series, chart_w, 150, font, lang)
            pair = Table([[figures_table, chart]], colWidths=[table_w + 10, chart_w], hAlign="LEFT")
            pair.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                      ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0),
                                      ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
            lower.append(pair)
        else:
            lower.append(table(rows, [content_w * 0.40, content_w * 0.30, content_w * 0.14, content_w * 0.16],
                                styles))
        notes = []
        if dated_series(facts)["date"].nunique() > 1 or ordered.groupby("metric")["_date"].nunique().gt(1).any():
            notes.append(tr("series_note", lang))
        if not conflicts.empty:
            notes.append(tr("disagree", lang, figures=", ".join(sorted(
                {f"{metric_label(m, lang)} ({d})" for m, d in zip(conflicts["metric"], conflicts["date"])}))))
        for text in notes:
            lower.append(Paragraph(esc(text), styles["tiny"]))

    lower.append(Paragraph(esc(tr("orgs", lang, n=len(orgs))), styles["h2"]))
    if orgs.empty:
        lower.append(Paragraph(esc(tr("no_orgs", lang)), styles["small"]))
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
        left = table([head, *cells[:half]], widths, styles)
        if half < len(cells):
            right = table([head, *cells[half:]], widths, styles)
            pair = Table([[left, right]], colWidths=[content_w / 2, content_w / 2], hAlign="LEFT")
            pair.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                      ("RIGHTPADDING", (0, 0), (0, 0), 8), ("RIGHTPADDING", (1, 0), (1, 0), 0),
                                      ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
            lower.append(pair)
        else:
            lower.append(left)

    lower.append(Paragraph(esc(tr("site_context", lang)), styles["h2"]))
    if not located:
        lower.append(Paragraph(esc(tr("context_unlocated", lang)), styles["small"]))
    elif context is None:
        lower.append(Paragraph(esc(tr("context_none", lang)), styles["small"]))
    elif park_context is None or park_context.empty:
        lower.append(Paragraph(esc(tr("context_empty", lang, name=context_name or "OSM")), styles["small"]))
    else:
        for kind, group in park_context.sort_values("distance_m").groupby("kind", sort=False):
            first = group.iloc[0]
            nearest = first.get("name_zh") if lang == "zh" and first.get("name_zh") else (
                first.get("name_en") or first.get("name_zh") or first.get("name") or "–")
            metres = float(first["distance_m"])
            distance = (f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m") if lang != "zh" else (
                f"{metres / 1000:.1f}公里" if metres >= 1000 else f"{metres:.0f}米")
            label = tr(kind, lang) if kind in TEXT else kind
            lower.append(Paragraph(esc(f"{label}: " + tr("context_row", lang, count=len(group), nearest=nearest,
                                                           distance=distance)), styles["small"]))
        lower.append(Paragraph(esc(tr("context_from", lang, name=context_name or "OSM")), styles["tiny"]))

    lower.append(Paragraph(esc(tr("sources", lang)), styles["h2"]))
    if park.get("geometry_source_ids"):
        for source_id in split_codes(str(park["geometry_source_ids"]).replace(",", ";")):
            refs.cite(source_id)
    for i, source_id in enumerate(refs.ids, start=1):
        row = snapshot.sources[snapshot.sources["source_id"] == source_id]
        url = row.iloc[0]["url"] if len(row) and isinstance(row.iloc[0]["url"], str) else ""
        lower.append(Paragraph(esc(f"[{i}] {source_long(source_id, snapshot.sources)}" + (f" {url}" if url else "")),
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
    para = Paragraph(esc(footer), footer_style)
    _, height = para.wrap(content_w, footer_h)
    para.drawOn(canvas, margin, margin + footer_h - 9 - height)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
