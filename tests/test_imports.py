"""Bring-your-own-data imports: formats, coordinate systems, repairs and row reports."""

from __future__ import annotations

import io
import json
import re
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import Transformer

from geo import datums
from geo.errors import DatumRequiredError, DatumError, ImportRefusedError, LimitExceededError
from geo.imports import ImportLimits, inspect_upload, layer_name, read_upload, sniff_format
from geo.tables import check_input_datum, detect_columns, suggest_datum

BEIJING = [(116.2846, 40.1038), (116.4970, 39.7930), (116.3380, 39.7270)]


def _csv(rows: list[str], encoding: str = "utf-8") -> bytes:
    return "\n".join(rows).encode(encoding)


# ---------------------------------------------------------------- tables


def test_gbk_csv_with_chinese_gaode_columns_is_converted_to_wgs84() -> None:
    data = _csv(["企业名称,高德经度,高德纬度", *(f"企业{i},{x},{y}" for i, (x, y) in enumerate(BEIJING))], "gb18030")
    layer = read_upload(data, filename="企业名单.csv", datum="gcj02")
    expected_lon, expected_lat = datums.gcj02_to_wgs84([p[0] for p in BEIJING], [p[1] for p in BEIJING])
    np.testing.assert_allclose(layer.frame.geometry.x, expected_lon, atol=1e-9)
    np.testing.assert_allclose(layer.frame.geometry.y, expected_lat, atol=1e-9)
    assert layer.frame.crs.to_epsg() == 4326
    assert layer.frame["企业名称"].tolist() == ["企业0", "企业1", "企业2"]
    assert layer.source_datum == "gcj02"
    assert layer.name == "企业名单"


def test_table_without_datum_asks_for_one_and_suggests_from_column_names() -> None:
    data = _csv(["name,bd_lng,bd_lat", "a,116.30,39.95"])
    with pytest.raises(DatumRequiredError, match="BD-09") as caught:
        read_upload(data, filename="baidu.csv")
    assert caught.value.suggestion.datum == "bd09"
    assert caught.value.suggestion.confidence == "high"
    inspection = inspect_upload(data, filename="baidu.csv")
    assert inspection.is_table and inspection.coordinates.lon == "bd_lng"
    assert inspection.suggestion.datum == "bd09"


def test_plain_lon_lat_columns_are_not_guessed_to_be_gcj02() -> None:
    suggestion = inspect_upload(_csv(["lon,lat", "116.3,39.9"]), filename="a.csv").suggestion
    assert suggestion.datum == "wgs84" and suggestion.confidence == "low"
    assert "GCJ-02" in suggestion.message()


@pytest.mark.parametrize(("epsg", "prefix"), [(4548, 0), (4527, 39_000_000)])
def test_gauss_kruger_metres_are_recognised_and_reprojected(epsg: int, prefix: int) -> None:
    to_gk = Transformer.from_crs(4326, 4548, always_xy=True)
    east, north = to_gk.transform([p[0] for p in BEIJING], [p[1] for p in BEIJING])
    rows = ["X坐标,Y坐标,地块"] + [f"{e + prefix:.3f},{n:.3f},p{i}" for i, (e, n) in enumerate(zip(east, north))]
    data = _csv(rows)
    suggestion = inspect_upload(data, filename="parcels.csv").suggestion
    assert suggestion.datum == f"epsg:{epsg}" and suggestion.confidence == "high"
    layer = read_upload(data, filename="parcels.csv", datum=f"EPSG:{epsg}")
    np.testing.assert_allclose(layer.frame.geometry.x, [p[0] for p in BEIJING], atol=1e-7)
    np.testing.assert_allclose(layer.frame.geometry.y, [p[1] for p in BEIJING], atol=1e-7)


def test_swapped_columns_are_detected_swapped_back_and_reported() -> None:
    layer = read_upload(_csv(["纬度,经度", "116.30,39.90"]), filename="swapped.csv", datum="wgs84")
    assert (layer.frame.geometry.x.iloc[0], layer.frame.geometry.y.iloc[0]) == (116.30, 39.90)
    assert any("swapped" in w for w in layer.warnings)


def test_unusable_rows_are_reported_with_their_line_numbers_not_dropped_silently() -> None:
    data = _csv(["name,lon,lat", "ok,116.3,39.9", "text,abc,39.9", "blank,,", "ok2,116.4,39.8"])
    layer = read_upload(data, filename="rows.csv", datum="wgs84")
    assert layer.frame["name"].tolist() == ["ok", "ok2"]
    assert layer.frame["source_row"].tolist() == [2, 5]
    assert layer.skipped_rows == (3, 4)
    assert any("line 3, 4" in w for w in layer.warnings)


def test_points_outside_beijing_are_kept_and_flagged_with_rows() -> None:
    layer = read_upload(_csv(["name,lon,lat", "beijing,116.3,39.9", "shanghai,121.47,31.23"]),
                        filename="mixed.csv", datum="wgs84")
    assert len(layer.frame) == 2
    assert any("1 of 2 features lie outside Beijing" in w and "line 3" in w for w in layer.warnings)


def test_wkt_and_coordinate_pair_columns() -> None:
    wkt = read_upload(_csv(['name,WKT', 'a,"POLYGON ((116.3 39.9, 116.31 39.9, 116.31 39.91, 116.3 39.9))"']),
                      filename="wkt.csv", datum="wgs84")
    assert wkt.frame.geometry.iloc[0].geom_type == "Polygon"
    pair = read_upload(_csv(['name,经纬度', 'a,"116.3,39.9"']), filename="pair.csv", datum="wgs84")
    assert (pair.frame.geometry.x.iloc[0], pair.frame.geometry.y.iloc[0]) == (116.3, 39.9)


def test_named_columns_override_detection_and_unknown_names_are_refused() -> None:
    data = _csv(["a,b,c", "n,116.3,39.9"])
    with pytest.raises(ImportRefusedError, match="no coordinate columns"):
        read_upload(data, filename="t.csv", datum="wgs84")
    layer = read_upload(data, filename="t.csv", datum="wgs84", lon_column="b", lat_column="c")
    assert layer.frame.geometry.x.iloc[0] == 116.3
    with pytest.raises(ImportRefusedError, match="no column 'zz'"):
        read_upload(data, filename="t.csv", datum="wgs84", lon_column="zz", lat_column="c")


def test_xlsx_is_read_from_bytes() -> None:
    buffer = io.BytesIO()
    pd.DataFrame({"单位": ["北京协和医院"], "经度": [116.4170], "纬度": [39.9120]}).to_excel(buffer, index=False)
    layer = read_upload(buffer.getvalue(), filename="医院.xlsx", datum="wgs84")
    assert layer.source_format == "xlsx"
    assert layer.frame["单位"].tolist() == ["北京协和医院"]
    assert layer.frame["source_row"].tolist() == [2]


def test_unknown_datum_names_are_refused_with_the_choices() -> None:
    with pytest.raises(DatumError, match="'EPSG:3857'"):
        check_input_datum("EPSG:3857")
    assert check_input_datum("GCJ-02") == "gcj02" and check_input_datum("4548") == "epsg:4548"


def test_detect_columns_and_suggestion_unit() -> None:
    found = detect_columns(pd.DataFrame(columns=["名称", "lng_gcj02", "lat_gcj02"]))
    assert (found.lon, found.lat, found.datum_hint) == ("lng_gcj02", "lat_gcj02", "gcj02")
    far = suggest_datum(np.array([2.35]), np.array([48.85]))
    assert far.confidence == "low" and "not in China" in far.message()


# ---------------------------------------------------------------- vector formats


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["生命科学园", "亦庄"], "count": [12, 7]},
        geometry=[shapely.box(116.27, 40.09, 116.29, 40.11), shapely.Point(116.50, 39.79)], crs=4326)


def test_geojson_round_trips_geometry_and_attributes() -> None:
    frame = _frame()
    layer = read_upload(frame.to_json().encode(), filename="parks.geojson")
    got = layer.frame.drop(columns=["source_row", "id"])[["name", "count", "geometry"]]
    assert_geodataframe_equal(got, frame, check_dtype=False, check_less_precise=True)
    assert layer.source_datum == "wgs84"


def test_geojson_with_a_projected_crs_member_is_reprojected() -> None:
    projected = _frame().to_crs(4548)
    doc = json.loads(projected.to_json())
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4548"}}
    layer = read_upload(json.dumps(doc).encode(), filename="gk.geojson")
    assert layer.source_datum == "EPSG:4548"
    np.testing.assert_allclose(layer.frame.geometry.iloc[1].coords[0], (116.50, 39.79), atol=1e-7)


def test_geojson_in_metres_without_crs_asks_for_the_datum() -> None:
    doc = json.loads(_frame().to_crs(4548).to_json())
    doc.pop("crs", None)
    with pytest.raises(DatumRequiredError, match="metres") as caught:
        read_upload(json.dumps(doc).encode(), filename="nocrs.geojson")
    assert caught.value.suggestion.datum == "epsg:4548"
    layer = read_upload(json.dumps(doc).encode(), filename="nocrs.geojson", datum="epsg:4548")
    np.testing.assert_allclose(layer.frame.geometry.iloc[1].coords[0], (116.50, 39.79), atol=1e-7)


def test_geojson_declared_gcj02_by_the_user_is_shifted() -> None:
    layer = read_upload(_frame().to_json().encode(), filename="amap.geojson", datum="gcj02")
    lon, lat = datums.gcj02_to_wgs84(116.50, 39.79)
    np.testing.assert_allclose(layer.frame.geometry.iloc[1].coords[0], (lon, lat), atol=1e-9)


def test_geopackage_is_read_without_gdal_and_keeps_chinese_text(tmp_path) -> None:
    path = tmp_path / "parks.gpkg"
    _frame().to_crs(4548).to_file(path, layer="parks", driver="GPKG")
    layer = read_upload(path.read_bytes(), filename="parks.gpkg")
    assert layer.source_format == "gpkg" and layer.source_datum == "EPSG:4548"
    assert layer.frame["name"].tolist() == ["生命科学园", "亦庄"]
    np.testing.assert_allclose(layer.frame.geometry.iloc[1].coords[0], (116.50, 39.79), atol=1e-7)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_zipped_shapefile_with_gbk_text_and_prj(tmp_path) -> None:
    polygons = _frame().set_geometry([shapely.box(116.27, 40.09, 116.29, 40.11), shapely.box(116.49, 39.78, 116.51, 39.80)])
    polygons.to_file(tmp_path / "parks.shp", encoding="GBK")
    entries = {f"folder/parks{ext}": (tmp_path / f"parks{ext}").read_bytes()
               for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg") if (tmp_path / f"parks{ext}").exists()}
    layer = read_upload(_zip(entries), filename="parks.zip")
    assert layer.source_format == "shapefile"
    assert layer.frame["name"].tolist() == ["生命科学园", "亦庄"]
    assert layer.frame.geometry.iloc[1].normalize().equals_exact(polygons.geometry.iloc[1].normalize(), 1e-9)


def test_shapefile_zip_missing_parts_says_which() -> None:
    with pytest.raises(ImportRefusedError, match=r"not its \.shx and \.dbf"):
        read_upload(_zip({"a.shp": b"\x00" * 200}), filename="a.zip")


KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark><name>国家蛋白质科学中心</name><ExtendedData><Data name="kind"><value>platform</value></Data></ExtendedData>
<Point><coordinates>116.2846,40.1038,0</coordinates></Point></Placemark>
<Placemark><name>parcel</name><Polygon><outerBoundaryIs><LinearRing><coordinates>
116.30,39.90 116.31,39.90 116.31,39.91 116.30,39.91 116.30,39.90</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>broken</name><Point><coordinates>x,y</coordinates></Point></Placemark>
</Document></kml>"""


def test_kml_and_kmz_placemarks() -> None:
    layer = read_upload(KML.encode(), filename="sites.kml")
    assert layer.frame["name"].tolist() == ["国家蛋白质科学中心", "parcel"]
    assert layer.frame["kind"].tolist()[0] == "platform"
    assert layer.frame.geometry.iloc[1].geom_type == "Polygon"
    assert any("placemark 3" in w for w in layer.warnings)
    kmz = read_upload(_zip({"doc.kml": KML.encode()}), filename="sites.kmz")
    assert_geodataframe_equal(kmz.frame, layer.frame)


# ---------------------------------------------------------------- formats, limits, names


def test_content_contradicting_the_name_is_refused() -> None:
    with pytest.raises(ImportRefusedError, match="looks like GPKG"):
        sniff_format(b"SQLite format 3\x00" + b"\x00" * 100, filename="x.csv")
    with pytest.raises(ImportRefusedError, match="not supported"):
        read_upload(b"hello", filename="x.exe")
    with pytest.raises(ImportRefusedError, match=r"\.shx, \.dbf"):
        read_upload(b"\x00\x00\x27\x0a", filename="x.shp")


_TRIANGLE = json.dumps({"type": "Polygon", "coordinates": [[[116.3, 39.9], [116.4, 39.9], [116.4, 40.0],
                                                               [116.3, 39.9]]]}).encode()


@pytest.mark.parametrize(("limits", "data", "name", "message"), [
    (ImportLimits(max_file_bytes=10), b"lon,lat\n116.3,39.9\n", "a.csv",
     "file size (bytes) limit: it has 19, the limit is 10"),
    (ImportLimits(max_features=2), b"lon,lat\n116.3,39.9\n116.3,39.9\n116.3,39.9\n", "a.csv",
     "feature count limit: it has 3, the limit is 2"),
    (ImportLimits(max_columns=2), b"lon,lat,x\n116.3,39.9,1\n", "a.csv", "column count limit: it has 3, the limit is 2"),
    (ImportLimits(max_vertices=3), _TRIANGLE, "a.geojson", "vertex count limit: it has 4, the limit is 3"),
])
def test_each_limit_names_itself_and_the_files_figure(limits, data, name, message) -> None:
    with pytest.raises(LimitExceededError, match=re.escape(message)):
        read_upload(data, filename=name, datum="wgs84", limits=limits)


def test_layer_name_never_keeps_folders_or_control_characters() -> None:
    assert layer_name("../../etc/passwd") == "passwd"
    assert layer_name("C:\\Users\\x\\企业\x00名单.csv") == "企业名单"
    assert layer_name("") == "import"


def test_upload_must_be_bytes_not_a_path() -> None:
    with pytest.raises(ImportRefusedError, match="bytes, not str"):
        read_upload("/etc/passwd", filename="a.csv")  # type: ignore[arg-type]


# ---------------------------------------------------------------- using an imported layer


def test_grid_counts_keep_every_point_and_respect_the_cell_budget() -> None:
    from geo.aggregate import grid_counts

    rng = np.random.default_rng(7)
    points = gpd.GeoSeries(shapely.points(rng.uniform(116.0, 116.8, 20_000), rng.uniform(39.7, 40.3, 20_000)), crs=4326)
    cells = grid_counts(points, max_cells=500)
    assert cells["count"].sum() == 20_000
    assert len(cells) <= 500
    assert cells.crs.to_epsg() == 4326
    inside = shapely.contains_xy(cells.geometry.iloc[0], *shapely.get_coordinates(points.values).T).sum()
    assert inside == cells["count"].iloc[0]


def test_place_layer_counts_per_park_district_hub_and_category(tiny_snapshot) -> None:
    from geo.joins import place_layer
    from geo.snapshot import load_snapshot

    snapshot = load_snapshot(tiny_snapshot)
    anchor = snapshot.parks.geometry.iloc[0].representative_point()
    layer = gpd.GeoDataFrame({"kind": ["lab", "lab", "cro"]},
                             geometry=[anchor, anchor, shapely.Point(121.47, 31.23)], crs=4326)
    result = place_layer(layer, parks=snapshot.parks, districts=snapshot.districts, hubs=snapshot.hubs,
                         category_column="kind")
    park_id = snapshot.parks["park_id"].iloc[0]
    assert result["by_park"].to_dict("records") == [{"park_id_joined": park_id, "category": "lab", "count": 2}]
    assert result["placed"]["park_id_joined"].tolist() == [park_id, park_id, None]


def test_measure_features_gives_geodesic_areas_and_lengths() -> None:
    from pyproj import Geod

    from geo.measure import measure_features

    square = shapely.box(116.30, 39.90, 116.31, 39.91)
    line = shapely.LineString([(116.30, 39.90), (116.31, 39.90)])
    measured = measure_features(gpd.GeoDataFrame(geometry=[square, line, shapely.Point(116.3, 39.9)], crs=4326))
    geod = Geod(ellps="WGS84")
    assert measured["area_m2"].iloc[0] == pytest.approx(abs(geod.geometry_area_perimeter(square)[0]), rel=1e-4)
    assert measured["area_mu"].iloc[0] == pytest.approx(measured["area_m2"].iloc[0] * 15 / 10000)
    assert measured["length_m"].iloc[1] == pytest.approx(geod.geometry_length(line), rel=1e-6)
    assert measured.loc[2].tolist() == [0, 0, 0, 0]


def test_imported_polygons_become_parcels_and_layers_are_saved_in_the_scenario_store(tmp_path) -> None:
    from geo.errors import GeoError
    from geo.planner import ParcelError, parcels_from_layer
    from geo.scenarios import ScenarioError, ScenarioStore

    layer = read_upload(KML.encode(), filename="sites.kml").frame
    parcels = parcels_from_layer(layer, name_column="name")
    assert parcels["name"].tolist() == ["parcel"] and parcels["status"].tolist() == ["planned"]
    with pytest.raises(ParcelError, match="no polygons"):
        parcels_from_layer(layer.iloc[[0]])
    store = ScenarioStore(tmp_path)
    assert store.save_layer("my sites", layer, expected_version=None) == 1
    loaded, version = store.load_layer("my sites")
    assert version == 1
    assert_geodataframe_equal(loaded, layer, check_dtype=False, check_less_precise=True)
    assert [i.name for i in store.list_layers()] == ["my sites"] and store.list_scenarios() == []
    with pytest.raises(ScenarioError, match="already used by a saved imported layer"):
        store.save("my sites", parcels, expected_version=None)
    with pytest.raises(GeoError):
        store.load("my sites")


# ---------------------------------------------------------------- CSV reading: fast path = old path

_ODD_CSVS = [
    b"lon,lat,name\n116.3,39.9,a\n116.4,39.8,b\n",
    b"lon,lat,name\n116.300000,39.900,a\n\n116.4,39.8,b\n\n",
    b"lon;lat;name\n116,3;39,9;a\n116,4;39,8;b\n",
    b'lon,lat,name\n"116.3","39.9","a, b"\n116.4,39.8,"x\ny"\n',
    b"code,lon,lat\n0101,116.3,39.9\n0102,116.4,39.8\n",
    b"lon,lat,flag\n116.3,39.9,True\n116.4,39.8,False\n",
    b"lon,lat\n 116.3 ,39.9\n116.4, 39.8\n",
    "lon,lat\n116.3°,39.9°\n".encode(),
    b"lon,lat\nnan,NaN\n116.4,inf\n",
    b"\xef\xbb\xbflon,lat,n\n116.3,39.9,1\n116.4,39.8,2\n",
    "经度,纬度,名称\n116.3,39.9,北京\n116.4,39.8,协和\n".encode("gb18030"),
    "lon\tlat\tname\n116.3\t39.9\tx\n".encode("utf-16"),
    b"lon,lat,lon\n1,2,3\n4,5,6\n",
    b",lat,\n1,2,3\n",
    b"a,b\r\n1,2\r\n3,4\r\n",
    b"a,b\r1,2\r3,4",
    b"a,b\n1e5,2E-3\n-0.0,+4\n",
    b"a,b\n1,2,3\n",
    b"a,b,c\n1,2\n3,4,5\n",
    b"x,y\n12345678901234567890,1\n",
    b"x,y\n1.5,\n,2\n",
    b'"a","b"\n"1","2"\n',
    b"a,b\n" + b"116.123456,39.654321\n" * 3000,
]


def _old_csv_table(data: bytes) -> pd.DataFrame:
    """How CSVs were read before pyarrow: the whole text decoded, every cell read as a string by pandas."""
    from geo import tables

    text, _ = tables.decode_text(data)
    table = pd.read_csv(io.StringIO(text), sep=tables._delimiter(text), dtype=str, keep_default_na=False,
                        na_filter=False, engine="c", skip_blank_lines=False)
    return tables._check_table(table, max_rows=10**6, max_columns=300)


@pytest.mark.parametrize("data", _ODD_CSVS)
def test_csv_tables_are_read_as_before_and_numbers_as_parse_numbers_reads_them(data: bytes) -> None:
    from geo import tables

    table, numbers = tables.read_csv_columns(data, max_rows=10**6, max_columns=300)
    expected = _old_csv_table(data)
    pd.testing.assert_frame_equal(table, expected)
    for column, values in numbers.items():
        np.testing.assert_array_equal(values, tables.parse_numbers(table[column]))


def test_a_csv_over_the_count_limit_is_refused_before_it_is_parsed(monkeypatch) -> None:
    from geo import tables

    def never(*args, **kwargs):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(tables, "_arrow_table", never)
    monkeypatch.setattr(tables, "_pandas_table", never)
    data = _csv(["lon,lat", *["116.3,39.9"] * 2_501])
    with pytest.raises(LimitExceededError, match=re.escape("feature count limit: it has 2,501, the limit is 2,500")):
        read_upload(data, filename="big.csv", datum="wgs84", limits=ImportLimits(max_features=2_500))


def test_a_quoted_csv_over_the_count_limit_is_refused_with_its_count() -> None:
    data = _csv(['lon,lat,name', *['116.3,39.9,"a\nb"'] * 30])
    with pytest.raises(LimitExceededError, match=re.escape("feature count limit: it has 30, the limit is 20")):
        read_upload(data, filename="quoted.csv", datum="wgs84", limits=ImportLimits(max_features=20))


def test_the_size_limit_message_names_the_count_limit_too() -> None:
    with pytest.raises(LimitExceededError, match="at most 2,000 features"):
        read_upload(b"lon,lat\n116.3,39.9\n", filename="a.csv", datum="wgs84",
                    limits=ImportLimits(max_file_bytes=10, max_features=2_000))


def test_plain_points_need_no_point_on_surface(monkeypatch) -> None:
    # Where a point lies is the point itself: the outside-Beijing check must not compute surfaces.
    def never(*args, **kwargs):
        raise AssertionError("point_on_surface called for points")

    monkeypatch.setattr(shapely, "point_on_surface", never)
    layer = read_upload(_csv(["lon,lat", "116.3,39.9", "2.35,48.85"]), filename="p.csv", datum="wgs84")
    assert any("1 of 2 features lie outside Beijing" in w for w in layer.warnings)
