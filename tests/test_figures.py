"""geo.figures: a dated series is a series; only two sources at one date can disagree."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from geo.errors import GeoError
from geo.figures import (FigureError, dated_series, disagreements, latest_figures, park_headline_figures,
                         same_date, same_figure)
from geo.snapshot import load_snapshot


def _facts(*rows: tuple) -> pd.DataFrame:
    """(fact_id, subject_id, metric, value, unit, qualifier, as_of, source_id[, period])"""
    records = []
    for row in rows:
        fact_id, subject, metric, value, unit, qualifier, as_of, source = row[:8]
        records.append({"fact_id": fact_id, "subject_type": "park", "subject_id": subject, "metric": metric,
                        "value": value, "unit": unit, "qualifier": qualifier, "as_of": as_of,
                        "source_id": source, "period": row[8] if len(row) > 8 else None})
    return pd.DataFrame(records)


LIFE_SCIENCE_PARK = _facts(
    ("e2017", "lsp", "enterprises", 400, "count", "more_than", "2017-12-11", "xhyb"),
    ("e2021", "lsp", "enterprises", 500, "count", "more_than", "2021-12-16", "people"),
    ("e2023", "lsp", "enterprises", 600, "count", "more_than", "2023-03-17", "spotlight"),
    ("e2025", "lsp", "enterprises", 1000, "count", "more_than", "2025", "feature"),
)


def test_a_dated_series_of_one_metric_is_not_a_disagreement():
    assert disagreements(LIFE_SCIENCE_PARK).empty
    series = dated_series(LIFE_SCIENCE_PARK)
    assert series["value"].tolist() == [400, 500, 600, 1000]
    assert set(series["dates"]) == {4}


def test_two_sources_with_different_figures_at_one_date_disagree():
    facts = pd.concat([LIFE_SCIENCE_PARK, _facts(
        ("other2021", "lsp", "enterprises", 440, "count", "about", "2021", "caixin"))], ignore_index=True)
    found = disagreements(facts)
    assert sorted(found["fact_id"]) == ["e2021", "other2021"]
    assert found.set_index("fact_id").loc["other2021", "disagrees_with"] == "e2021"


@pytest.mark.parametrize("row, expected", [
    (("same", "lsp", "enterprises", 500, "count", "more_than", "2021-12-16", "copy"), False),  # agrees
    (("same_source", "lsp", "enterprises", 450, "count", "more_than", "2021-12-16", "people"), False),
    (("other_park", "bda", "enterprises", 450, "count", "more_than", "2021-12-16", "x"), False),
    (("other_metric", "lsp", "hospital_beds", 450, "count", "more_than", "2021-12-16", "x"), False),
    (("other_day", "lsp", "enterprises", 450, "count", "more_than", "2021-12-17", "x"), False),
    (("qualifier", "lsp", "enterprises", 500, "count", "about", "2021-12", "x"), True),
])
def test_what_counts_as_a_disagreement(row, expected):
    facts = pd.concat([LIFE_SCIENCE_PARK, _facts(row)], ignore_index=True)
    assert (row[0] in set(disagreements(facts)["fact_id"])) is expected


def test_areas_in_other_units_are_the_same_figure():
    facts = _facts(("ha", "city", "area", 88.6, "ha", "exact", "2025-12-03", "a"),
                   ("km2", "city", "area", 0.886, "km2", "exact", "2025-12", "b"),
                   ("n", "city", "enterprises", 1, "count", "exact", "2025", "c"))
    assert same_figure(facts.iloc[0], facts.iloc[1])
    assert not same_figure(facts.iloc[0], facts.iloc[2])
    assert disagreements(facts).empty


def test_dates_compare_at_the_coarser_precision_and_periods_only_as_themselves():
    assert same_date("2025", "2025-08-07") and same_date("2002-08", "2002-08-08")
    assert not same_date("2021-05-12", "2021-05-14")
    assert not same_date("2024-2026", "2024") and same_date("2024-2026", "2024-2026")
    # a period is the date of a target: two targets for one period from two sources disagree
    facts = _facts(("a", "city", "target", 25, "weeks", "up_to", "2024-05-23", "plan", "2024-2026"),
                   ("b", "city", "target", 20, "weeks", "up_to", "2025-08-07", "news", "2025"),
                   ("c", "city", "target", 22, "weeks", "up_to", "2025-09-01", "blog", "2024-2026"))
    assert sorted(disagreements(facts)["fact_id"]) == ["a", "c"]


def test_latest_figures_returns_the_newest_or_every_disagreeing_one_or_nothing():
    latest = latest_figures(LIFE_SCIENCE_PARK, "lsp")
    assert latest[["value", "qualifier", "date"]].values.tolist() == [[1000, "more_than", "2025"]]
    facts = pd.concat([LIFE_SCIENCE_PARK, _facts(
        ("e2025b", "lsp", "enterprises_and_institutions", 1200, "count", "about", "2025-06-01", "y"))],
        ignore_index=True)
    assert sorted(latest_figures(facts, "lsp")["fact_id"]) == ["e2025", "e2025b"]
    assert latest_figures(facts, "bda").empty


def test_bad_input_is_named():
    with pytest.raises(FigureError, match="'source_id'"):
        disagreements(LIFE_SCIENCE_PARK.drop(columns="source_id"))
    broken = LIFE_SCIENCE_PARK.assign(as_of=[None, "2021", "2023", "2025"])
    with pytest.raises(GeoError, match="'e2017'"):
        disagreements(broken)


def test_the_bundled_life_science_park_series_is_not_a_conflict():
    lsp = load_snapshot().facts
    lsp = lsp[lsp["subject_id"] == "zgc_life_science_park"]
    assert disagreements(lsp).empty
    assert dated_series(lsp)["dates"].max() >= 4


def test_park_headline_figures_keep_what_each_counts_and_say_not_reported():
    facts = pd.concat([LIFE_SCIENCE_PARK, _facts(
        ("area", "lsp", "area", 7.2, "km2", "exact", "2025", "feature"),
        ("host", "mtg", "host_park_area", 189, "ha", "exact", "2020-12-29", "gov"),
        ("dx", "dx", "enterprises_and_institutions", 4000, "count", "more_than", "2021-05-12", "xunjk"))],
        ignore_index=True)
    parks = pd.DataFrame({"park_id": ["lsp", "mtg", "dx"], "area_fact_id": ["area", "host", None]})
    table = park_headline_figures(facts, parks, ["dx", "lsp", "mtg"]).set_index(["park_id", "figure"])
    assert table.loc[("lsp", "enterprises"), ["value", "qualifier", "date"]].tolist() == [1000, "more_than", "2025"]
    assert table.loc[("dx", "enterprises"), "metric"] == "enterprises_and_institutions"
    assert table.loc[("mtg", "area"), "metric"] == "host_park_area"
    assert table.loc[("mtg", "enterprises"), "fact_id"] is None
    assert math.isnan(table.loc[("dx", "area"), "value"])
    with pytest.raises(FigureError, match="'nowhere'"):
        park_headline_figures(facts, parks, ["nowhere"])
