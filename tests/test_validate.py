"""Validation rules: each broken rule is reported with the table, id and bad value."""

import pytest
import shapely

from geo import validate
from geo.errors import ValidationError
from geo.snapshot import load_snapshot


@pytest.fixture
def tables(tiny_snapshot):
    s = load_snapshot(tiny_snapshot)
    return {"sources": s.sources, "districts": s.districts, "hubs": s.hubs, "parks": s.parks,
            "organisations": s.organisations, "facts": s.facts}


def test_tiny_snapshot_is_valid(tables):
    assert validate.problems(**tables) == []


def test_duplicate_ids_are_reported(tables):
    tables["sources"].loc[1, "source_id"] = "plan"
    assert any("duplicate source_id 'plan'" in p for p in validate.problems(**tables))


def test_unknown_specialisation_is_reported_with_allowed_values(tables):
    tables["parks"].loc[0, "specialisations"] = "cell_gene_therapy;teleportation"
    found = validate.problems(**tables)
    assert any("'teleportation'" in p and "allowed:" in p for p in found)


def test_dangling_references_are_reported(tables):
    tables["facts"].loc[0, "source_id"] = "nobody"
    tables["parks"].loc[0, "hub_id"] = "atlantis"
    found = validate.problems(**tables)
    assert any("source_id 'nobody' is not a source" in p for p in found)
    assert any("hub_id 'atlantis' is not a hub" in p for p in found)


def test_fact_about_an_unknown_subject_is_reported(tables):
    tables["facts"].loc[0, "subject_id"] = "ghost_park"
    assert any("park 'ghost_park' does not exist" in p for p in validate.problems(**tables))


def test_point_outside_beijing_is_reported_as_a_datum_or_axis_slip(tables):
    orgs = tables["organisations"]
    orgs.loc[0, "geometry"] = shapely.Point(40.097, 116.278)  # swapped axes
    found = validate.problems(**tables)
    assert any("outside Beijing" in p and "axis order" in p for p in found)


def test_invalid_geometry_is_reported(tables):
    tables["parks"].loc[0, "geometry"] = shapely.Polygon(
        [(116.2, 40.0), (116.3, 40.1), (116.3, 40.0), (116.2, 40.1)])
    assert any("invalid geometry" in p for p in validate.problems(**tables))


def test_nominal_area_far_from_official_is_reported(tables):
    tables["parks"].loc[0, "area_km2"] = 9.0
    assert any("limit 5 %" in p for p in validate.problems(**tables))


def test_missing_column_and_bad_date_are_reported(tables):
    tables["facts"].loc[0, "as_of"] = "last spring"
    assert any("'last spring' is not a date" in p for p in validate.problems(**tables))
    broken = dict(tables, sources=tables["sources"].drop(columns=["publisher"]))
    assert "sources: missing column(s) publisher" in validate.problems(**broken)


def test_check_raises_with_every_problem(tables):
    tables["facts"].loc[0, "qualifier"] = "roughly"
    with pytest.raises(ValidationError) as info:
        validate.check(**tables)
    assert any("'roughly'" in p for p in info.value.problems)


def test_each_geometry_tier_gets_what_it_needs(tables):
    parks = tables["parks"]
    parks.loc[0, "geometry_tier"] = "unlocated"  # but it still has its circle
    parks.loc[1, "geometry"] = None  # an approximate park that lost its polygon
    found = validate.problems(**tables)
    assert any("'lsp': tier 'unlocated' but it has a polygon" in p for p in found)
    assert any("'box': empty geometry (tier 'approximate')" in p and "'unlocated'" in p for p in found)
