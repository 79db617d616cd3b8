"""Reported figures read honestly: dated series, real disagreements, the latest figure.

A subject's figures for one metric are either one figure, a *dated series* (the same metric
reported at different dates: 400 in 2017, 500 in 2021 ... is growth, not a conflict), or a
*disagreement*: two sources giving different figures for the same metric at the same date or
period. Only the last is a conflict, and every page that says "sources disagree" asks
``disagreements`` here.

Dates are compared at the coarser precision of the two: "2025" and "2025-08-07" are the same
date (a year-only figure cannot be told apart from one dated within that year), "2021-05-12"
and "2021-05-14" are not. A period ("2024-2026") is the same date only as the same period.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from geo.errors import FigureError

#: Metrics that count the enterprises of a park, and what each counts.
ENTERPRISE_METRICS: tuple[str, ...] = ("enterprises", "enterprises_and_institutions")

#: Area units in square metres, so that 88.6 ha and 0.886 km2 are the same figure.
_TO_M2: dict[str, float] = {"m2": 1.0, "ha": 1e4, "km2": 1e6, "mu": 10_000 / 15}
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_FACT_COLUMNS = ("fact_id", "subject_type", "subject_id", "metric", "value", "unit", "qualifier",
                 "as_of", "source_id")


def _check(facts: pd.DataFrame) -> None:
    missing = [c for c in _FACT_COLUMNS if c not in facts.columns]
    if missing:
        raise FigureError(f"facts table lacks column(s) {', '.join(map(repr, missing))}")


def figure_date(fact: pd.Series | dict) -> str:
    """The date a figure refers to: its ``period`` if it has one, else its ``as_of`` date.

    Raises
    ------
    FigureError
        If the figure has neither.
    """
    for column in ("period", "as_of"):
        value = fact.get(column)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise FigureError(f"figure {fact.get('fact_id')!r} has no period and no as_of date")


def same_date(a: str, b: str) -> bool:
    """Whether two figure dates are the same date, compared at the coarser precision.

    Examples
    --------
    >>> same_date("2025", "2025-08-07"), same_date("2021-05-12", "2021-05-14")
    (True, False)
    >>> same_date("2024-2026", "2024")
    False
    """
    a, b = a.strip(), b.strip()
    if a == b:
        return True
    if not (_DATE.match(a) and _DATE.match(b)):
        return False  # a period or a free-form date: only the same text is the same date
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def date_start(value: str) -> pd.Timestamp:
    """The first day a figure date covers ("2021" -> 2021-01-01; "2024-2026" -> 2024-01-01)."""
    match = re.match(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value.strip())
    if not match:
        raise FigureError(f"cannot read the date {value!r}: expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-YYYY")
    year, month, day = match.groups()
    if month and len(value.strip()) > 4 and value.strip()[4] == "-" and int(month) > 12:
        month = None  # "2024-2026": a period of years
    return pd.Timestamp(int(year), int(month or 1), int(day or 1))


def same_figure(a: pd.Series | dict, b: pd.Series | dict) -> bool:
    """Whether two figures say the same thing: equal value (area units converted) and qualifier."""
    if str(a["qualifier"]) != str(b["qualifier"]):
        return False
    unit_a, unit_b = str(a["unit"]), str(b["unit"])
    value_a, value_b = float(a["value"]), float(b["value"])
    if unit_a != unit_b:
        if unit_a not in _TO_M2 or unit_b not in _TO_M2:
            return False
        value_a, value_b = value_a * _TO_M2[unit_a], value_b * _TO_M2[unit_b]
    return math.isclose(value_a, value_b, rel_tol=1e-9, abs_tol=0.0)


def disagreements(facts: pd.DataFrame) -> pd.DataFrame:
    """The figures that another source contradicts: same subject, metric and date, another figure.

    Parameters
    ----------
    facts : DataFrame
        Figures with ``fact_id``, ``subject_type``, ``subject_id``, ``metric``, ``value``,
        ``unit``, ``qualifier``, ``as_of`` (and optionally ``period``) and ``source_id``.

    Returns
    -------
    DataFrame
        One row per figure in a disagreement: ``fact_id``, ``subject_type``, ``subject_id``,
        ``metric``, ``date`` and ``disagrees_with`` (the other figures' ids, ``;``-separated).
        Empty when no two sources disagree; a dated series never appears here.
    """
    _check(facts)
    others: dict[str, list[str]] = {}
    keyed = facts.assign(_date=[figure_date(f) for _, f in facts.iterrows()])
    for _, group in keyed.groupby(["subject_type", "subject_id", "metric"], sort=False):
        rows = list(group.to_dict("records"))
        for i, a in enumerate(rows):
            for b in rows[i + 1:]:
                if (a["source_id"] != b["source_id"] and same_date(a["_date"], b["_date"])
                        and not same_figure(a, b)):
                    others.setdefault(a["fact_id"], []).append(b["fact_id"])
                    others.setdefault(b["fact_id"], []).append(a["fact_id"])
    chosen = keyed[keyed["fact_id"].isin(others)]
    return pd.DataFrame({
        "fact_id": chosen["fact_id"].tolist(),
        "subject_type": chosen["subject_type"].tolist(),
        "subject_id": chosen["subject_id"].tolist(),
        "metric": chosen["metric"].tolist(),
        "date": chosen["_date"].tolist(),
        "disagrees_with": [";".join(others[f]) for f in chosen["fact_id"]],
    })


def dated_series(facts: pd.DataFrame, metrics: tuple[str, ...] | list[str] = ENTERPRISE_METRICS) -> pd.DataFrame:
    """The figures of ``metrics`` in date order, with ``date`` (text) and ``date_start`` columns.

    A subject with figures at two or more dates has a series; ``dates`` counts its distinct
    dates so a caller can draw a chart only where there is one.
    """
    _check(facts)
    chosen = facts[facts["metric"].isin(list(metrics))].copy()
    chosen["date"] = [figure_date(f) for _, f in chosen.iterrows()]
    chosen["date_start"] = [date_start(d) for d in chosen["date"]]
    chosen["dates"] = chosen.groupby("subject_id")["date"].transform("nunique").astype(int) if len(chosen) else []
    return chosen.sort_values(["subject_id", "date_start", "metric"], kind="stable").reset_index(drop=True)


def latest_figures(facts: pd.DataFrame, subject_id: str,
                   metrics: tuple[str, ...] | list[str] = ENTERPRISE_METRICS) -> pd.DataFrame:
    """A subject's most recent figures of ``metrics``: one row, or several if sources disagree.

    The most recent date is the latest ``date_start``; every figure at a date that is the same
    date as it (see ``same_date``) is returned, so a disagreement at the latest date shows both.
    Empty if the subject has no such figure ("not reported").
    """
    series = dated_series(facts[facts["subject_id"] == subject_id], metrics)
    if series.empty:
        return series
    newest = series.loc[series["date_start"].idxmax(), "date"]
    return series[[same_date(d, newest) for d in series["date"]]].reset_index(drop=True)


#: The headline figures of a park, in the order they are compared.
HEADLINE_FIGURES: tuple[str, ...] = ("area", "enterprises")
_HEADLINE_COLUMNS = ["park_id", "figure", "fact_id", "metric", "value", "unit", "qualifier", "date",
                     "source_id"]


def park_headline_figures(facts: pd.DataFrame, parks: pd.DataFrame, park_ids: list[str]) -> pd.DataFrame:
    """Each park's area and latest reported enterprises, each with what it measures, date and source.

    The area is the figure the park's outline uses (``area_fact_id``: for Mentougou that is the
    host park's area, and ``metric`` says so); the enterprises are ``latest_figures`` of
    ``ENTERPRISE_METRICS`` (``metric`` says whether institutions are counted too). A park with
    no such figure gets one row with ``fact_id`` None and ``value`` NaN: not reported.

    Returns
    -------
    DataFrame
        Columns ``park_id``, ``figure`` ("area" or "enterprises"), ``fact_id``, ``metric``,
        ``value``, ``unit``, ``qualifier``, ``date``, ``source_id``; rows in ``park_ids`` order.

    Raises
    ------
    FigureError
        For a park id that is not in ``parks``.
    """
    _check(facts)
    by_id = parks.set_index("park_id")
    unknown = [p for p in park_ids if p not in by_id.index]
    if unknown:
        raise FigureError(f"unknown park id(s) {', '.join(map(repr, unknown))}")
    facts_by_id = facts.set_index("fact_id", drop=False)
    rows: list[dict] = []

    def add(park_id: str, figure: str, fact: pd.Series | None) -> None:
        if fact is None:
            rows.append({"park_id": park_id, "figure": figure, "fact_id": None, "metric": None,
                         "value": math.nan, "unit": None, "qualifier": None, "date": None, "source_id": None})
        else:
            rows.append({"park_id": park_id, "figure": figure, "fact_id": fact["fact_id"],
                         "metric": fact["metric"], "value": float(fact["value"]), "unit": fact["unit"],
                         "qualifier": fact["qualifier"], "date": figure_date(fact), "source_id": fact["source_id"]})

    for park_id in park_ids:
        area_id = by_id.loc[park_id].get("area_fact_id")
        add(park_id, "area", facts_by_id.loc[area_id] if isinstance(area_id, str) and area_id in facts_by_id.index
            else None)
        latest = latest_figures(facts[facts["subject_type"] == "park"], park_id)
        if latest.empty:
            add(park_id, "enterprises", None)
        for _, fact in latest.iterrows():
            add(park_id, "enterprises", fact)
    table = pd.DataFrame(rows, columns=_HEADLINE_COLUMNS)
    text = [c for c in _HEADLINE_COLUMNS if c != "value"]
    table[text] = table[text].astype(object).where(table[text].notna(), None)
    return table
