"""What a click, a chooser or a park button selects (geo.selection), and one park's site metrics
as the Parks page shows them (geo.site.park_site_metrics): the code the pages used to hold."""

from __future__ import annotations

import math

import geopandas as gpd
import pytest
import shapely

from geo import selection, site
from geo.errors import SiteError
from geo.snapshot import load_snapshot


def _parks() -> gpd.GeoDataFrame:
    big = shapely.box(116.40, 39.90, 116.50, 40.00)
    inner = shapely.box(116.42, 39.92, 116.44, 39.94)  # nested in big
    overlap = shapely.box(116.45, 39.90, 116.55, 40.00)  # half of it over big
    apart = shapely.box(116.60, 39.90, 116.61, 39.91)
    return gpd.GeoDataFrame(
        {"park_id": ["big", "inner", "overlap", "apart", "nowhere"], "district_id": ["d1"] * 4 + ["d2"],
         "area_km2": [95.0, 3.8, 95.0, 1.0, math.nan]},
        geometry=gpd.GeoSeries([big, inner, overlap, apart, None], crs=4326), crs=4326)


def _districts() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"district_id": ["d1", "d2"]},
                            geometry=gpd.GeoSeries([shapely.box(116.3, 39.8, 116.7, 40.1),
                                                    shapely.box(116.0, 40.2, 116.2, 40.4)], crs=4326), crs=4326)


def test_a_click_picks_the_smallest_park_containing_it_and_outside_every_park_none() -> None:
    parks = _parks()
    assert selection.park_at(parks, 116.43, 39.93) == "inner"  # inside big too: the one drawn on top
    assert selection.park_at(parks, 116.41, 39.99) == "big"
    assert selection.park_at(parks, 116.605, 39.905) == "apart"
    assert selection.park_at(parks, 116.58, 39.95) is None


def test_parks_sharing_most_of_the_smaller_ones_ground_are_offered_not_a_mere_neighbour() -> None:
    parks = _parks()
    assert selection.overlapping_parks(parks, "big") == ["inner"]  # overlap shares 50 %: not more
    assert selection.overlapping_parks(parks, "inner") == ["big"]
    assert selection.overlapping_parks(parks, "overlap", share=0.4) == ["big"]
    assert selection.overlapping_parks(parks, "apart") == []
    assert selection.overlapping_parks(parks, "nowhere") == []  # not drawn: nothing shares its ground


def test_a_park_button_goes_to_its_outline_or_else_its_district() -> None:
    views = selection.park_views(_parks(), _districts())
    assert views["inner"] == pytest.approx((116.42, 39.92, 116.44, 39.94))
    assert views["nowhere"] == pytest.approx((116.0, 40.2, 116.2, 40.4))  # not drawn: its district
    assert selection.extent(_parks()) == pytest.approx((116.40, 39.90, 116.61, 40.00))


@pytest.mark.parametrize("text, view", [
    ("39.90000,116.40000,11", (39.9, 116.4, 11.0)),
    ("40.123456,116.654321,12.5", (40.12346, 116.65432, 12.5)),
    ("48.85,2.35,11", None),  # Paris: not a view of Beijing
    ("39.9,116.4", None), ("a,b,c", None), (None, None), ("39.9,116.4,30", None),
])
def test_a_view_in_a_link_is_read_only_if_it_is_a_view_of_beijing(text, view) -> None:
    assert selection.parse_view(text) == view
    if view is not None:
        assert selection.parse_view(selection.format_view(view)) == view


def test_one_parks_site_metrics_list_both_airports_and_start_from_its_anchor() -> None:
    snapshot = load_snapshot()
    metrics = site.park_site_metrics(snapshot, "bda_yizhuang")
    assert set(metrics["park_id"]) == {"bda_yizhuang"}
    airports = metrics[metrics["category"] == "airport"]
    assert set(airports["target_id"]) == {"airport_pek", "airport_pkx"}  # each in a row of its own
    assert list(metrics["category"]) == ["metro_station", "tertiary_hospital", "airport", "airport", "nmpa_centre"]
    assert metrics.set_index("category").loc["nmpa_centre", "straight_m"] < 1000
    park = snapshot.parks.set_index("park_id").loc["bda_yizhuang"]
    assert site.park_origin(snapshot.parks, "bda_yizhuang") == (park["anchor_lon"], park["anchor_lat"])
    assert tuple(metrics[["park_lon", "park_lat"]].iloc[0]) == (park["anchor_lon"], park["anchor_lat"])


def test_a_park_without_a_location_has_no_origin() -> None:
    with pytest.raises(SiteError, match="'nowhere'"):
        site.park_origin(_parks(), "nowhere")
