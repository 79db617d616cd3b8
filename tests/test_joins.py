"""Point-in-polygon joins and the counts built on them."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import joins
from geo.errors import CRSError

DISTRICTS = gpd.GeoDataFrame(
    {"district_id": ["d1", "d2"]},
    geometry=[shapely.box(116.0, 39.0, 117.0, 40.0), shapely.box(117.0, 39.0, 118.0, 40.0)], crs=4326)
HUBS = gpd.GeoDataFrame(
    {"hub_id": ["h1", "bda"], "district_ids": ["d1", "d1;d2"], "geometry_from": ["districts", "parks"]},
    geometry=[shapely.box(116.0, 39.0, 117.0, 40.0), shapely.box(117.1, 39.1, 117.2, 39.2)], crs=4326)
PARKS = gpd.GeoDataFrame(
    {"park_id": ["p1", "bda_park"], "hub_id": ["h1", "bda"]},
    geometry=[shapely.box(116.1, 39.1, 116.2, 39.2), shapely.box(117.1, 39.1, 117.2, 39.2)], crs=4326)


def _points(xy, specialisations=None):
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(x, y) for x, y in xy], crs=4326)
    if specialisations is not None:
        frame["specialisations"] = specialisations
    return frame


def test_locate_returns_first_containing_polygon_or_minus_one():
    x = np.array([116.15, 116.5, 200.0, 117.0])
    y = np.array([39.15, 39.5, 0.0, 39.5])
    polygons = DISTRICTS.geometry.values
    assert joins.locate(x, y, polygons).tolist() == [0, 0, -1, -1]  # boundary points are outside


def test_locate_repairs_invalid_polygons_first():
    bow_tie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    assert joins.locate([0.9], [0.5], [bow_tie]).tolist() == [0]


def test_assign_areas_gives_park_district_and_hub():
    points = _points([(116.15, 39.15), (116.5, 39.5), (117.15, 39.15), (117.5, 39.5), (120, 30)])
    result = joins.assign_areas(points, parks=PARKS, districts=DISTRICTS, hubs=HUBS)
    assert result["park_id_joined"].tolist() == ["p1", None, "bda_park", None, None]
    assert result["district_id_joined"].tolist() == ["d1", "d1", "d2", "d2", None]
    # A point in the BDA park belongs to the BDA hub, although its district has no hub.
    assert result["hub_id_joined"].tolist() == ["h1", "h1", "bda", None, None]


def test_assign_areas_refuses_projected_points():
    points = _points([(116.15, 39.15)]).to_crs(32650)
    with pytest.raises(CRSError, match="to_crs"):
        joins.assign_areas(points, parks=PARKS, districts=DISTRICTS, hubs=HUBS)


def test_count_by_specialisation_counts_each_listed_code():
    frame = pd.DataFrame({"park_id": ["p1", "p1", "p2"],
                          "specialisations": ["a;b", "a", None]})
    counts = joins.count_by(frame, by="park_id", specialisations=True)
    assert counts.to_dict(orient="records") == [
        {"park_id": "p1", "specialisation": "a", "count": 2},
        {"park_id": "p1", "specialisation": "b", "count": 1},
    ]
    totals = joins.count_by(frame, by="park_id")
    assert totals.set_index("park_id")["count"].to_dict() == {"p1": 2, "p2": 1}


def test_compare_with_reported_keeps_every_reported_figure():
    counts = pd.DataFrame({"park_id": ["p1", "p2"], "count": [5, 1]})
    facts = pd.DataFrame({
        "subject_type": ["park", "park", "park", "hub"],
        "subject_id": ["p1", "p1", "p3", "p1"], "metric": ["enterprises"] * 4,
        "value": [400.0, 1000.0, 50.0, 9.0], "qualifier": ["more_than"] * 4,
        "as_of": ["2017", "2025", "2024", "2024"], "source_id": ["s1", "s2", "s3", "s4"]})
    table = joins.compare_with_reported(counts, facts, subject_column="park_id", subject_type="park")
    assert table[["subject", "mapped", "reported", "as_of"]].values.tolist() == [
        ["p1", 5, 400.0, "2017"], ["p1", 5, 1000.0, "2025"], ["p2", 1, None, None],
        ["p3", 0, 50.0, "2024"]]


def test_locate_in_chunks_matches_one_pass(monkeypatch):
    # Points are located in fixed-size chunks: the chunk size must not change any answer.
    import shapely

    from geo import joins

    rng = np.random.default_rng(4)
    x, y = rng.uniform(0, 10, 5_000), rng.uniform(0, 10, 5_000)
    polygons = np.array([shapely.box(0, 0, 5, 5), shapely.box(3, 3, 9, 9), None,
                         shapely.Polygon([(0, 0), (10, 0), (0, 10)])], dtype=object)
    whole = joins.locate(x, y, polygons)
    monkeypatch.setattr(joins, "JOIN_CHUNK_POINTS", 333)
    np.testing.assert_array_equal(joins.locate(x, y, polygons), whole)
    expected = np.where((x <= 5) & (y <= 5), 0, np.where((x >= 3) & (x <= 9) & (y >= 3) & (y <= 9), 1,
                                                         np.where(x + y <= 10, 3, -1)))
    np.testing.assert_array_equal(whole, expected)


def _old_place_layer(layer, *, parks, districts, hubs, category_column=None):
    """place_layer as it was before its counts were vectorised (the reference for equality)."""
    from geo.joins import _district_to_hub, _lookup, _xy, locate

    x, y = _xy(layer)
    park_pos, district_pos = locate(x, y, parks.geometry.values), locate(x, y, districts.geometry.values)
    park_ids, district_ids = _lookup(parks["park_id"], park_pos), _lookup(districts["district_id"], district_pos)
    district_hub = _district_to_hub(hubs)
    park_hub = dict(zip(parks["park_id"], parks["hub_id"], strict=False))
    hub_ids = np.array([district_hub.get(d) for d in district_ids], dtype=object)
    in_park = park_pos != -1
    hub_ids[in_park] = [park_hub.get(p) or district_hub.get(d)
                        for p, d in zip(park_ids[in_park], district_ids[in_park], strict=False)]
    areas = pd.DataFrame({"park_id_joined": park_ids, "district_id_joined": district_ids, "hub_id_joined": hub_ids},
                         index=layer.index, dtype=object)
    placed = pd.DataFrame(layer.drop(columns=layer.geometry.name)).join(areas)
    out = {"placed": placed}
    for key, column in (("by_park", "park_id_joined"), ("by_district", "district_id_joined"),
                        ("by_hub", "hub_id_joined")):
        groups = [column] if category_column is None else [column, category_column]
        frame = placed[groups].astype(object).where(placed[groups].notna(), None)
        frame = frame.dropna(subset=[column])
        counts = frame.fillna("").groupby(groups, sort=True).size().rename("count").reset_index()
        if category_column is not None:
            counts = counts.rename(columns={category_column: "category"})
        out[key] = counts
    return out


@pytest.mark.parametrize("category", [None, "kind"])
def test_place_layer_counts_as_before_on_the_bundled_snapshot(category):
    from geo.snapshot import load_snapshot

    snapshot = load_snapshot()
    rng = np.random.default_rng(12)
    n = 20_000
    kinds = np.array(["drugs", "devices", None, "cro"], dtype=object)[rng.integers(0, 4, n)]
    layer = gpd.GeoDataFrame({"kind": pd.array(kinds, dtype="str"), "n": np.arange(n)},
                             geometry=gpd.points_from_xy(rng.uniform(115.4, 117.6, n), rng.uniform(39.4, 41.1, n)),
                             crs=4326)
    parks = snapshot.parks.copy()
    parks.loc[parks.index[0], "hub_id"] = None  # a park without its own hub counts in its district's
    got = joins.place_layer(layer, parks=parks, districts=snapshot.districts, hubs=snapshot.hubs,
                            category_column=category)
    expected = _old_place_layer(layer, parks=parks, districts=snapshot.districts, hubs=snapshot.hubs,
                                category_column=category)
    assert got.keys() == expected.keys()
    for key in expected:
        pd.testing.assert_frame_equal(got[key], expected[key])
    assert got["by_hub"]["count"].sum() > 0
