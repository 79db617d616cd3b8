"""Exports: RFC 7946 GeoJSON, GeoPackage and CSV, round trips and hostile cells."""

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo import datums
from geo.errors import ExportError
from geo.export import ExportMetadata, export_frame, read_export

# Exterior ring deliberately clockwise, coordinates with more than 7 decimals.
CW_SQUARE = shapely.Polygon([(116.3, 40.0), (116.3, 40.0100000004), (116.31, 40.01), (116.31, 40.0)])
META = ExportMetadata(layer="parks", snapshot_version="2026-11-24.test",
                      sources=[{"source_id": "s1", "publisher": "Pub", "title": "T", "date": "2024",
                                "url": None}])


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"park_id": ["p1", "p2"], "name_zh": ["生命科学园", "=HYPERLINK(\"http://x\")"],
         "area_km2": [7.2, 0.4], "count": [3, 0]},
        geometry=[CW_SQUARE, shapely.box(116.5, 39.8, 116.52, 39.82)], crs=4326)


def _rings_ccw(geometry: dict) -> bool:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return all(shapely.LinearRing(p[0]).is_ccw for p in polygons)


def test_geojson_follows_rfc7946():
    exported = export_frame(_frame(), fmt="geojson", metadata=META, id_column="park_id")
    document = json.loads(exported.data)
    assert document["type"] == "FeatureCollection"
    assert "crs" not in document
    assert exported.media_type == "application/geo+json"
    for feature in document["features"]:
        assert _rings_ccw(feature["geometry"])
        for x, y in feature["geometry"]["coordinates"][0]:
            assert len(repr(x).split(".")[1]) <= 7 and len(repr(y).split(".")[1]) <= 7
    assert document["features"][0]["id"] == "p1"
    assert document["metadata"]["snapshot_version"] == "2026-11-24.test"
    assert document["metadata"]["sources"][0]["publisher"] == "Pub"
    assert "ODbL" in document["metadata"]["licence"]


def test_geojson_round_trip_keeps_geometry_and_attributes():
    frame = _frame()
    exported = export_frame(frame, fmt="geojson", metadata=META)
    back, metadata = read_export(exported.data, fmt="geojson")
    expected = frame.copy()
    expected["geometry"] = shapely.orient_polygons(expected.geometry.values, exterior_cw=False)
    assert_geodataframe_equal(back, expected, check_less_precise=True, check_dtype=False,
                              normalize=True)
    assert metadata["datum"] == "wgs84"


def test_gpkg_round_trip_keeps_geometry_attributes_and_metadata():
    frame = _frame()
    exported = export_frame(frame, fmt="gpkg", metadata=META)
    assert exported.data[:16] == b"SQLite format 3\x00"
    back, metadata = read_export(exported.data, fmt="gpkg")
    assert back["park_id"].tolist() == ["p1", "p2"]
    assert back["name_zh"].iloc[0] == "生命科学园"
    assert back.geometry.iloc[1].equals_exact(frame.geometry.iloc[1], 1e-7)
    assert metadata["snapshot_version"] == "2026-11-24.test"
    assert metadata["sources"][0]["source_id"] == "s1"


def test_csv_neutralises_formula_cells_and_round_trips():
    exported = export_frame(_frame(), fmt="csv", metadata=META)
    text = exported.data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    back, metadata = read_export(exported.data, fmt="csv")
    assert back["park_id"].tolist() == ["p1", "p2"]
    assert back.geometry.iloc[1].equals_exact(shapely.box(116.5, 39.8, 116.52, 39.82), 1e-7)
    assert metadata["snapshot_version"] == "2026-11-24.test"
    # Sources by id: the row names its source, whose record is the sources table beside the data.
    assert metadata["source_ids"] == "s1"


def test_csv_of_points_has_lon_lat_columns():
    points = gpd.GeoDataFrame({"org_id": ["o1"]}, geometry=[shapely.Point(116.25, 40.1)], crs=4326)
    table = pd.read_csv(pd.io.common.BytesIO(export_frame(points, fmt="csv", metadata=META).data))
    assert table.loc[0, "lon"] == 116.25 and table.loc[0, "lat"] == 40.1


def test_gcj02_export_is_labelled_and_shifted():
    frame = _frame()
    exported = export_frame(frame, fmt="geojson", datum="gcj02", metadata=META)
    assert exported.filename.endswith("_gcj02.geojson")
    document = json.loads(exported.data)
    assert document["metadata"]["datum"] == "gcj02"
    assert "NOT WGS84" in document["metadata"]["coordinates"]
    x, y = document["features"][1]["geometry"]["coordinates"][0][0]
    expected = datums.wgs84_to_gcj02(116.52, 39.8)
    assert (x, y) == pytest.approx((float(expected[0]), float(expected[1])), abs=2e-7)


def test_projected_input_is_written_in_wgs84():
    frame = _frame().to_crs(4548)
    document = json.loads(export_frame(frame, fmt="geojson", metadata=META).data)
    x, y = document["features"][1]["geometry"]["coordinates"][0][0]
    assert 116 < x < 117 and 39 < y < 41


@pytest.mark.parametrize(("fmt", "datum", "match"), [("shp", "wgs84", "'shp'"),
                                                     ("geojson", "bd09", "'bd09'")])
def test_unknown_format_or_datum_is_refused(fmt, datum, match):
    with pytest.raises(ExportError, match=match):
        export_frame(_frame(), fmt=fmt, datum=datum, metadata=META)


def test_layer_without_crs_is_refused():
    with pytest.raises(ExportError, match="no CRS"):
        export_frame(gpd.GeoDataFrame(geometry=[CW_SQUARE]), metadata=META)
