"""Geodesic measurement: units, CRS handling, repairs and refusals."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo import measure
from geo.errors import MeasurementError

# A 0.01 x 0.01 degree cell at 40 N: about 1,111 m x 852 m.
CELL = shapely.box(116.30, 40.00, 116.31, 40.01)


def test_area_of_a_degree_cell_matches_the_ellipsoidal_geodesic_area():
    expected = measure.geodesic_area(CELL)
    assert 940_000 < expected < 960_000
    assert measure.area(CELL) == pytest.approx(expected, rel=1e-4)


def test_units_convert_from_square_metres():
    m2 = measure.area(CELL)
    assert measure.area(CELL, unit="ha") == pytest.approx(m2 / 10_000)
    assert measure.area(CELL, unit="km2") == pytest.approx(m2 / 1e6)
    assert measure.area(CELL, unit="mu") == pytest.approx(m2 * 15 / 10_000)
    assert measure.convert_area(2_000_000.0, "mu") == pytest.approx(3000.0)  # the plan's 3,000 mu


def test_unknown_unit_is_refused_with_the_bad_value():
    with pytest.raises(MeasurementError, match="'acre'"):
        measure.area(CELL, unit="acre")


def test_areas_of_a_projected_frame_equal_those_in_lonlat():
    frame = gpd.GeoDataFrame({"id": [1]}, geometry=[CELL], crs=4326)
    in_metres = frame.to_crs(4548)  # CGCS2000 / 3-degree Gauss-Kruger CM 117E
    assert measure.areas(in_metres).iloc[0] == pytest.approx(measure.areas(frame).iloc[0], rel=1e-4)


def test_web_mercator_area_would_be_wrong_by_about_1_7_times():
    frame = gpd.GeoDataFrame(geometry=[CELL], crs=4326)
    mercator = frame.to_crs(3857).area.iloc[0]
    assert mercator / measure.areas(frame).iloc[0] == pytest.approx(1.71, abs=0.02)


def test_geometries_without_crs_are_refused():
    with pytest.raises(MeasurementError, match="no CRS"):
        measure.areas(gpd.GeoSeries([CELL]))


def test_degrees_labelled_as_metres_are_refused():
    wrong = gpd.GeoSeries([CELL], crs=4548)
    with pytest.raises(MeasurementError, match="look like degrees"):
        measure.areas(wrong)


def test_metres_labelled_as_degrees_are_refused():
    wrong = gpd.GeoSeries([shapely.box(500_000, 4_400_000, 501_000, 4_401_000)], crs=4326)
    with pytest.raises(MeasurementError, match="look like metres"):
        measure.areas(wrong)


def test_bow_tie_is_repaired_and_reported_not_measured_as_zero():
    bow_tie = shapely.Polygon([(116.30, 40.00), (116.31, 40.01), (116.31, 40.00), (116.30, 40.01)])
    assert bow_tie.area == 0  # planar area of the raw bow-tie cancels out
    result = measure.areas(gpd.GeoSeries([bow_tie, CELL], crs=4326), unit="m2")
    assert result.iloc[0] == pytest.approx(measure.area(CELL) / 2, rel=1e-3)
    report = result.attrs["repairs"]
    assert report.repaired == (0,)
    assert "Self-intersection" in report.message()


def test_empty_and_missing_geometries_measure_zero_and_are_reported():
    result = measure.areas(gpd.GeoSeries([CELL, shapely.Polygon(), None], crs=4326))
    assert result.iloc[1] == 0 and result.iloc[2] == 0
    assert result.attrs["repairs"].empty == (1, 2)


def test_lengths_are_geodesic_metres_for_lines_and_perimeters():
    line = shapely.LineString([(116.0, 40.0), (117.0, 40.0)])
    series = measure.lengths(gpd.GeoSeries([line, CELL], crs=4326))
    assert series.iloc[0] == pytest.approx(85_393, rel=1e-3)  # one degree of longitude at 40 N
    assert series.iloc[1] == pytest.approx(2 * (1_111 + 852), rel=2e-3)


def test_areas_keep_the_index():
    frame = gpd.GeoDataFrame(geometry=[CELL, CELL], index=["a", "b"], crs=4326)
    assert measure.areas(frame, unit="ha").index.tolist() == ["a", "b"]


def test_multipolygon_area_is_the_sum_of_its_parts():
    other = shapely.box(116.40, 40.00, 116.41, 40.01)
    both = shapely.MultiPolygon([CELL, other])
    assert measure.area(both) == pytest.approx(measure.area(CELL) + measure.area(other), rel=1e-6)
    assert np.isfinite(measure.area(both, unit="mu"))


def test_only_present_non_empty_geometries_are_drawn():
    import geopandas as gpd

    from geo.shapes import is_drawn

    geoms = [shapely.box(116.2, 40.0, 116.3, 40.1), None, shapely.Polygon()]
    assert is_drawn(geoms).tolist() == [True, False, False]
    assert is_drawn(gpd.GeoSeries(geoms, crs=4326)).tolist() == [True, False, False]
