"""Reported figures in words and charts: every figure with its qualifier, date and source.

Text helpers are geo.wording's (shared with the park brief, geo.brief), re-exported; the charts are Altair
(Vega-Lite) specifications with a title, axis titles with units and the parks' full names.
No Streamlit calls here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import altair as alt
import pandas as pd

from geo.figures import ENTERPRISE_METRICS
from geo.wording import figure_value, is_missing, source_long, source_short  # noqa: F401 (re-exported)
from layers.i18n import format_compact, metric_label, t, translator

TEXT = {
    "not_reported": ("not reported", "未公布"),
    "area_col": ("Area", "面积"),
    "area_source_col": ("Area: date · source", "面积：时间 · 来源"),
    "enterprises_col": ("Enterprises reported (latest)", "公开报道企业数（最新）"),
    "enterprises_source_col": ("Enterprises: date · source", "企业数：时间 · 来源"),
    "area_title": ("Reported area of each park", "各园区公开面积"),
    "area_axis": ("Area (km²)", "面积（平方公里）"),
    "enterprises_title": ("Enterprises reported, latest figure per park", "各园区最新公开企业数"),
    "enterprises_axis": ("Number reported", "公开数量"),
    "series_title": ("Reported enterprises over time", "历年公开企业数"),
    "date_axis": ("Date of the figure", "数据时间"),
    "orgs_title": ("Organisations on this map, per park", "各园区在本图上的机构数"),
    "orgs_axis": ("Organisations (count)", "机构数（个）"),
    "park_axis": ("Park", "园区"),
    "what_counted": ("What is counted", "统计口径"),
    "figure": ("Figure", "数据"),
    "metric": ("Measures", "指标"),
    "date": ("Date", "时间"),
    "source": ("Source", "来源"),
}
tr = translator(TEXT)

def comparison_table(headline: pd.DataFrame, names: Mapping[str, str], sources: pd.DataFrame,
                     lang: str) -> pd.DataFrame:
    """One row per park: area and latest enterprises, each with qualifier, date and source.

    ``headline`` is ``geo.figures.park_headline_figures``; an area that is not the park's own
    (the host park's) names what it measures; disagreeing figures at one date are all listed.
    """
    rows = []
    for park_id, group in headline.groupby("park_id", sort=False):
        cells = {}
        for figure, value_col, source_col in (("area", "area_col", "area_source_col"),
                                              ("enterprises", "enterprises_col", "enterprises_source_col")):
            facts = group[group["figure"] == figure].to_dict("records")
            values, dated = [], []
            for fact in facts:
                text = figure_value(fact, lang)
                if figure == "area" and fact.get("metric") not in (None, "area"):
                    text = f"{text} ({metric_label(fact['metric'], lang)})"
                values.append(text)
                if not is_missing(fact.get("value")):
                    dated.append(f"{fact['date']} · {source_short(fact['source_id'], sources)}")
            cells[tr(value_col, lang)] = " / ".join(values)
            cells[tr(source_col, lang)] = " / ".join(dated) or "–"
        rows.append({tr("park_axis", lang): names.get(park_id, park_id), **cells})
    return pd.DataFrame(rows)


def reported_comparison(comparison: pd.DataFrame, names: Mapping[str, str], sources: pd.DataFrame,
                        lang: str) -> pd.DataFrame:
    """``geo.joins.compare_with_reported`` for display: each reported figure in words with its
    qualifier and what it counts ('more than 4,000 enterprises and institutions'), its date and
    source; 'not reported' where there is none."""
    rows = []
    for row in comparison.to_dict("records"):
        reported = {**row, "value": row.get("reported"), "unit": row.get("unit") or "count"}
        rows.append({t("park", lang): names.get(row["subject"], row["subject"]), t("mapped", lang): row["mapped"],
                     t("reported", lang): figure_value(reported, lang),
                     t("as_of", lang): row.get("as_of") or "–",
                     t("source", lang): source_long(row.get("source_id"), sources) or "–"})
    return pd.DataFrame(rows, columns=[t(k, lang) for k in ("park", "mapped", "reported", "as_of", "source")])


def _chart_rows(headline: pd.DataFrame, figure: str, names: Mapping[str, str], sources: pd.DataFrame,
                lang: str) -> pd.DataFrame:
    chosen = headline[headline["figure"] == figure]
    rows = []
    for fact in chosen.to_dict("records"):
        value = fact["value"]
        if figure == "area" and not is_missing(value):
            value = float(value) * {"km2": 1.0, "ha": 0.01, "m2": 1e-6, "mu": 1 / 1500}.get(str(fact["unit"]), math.nan)
        rows.append({
            "park": names.get(fact["park_id"], fact["park_id"]),
            "value": None if is_missing(value) else float(value),
            "label": figure_value(fact, lang),
            "measures": metric_label(fact["metric"], lang) if fact.get("metric") else tr("not_reported", lang),
            "date": fact.get("date") or "–",
            "source": source_long(fact.get("source_id"), sources) or "–",
        })
    return pd.DataFrame(rows, columns=["park", "value", "label", "measures", "date", "source"])


#: One colour and one point shape per thing counted, in every language and chart.
COUNT_COLOURS: dict[str, str] = {"enterprises": "#4c78a8", "enterprises_and_institutions": "#f58518"}
COUNT_SHAPES: dict[str, str] = {"enterprises": "circle", "enterprises_and_institutions": "square"}


def _counted_scale(lang: str, values: dict[str, str]) -> alt.Scale:
    return alt.Scale(domain=[metric_label(m, lang) for m in values], range=list(values.values()))


def _finish(chart: alt.LayerChart, title: str, height: int | alt.Step) -> alt.LayerChart:
    """Title, height of the plot itself (legends and axes are added around it: "fit-x") and the look.

    The charts carry their whole configuration: show them with ``theme=None`` (Streamlit's theme
    would shrink the plot to make room for the legends and cut long legend labels).
    """
    return (chart.properties(title=alt.TitleParams(title, anchor="start"), height=height,
                             autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))
            .configure(font="sans-serif")
            .configure_title(fontSize=15, fontWeight="bold", color="#31333f", offset=12)
            .configure_axis(labelColor="#555555", titleColor="#555555", titleFontWeight="normal", labelFontSize=12,
                            titleFontSize=12, gridColor="#ececec", domainColor="#aaaaaa", tickColor="#aaaaaa")
            .configure_legend(labelLimit=0, titleFontWeight="normal", titleColor="#555555", labelColor="#333333",
                              labelFontSize=12, titleFontSize=12)
            .configure_view(stroke=None))


def _park_axis(lang: str) -> alt.Axis:
    """The parks' full names, never cut, with the axis title above them rather than across them."""
    return alt.Axis(labelLimit=0, titleAngle=0, titleAlign="right", titleAnchor="end", titleY=-6, titleX=-4)


def _tooltip(lang: str) -> list[alt.Tooltip]:
    return [alt.Tooltip("park:N", title=tr("park_axis", lang)), alt.Tooltip("label:N", title=tr("figure", lang)),
            alt.Tooltip("measures:N", title=tr("metric", lang)), alt.Tooltip("date:N", title=tr("date", lang)),
            alt.Tooltip("source:N", title=tr("source", lang))]


def _bars(rows: pd.DataFrame, *, title: str, axis: str, lang: str, colour: str | None = None) -> alt.Chart:
    """Horizontal bars with the figure's words (qualifier included) at the end of each bar."""
    y = alt.Y("park:N", title=tr("park_axis", lang), sort=None, axis=_park_axis(lang))
    base = alt.Chart(rows)
    colour_enc = (alt.Color("measures:N", title=tr("what_counted", lang), scale=_counted_scale(lang, COUNT_COLOURS),
                            legend=alt.Legend(orient="bottom", labelLimit=0))
                  if colour else alt.value("#7d3c98"))
    bars = base.mark_bar().encode(x=alt.X("value:Q", title=axis), y=y, color=colour_enc, tooltip=_tooltip(lang))
    labels = base.mark_text(align="left", dx=4, color="#333").encode(
        x=alt.X("value_or_zero:Q"), y=y, text="label:N", tooltip=_tooltip(lang)
    ).transform_calculate(value_or_zero="datum.value === null ? 0 : datum.value")
    return _finish(bars + labels, title, alt.Step(28))


def area_chart(headline: pd.DataFrame, names: Mapping[str, str], sources: pd.DataFrame, lang: str) -> alt.Chart:
    """Bars of each park's reported area in km² (a host park's area is labelled as such)."""
    rows = _chart_rows(headline, "area", names, sources, lang)
    return _bars(rows, title=tr("area_title", lang), axis=tr("area_axis", lang), lang=lang)


def enterprises_chart(headline: pd.DataFrame, names: Mapping[str, str], sources: pd.DataFrame,
                      lang: str) -> alt.Chart:
    """Bars of each park's latest reported enterprises, coloured by what the figure counts."""
    rows = _chart_rows(headline, "enterprises", names, sources, lang)
    return _bars(rows, title=tr("enterprises_title", lang), axis=tr("enterprises_axis", lang), lang=lang,
                 colour="measures")


def series_chart(series: pd.DataFrame, names: Mapping[str, str], sources: pd.DataFrame, lang: str) -> alt.Chart:
    """Reported enterprises over time, one line per park, the point's shape saying what is counted.

    ``series`` is ``geo.figures.dated_series`` of ``ENTERPRISE_METRICS``.
    """
    rows = pd.DataFrame({
        "park": [names.get(p, p) for p in series["subject_id"]],
        "when": series["date_start"],
        "value": series["value"].astype(float),
        "label": [format_compact(float(f["value"]), str(f["unit"]), lang, qualifier=str(f["qualifier"]))
                  for f in series.to_dict("records")],
        "measures": [metric_label(m, lang) for m in series["metric"]],
        "date": series["date"],
        "source": [source_long(s, sources) for s in series["source_id"]],
    })
    base = alt.Chart(rows)
    x = alt.X("when:T", title=tr("date_axis", lang), axis=alt.Axis(format="%Y", tickCount="year"))
    y = alt.Y("value:Q", title=tr("enterprises_axis", lang))
    colour = alt.Color("park:N", title=tr("park_axis", lang),
                       legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=0))
    line = base.mark_line(strokeDash=[4, 3]).encode(x=x, y=y, color=colour)
    points = base.mark_point(size=80, filled=True).encode(
        x=x, y=y, color=colour, shape=alt.Shape("measures:N", title=tr("what_counted", lang),
                                                scale=_counted_scale(lang, COUNT_SHAPES),
                                                legend=alt.Legend(orient="bottom", direction="vertical",
                                                                  labelLimit=0)),
        tooltip=_tooltip(lang))
    labels = base.mark_text(dy=-12, color="#333").encode(x=x, y=y, text="label:N")
    return _finish(line + points + labels, tr("series_title", lang), 240)


def organisations_chart(counts: pd.DataFrame, lang: str) -> alt.Chart:
    """Bars of the organisations on this map per park (``park``, ``count``)."""
    base = alt.Chart(counts)
    y = alt.Y("park:N", title=tr("park_axis", lang), sort=None, axis=_park_axis(lang))
    bars = base.mark_bar(color="#2471a3").encode(x=alt.X("count:Q", title=tr("orgs_axis", lang),
                                                         axis=alt.Axis(tickMinStep=1)), y=y,
                                                 tooltip=[alt.Tooltip("park:N", title=tr("park_axis", lang)),
                                                          alt.Tooltip("count:Q", title=tr("orgs_axis", lang))])
    labels = base.mark_text(align="left", dx=4, color="#333").encode(x="count:Q", y=y, text="count:Q")
    return _finish(bars + labels, tr("orgs_title", lang), alt.Step(28))


__all__ = ["ENTERPRISE_METRICS", "area_chart", "comparison_table", "enterprises_chart", "figure_value",
           "organisations_chart", "reported_comparison", "series_chart", "source_long", "source_short"]
