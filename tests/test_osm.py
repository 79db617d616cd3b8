"""OpenStreetMap: reading extracts (XML and PBF), matching parks, overrides, context, fetching.

Every extract is written by the test itself (tests/osm_fixtures.py); the online path is tested
against servers on 127.0.0.1 only, so no test needs the internet.
"""

from __future__ import annotations

import bz2
import http.server
import json
import re
import socket
import threading
import time
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import Geod

from geo import osm
from geo.cli import main
from geo.export import export_frame, read_export
from geo.measure import area, areas
from geo.osm import (OSMError, OSMFileError, OSMMatchError, OSMQueryError, OSMUnavailableError, context_layers,
                     fetch_osm, match_parks, read_osm_file)
from geo.osm_store import ParkGeometryError, ParkGeometryStore, apply_overrides, plan_replacement
from layers.context import context_layer, osm_boundaries_layer
from tests.osm_fixtures import OsmBuilder, osm_xml_text, rectangle

LSP = (116.265, 40.085, 116.295, 40.110)  # the park's current (nominal) outline
LSP_OSM = (116.270, 40.088, 116.298, 40.112)  # OSM's outline of it, shifted
BDA = (116.48, 39.76, 116.58, 39.82)
BDA_OSM_OUTER = (116.49, 39.77, 116.59, 39.83)
BDA_OSM_HOLE = (116.52, 39.79, 116.53, 39.80)
STAMP = "2024-03-02T10:20:30Z"


def _parks() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({
        "park_id": ["zgc_lsp", "bda", "heart_valley"],
        "name_zh": ["中关村生命科学园", "北京经济技术开发区（亦庄）", "中国心谷"],
        "name_en": ["Zhongguancun Life Science Park",
                    "Beijing Economic-Technological Development Area (Yizhuang)", "China Cardiology Park"],
        "geometry_tier": ["nominal", "approximate", "nominal"],
        "geometry_note": ["A circle, not a boundary", "Digitised", "A circle"],
        "official_area_km2": [7.2, 59.6, 1.0],
        "area_km2": [7.1, 57.0, 1.0],
    }, geometry=[shapely.box(*LSP), shapely.box(*BDA), shapely.box(116.10, 39.94, 116.11, 39.95)], crs=4326)


def _builder() -> OsmBuilder:
    b = OsmBuilder(timestamp=STAMP)
    b.polygon(rectangle(*LSP_OSM), {"landuse": "industrial", "name": "中关村生命科学园",
                                    "name:en": "Zhongguancun Life Science Park"}, version=3)  # way 1
    b.polygon(rectangle(116.275, 40.090, 116.280, 40.095), {"landuse": "industrial"})  # way 2: decoy
    b.polygon(rectangle(116.285, 40.100, 116.290, 40.104),
              {"landuse": "commercial", "name": "生命科学园商业区"})  # way 3: decoy
    b.multipolygon([rectangle(*BDA_OSM_OUTER)], [rectangle(*BDA_OSM_HOLE)],
                   {"landuse": "industrial", "name": "北京经济技术开发区",
                    "name:en": "Beijing Economic-Technological Development Area"}, version=7)
    # context around the life science park
    b.point(116.2700, 40.0800, {"amenity": "hospital", "name": "北京大学国际医院",
                                "name:en": "Peking University International Hospital",
                                "hospital:grade": "三级甲等"})
    b.point(116.3000, 40.0800, {"amenity": "hospital", "name": "昌平三级医院"})
    b.point(116.2900, 40.0750, {"healthcare": "hospital", "name": "社区卫生服务中心"})
    b.point(116.2950, 40.1150, {"railway": "station", "station": "subway", "name": "生命科学园",
                                "name:en": "Life Science Park"})
    b.point(116.2600, 40.1000, {"public_transport": "station", "subway": "yes", "name": "朱辛庄"})
    b.point(116.2800, 40.0700, {"railway": "station", "name": "昌平北站"})  # a train station
    b.polygon(rectangle(116.300, 40.090, 116.310, 40.098),
              {"amenity": "university", "name": "北京化工大学昌平校区"})
    b.point(116.2789, 40.0974, {"amenity": "research_institute", "name": "北京生命科学研究所",
                                "name:en": "National Institute of Biological Sciences"})
    b.point(116.2830, 40.0950, {"office": "research", "name:en": "Lab <script>alert(1)</script> `${x}`"})
    b.point(116.5975, 40.0719, {"aeroway": "aerodrome", "name": "北京首都国际机场", "iata": "PEK"})
    b.point(116.4000, 40.3000, {"amenity": "hospital", "name": "远处医院"})  # far from every park
    b.grid(116.20, 40.00, 116.22, 40.02, rows=2, columns=2)  # unrelated streets
    return b


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    return _builder().write_xml(tmp_path / "beijing.osm")


@pytest.fixture
def features(extract: Path) -> gpd.GeoDataFrame:
    return read_osm_file(extract)


@pytest.fixture
def store(store_url: str) -> ParkGeometryStore:
    """An empty outline store on each backend: SQLite in a folder, and a fresh PostGIS database."""
    return ParkGeometryStore(url=store_url)


# ------------------------------------------------------------------------------ reading files


def test_xml_extract_reads_ways_relations_and_nodes_with_versions(features):
    by_id = features.set_index("osm_id")
    assert {"way/1", "way/2", "way/3", "relation/1", "node/21"} <= set(by_id.index)
    assert by_id.loc["way/1", "geometry"].geom_type == "Polygon"
    assert by_id.loc["relation/1", "geometry"].geom_type == "Polygon"  # one outer, one hole
    assert len(by_id.loc["relation/1", "geometry"].interiors) == 1
    assert by_id.loc["way/1", "osm_version"] == 3 and by_id.loc["relation/1", "osm_version"] == 7
    assert by_id.loc["way/1", "osm_timestamp"] == STAMP
    assert by_id.loc["way/1", "name:en"] == "Zhongguancun Life Science Park"
    assert features.crs.equals("EPSG:4326")
    assert "highway" not in features.columns  # the default tag filter leaves streets out
    assert features.attrs["attribution"] == "© OpenStreetMap contributors, ODbL 1.0"
    expected = area(shapely.box(*BDA_OSM_OUTER)) - area(shapely.box(*BDA_OSM_HOLE))
    measured = areas(gpd.GeoSeries([by_id.loc["relation/1", "geometry"]], crs=4326)).iloc[0]
    assert measured == pytest.approx(expected, rel=1e-9)


def test_coordinates_are_not_shifted(features):
    way = features.set_index("osm_id").loc["way/1", "geometry"]
    assert way.bounds == pytest.approx(LSP_OSM, abs=1e-7)


def test_tag_filter_none_keeps_every_tagged_feature_and_a_filter_narrows(extract):
    everything = read_osm_file(extract, tags=None)
    assert (everything["highway"] == "residential").sum() == 6
    hospitals = read_osm_file(extract, tags={"amenity": "hospital"})
    assert sorted(hospitals["name"]) == ["北京大学国际医院", "昌平三级医院", "远处医院"]
    with pytest.raises(OSMQueryError, match="not understood"):
        read_osm_file(extract, tags={"amenity": 3})


def test_no_match_gives_an_empty_frame(extract):
    empty = read_osm_file(extract, tags={"shop": "bakery"})
    assert empty.empty and "osm_id" in empty.columns and empty.crs.equals("EPSG:4326")


@pytest.mark.parametrize("suffix", [".osm.bz2", ".osm.gz"])
def test_compressed_xml_reads_the_same(tmp_path, features, suffix):
    path = _builder().write_xml(tmp_path / f"beijing{suffix}")
    again = read_osm_file(path)
    assert_geodataframe_equal(again.drop(columns="osm_retrieved"), features.drop(columns="osm_retrieved"))


def test_pbf_reads_the_same_features_as_xml(tmp_path, features):
    path = _builder().write_pbf(tmp_path / "beijing.osm.pbf")
    from_pbf = read_osm_file(path)
    assert from_pbf.attrs["source"] == "beijing.osm.pbf"

    def comparable(frame):
        frame = frame.sort_values("osm_id").reset_index(drop=True)
        frame = frame[sorted(frame.columns.drop(["osm_retrieved", "geometry"])) + ["geometry"]]
        frame["geometry"] = shapely.normalize(frame.geometry.values)
        return frame

    assert_geodataframe_equal(comparable(from_pbf), comparable(features), check_dtype=False,
                              check_less_precise=True)


def test_uploaded_bytes_are_recognised_by_content(tmp_path, features):
    text = osm_xml_text(*_lists(_builder())).encode("utf-8")
    for data in (text, bz2.compress(text), _builder().write_pbf(tmp_path / "x.osm.pbf").read_bytes()):
        got = read_osm_file(data)
        assert sorted(got["osm_id"]) == sorted(features["osm_id"])
    with pytest.raises(OSMFileError, match="neither OSM XML nor PBF"):
        read_osm_file(b"PK\x03\x04 a zip file")


def _lists(builder: OsmBuilder):
    return builder.nodes, builder.ways, builder.relations


@pytest.mark.parametrize(("name", "content", "message"), [
    ("parks.geojson", "{}", "must end in .osm, .osm.bz2"),
    ("bad.osm", "<osm><node id='1'", "not well-formed"),
    ("dtd.osm", '<?xml version="1.0"?><!DOCTYPE osm [<!ENTITY a "aaaa">]><osm>&a;</osm>', "DTD or entities"),
    ("root.osm", "<gpx></gpx>", "not <osm>"),
    ("empty.osm", "", "not well-formed"),
])
def test_bad_files_are_refused_with_a_message(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(OSMFileError, match=message):
        read_osm_file(path)


def test_urls_missing_files_and_xml_bombs_are_refused(tmp_path, extract):
    with pytest.raises(OSMFileError, match="reads local files"):
        read_osm_file("https://example.org/beijing.osm.pbf")
    with pytest.raises(OSMFileError, match="no file at"):
        read_osm_file(tmp_path / "missing.osm")
    with pytest.raises(OSMFileError, match="expands to more than 1,000 bytes"):
        read_osm_file(extract, max_uncompressed_bytes=1000)


def test_a_self_intersecting_way_is_repaired_and_reported(tmp_path):
    b = OsmBuilder()
    b.polygon([(116.27, 40.09), (116.29, 40.10), (116.29, 40.09), (116.27, 40.10)],
              {"landuse": "industrial", "name": "bow-tie"})
    for path in (b.write_xml(tmp_path / "bow.osm"), b.write_pbf(tmp_path / "bow.osm.pbf")):
        frame = read_osm_file(path)
        geom = frame.geometry.iloc[0]
        assert geom.is_valid and geom.geom_type == "MultiPolygon"
        assert area(geom) > 0
        assert frame.attrs["repairs"].repaired == (0,)
        assert "repaired 1 invalid geometry" in frame.attrs["repairs"].message()


# ------------------------------------------------------------------------------ matching parks


def test_matching_picks_the_named_industrial_area_and_reports_the_diff(features):
    parks = _parks()
    matches = match_parks(features, parks)
    best = matches[matches["rank"] == 1].set_index("park_id")
    assert best.loc["zgc_lsp", "osm_id"] == "way/1"
    assert best.loc["bda", "osm_id"] == "relation/1"
    assert "heart_valley" not in best.index  # nothing near it
    assert best.loc["zgc_lsp", "confidence"] == "high" and best.loc["bda", "confidence"] == "high"
    assert best.loc["zgc_lsp", "name_score"] == 1.0
    assert best.loc["bda", "name_score"] == 1.0  # the (亦庄) qualifier is ignored
    assert best.loc["zgc_lsp", "matched_tag"] == "landuse=industrial"
    assert best.loc["zgc_lsp", "osm_version"] == 3 and best.loc["zgc_lsp", "osm_timestamp"] == STAMP

    old, new = shapely.box(*LSP), shapely.box(*LSP_OSM)
    overlap = area(old.intersection(new))
    row = best.loc["zgc_lsp"]
    assert row["area_before_m2"] == pytest.approx(area(old), rel=1e-9)
    assert row["area_after_m2"] == pytest.approx(area(new), rel=1e-9)
    assert row["area_after_km2"] == pytest.approx(area(new) / 1e6, rel=1e-9)
    assert row["overlap_of_park"] == pytest.approx(overlap / area(old), rel=1e-6)
    assert row["overlap_of_osm"] == pytest.approx(overlap / area(new), rel=1e-6)
    assert row["overlap_iou"] == pytest.approx(overlap / (area(old) + area(new) - overlap), rel=1e-6)
    assert row["area_change_pct"] == pytest.approx((area(new) / area(old) - 1) * 100, rel=1e-6)
    assert row["distance_m"] == 0.0
    assert row["geometry"].equals(new)

    lsp = matches[matches["park_id"] == "zgc_lsp"]
    assert list(lsp["rank"]) == [1, 2, 3, 4] and lsp["score"].is_monotonic_decreasing
    assert set(lsp["osm_id"]) == {"way/1", "way/2", "way/3", "way/6"}  # way/6: the university campus
    assert (lsp.set_index("osm_id").loc[["way/2", "way/3", "way/6"], "confidence"] != "high").all()


def test_matching_options_and_empty_cases(features):
    parks = _parks()
    only = match_parks(features, parks, park_ids=["zgc_lsp"], max_candidates=1)
    assert list(only["osm_id"]) == ["way/1"]
    assert match_parks(features, parks, min_score=0.99).empty
    far = parks.assign(geometry=[shapely.box(115.5, 40.8, 115.51, 40.81)] * 3)
    assert match_parks(features, far).empty
    with pytest.raises(OSMMatchError, match="no park 'nope'"):
        match_parks(features, parks, park_ids=["nope"])
    with pytest.raises(OSMMatchError, match="WGS84"):
        match_parks(features.to_crs(3857), parks)


def test_names_are_compared_normalised():
    assert osm.name_similarity(osm.normalise_name("Beijing  E-Town"), osm.normalise_name("beijing etown")) == 1.0
    assert osm.normalise_name("中关村（昌平）园") == "中关村(昌平)园".replace("(", "").replace(")", "")
    assert 0.7 < osm.name_similarity("生命科学园", "中关村生命科学园") < 1.0
    assert osm.name_similarity("生命科学园", "首都机场") == 0.0


# ------------------------------------------------------------------------------ overrides


def test_apply_then_restore_round_trips_without_touching_the_parks(features, store):
    parks = _parks()
    original = parks.copy()
    plan = plan_replacement(parks, features, park_id="zgc_lsp", osm_ids=["way/1"])
    assert plan.area_after_m2 == pytest.approx(area(shapely.box(*LSP_OSM)), rel=1e-9)
    assert plan.osm_date == "2024-03-02" and plan.osm_versions == (3,)
    assert "IoU" in plan.describe() and "ODbL" in plan.describe()
    assert_geodataframe_equal(apply_overrides(parks, store=store).drop(columns=["osm_ids", "osm_attribution"]),
                              original)  # nothing applied yet: nothing changed

    stored = store.apply(plan)
    assert stored.revision == 1 and stored.osm_ids == ("way/1",)
    shown = apply_overrides(parks, store=store).set_index("park_id")
    assert_geodataframe_equal(parks, original)  # the input frame is untouched
    assert shown.loc["zgc_lsp", "geometry"].equals(shapely.box(*LSP_OSM).normalize()) or \
        shown.loc["zgc_lsp", "geometry"].equals(plan.new_geometry)
    assert shown.loc["zgc_lsp", "geometry_tier"] == "osm"
    assert "way/1 (version 3)" in shown.loc["zgc_lsp", "geometry_note"]
    assert "2024-03-02" in shown.loc["zgc_lsp", "geometry_note"]
    assert shown.loc["zgc_lsp", "osm_ids"] == "way/1"
    assert shown.loc["zgc_lsp", "osm_attribution"] == "© OpenStreetMap contributors, ODbL 1.0"
    assert shown.loc["zgc_lsp", "area_km2"] == pytest.approx(area(shapely.box(*LSP_OSM)) / 1e6, rel=1e-9)
    assert shown.loc["bda", "geometry_tier"] == "approximate"

    # a second replacement keeps the original outline as the one to restore
    again = store.apply(plan_replacement(apply_overrides(parks, store=store), features,
                                         park_id="zgc_lsp", osm_ids=["way/1", "way/3"]))
    assert again.revision == 2 and again.previous_tier == "nominal"
    assert again.previous_geometry.equals(shapely.box(*LSP))

    removed = store.restore("zgc_lsp")
    assert removed.osm_ids == ("way/1", "way/3")
    assert_geodataframe_equal(apply_overrides(parks, store=store).drop(columns=["osm_ids", "osm_attribution"]),
                              original)
    history = store.history("zgc_lsp")
    assert list(history["action"]) == ["apply", "apply", "restore"]
    assert history["geometry"].iloc[-1].equals(shapely.box(*LSP))
    with pytest.raises(ParkGeometryError, match="no OpenStreetMap override"):
        store.restore("zgc_lsp")


def _with_an_unlocated_park() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The test parks plus one with no outline in a district west of the life science park."""
    parks = _parks().assign(district_id=["changping", "bda", "mentougou"])
    unlocated = gpd.GeoDataFrame({
        "park_id": ["medical_valley"], "name_zh": ["中关村科学城国际医谷"],
        "name_en": ["Zhongguancun Science City International Medical Valley"],
        "geometry_tier": ["unlocated"], "geometry_note": ["Not drawn."], "official_area_km2": [0.953],
        "area_km2": [np.nan], "district_id": ["haidian"]}, geometry=[None], crs=4326)
    districts = gpd.GeoDataFrame({"district_id": ["haidian", "changping"]},
                                 geometry=[shapely.box(116.05, 39.90, 116.24, 40.15),
                                           shapely.box(116.24, 40.05, 116.40, 40.20)], crs=4326)
    return pd.concat([parks, unlocated], ignore_index=True), districts


def _valley_extract(path: Path) -> gpd.GeoDataFrame:
    b = _builder()
    b.polygon(rectangle(116.150, 40.080, 116.160, 40.088),  # 0.757 km2, in "haidian"
              {"landuse": "industrial", "name": "中关村科学城国际医谷"})
    b.polygon(rectangle(116.300, 40.150, 116.310, 40.158),  # same name, but in another district
              {"landuse": "industrial", "name": "中关村科学城国际医谷"})
    b.polygon(rectangle(116.100, 40.000, 116.110, 40.008), {"landuse": "industrial", "name": "某工业园"})
    return read_osm_file(b.write_xml(path / "valley.osm"))


def test_a_park_not_on_the_map_is_found_by_name_in_its_district_and_placed(tmp_path, store):
    parks, districts = _with_an_unlocated_park()
    features = _valley_extract(tmp_path)
    assert "medical_valley" not in set(match_parks(features, parks)["park_id"])  # nowhere to look

    matches = match_parks(features, parks, districts=districts)
    valley = matches[matches["park_id"] == "medical_valley"]
    assert len(valley) == 1  # the namesake outside Haidian and the unnamed park are not candidates
    best = valley.iloc[0]
    assert best["name_score"] == 1.0 and best["tier_before"] == "unlocated"
    assert np.isnan(best["area_before_m2"]) and np.isnan(best["distance_m"]) and best["overlap_iou"] == 0
    assert best["area_score"] == pytest.approx(0.757 / 0.953, abs=0.01)  # its 0.757 km2 vs the official
    assert best["confidence"] in ("medium", "high")
    assert matches["score"].is_monotonic_decreasing  # best first across parks

    assert (matches.loc[matches["park_id"] == "medical_valley", "confidence"] != "high").all()  # a name only

    plan = plan_replacement(parks, features, park_id="medical_valley", osm_ids=[best["osm_id"]])
    assert "not on the map" in plan.describe() and "nan" not in plan.describe()
    assert plan.area_before_m2 == 0 and plan.area_after_m2 == pytest.approx(0.757e6, rel=0.01)
    store.apply(plan)
    shown = apply_overrides(parks, store=store).set_index("park_id")
    assert "Places the park, which had no outline" in shown.loc["medical_valley", "geometry_note"]
    assert shown.loc["medical_valley", "geometry_tier"] == "osm"
    assert shown.loc["medical_valley", "geometry"].equals(plan.new_geometry)
    assert shown.loc["medical_valley", "area_km2"] == pytest.approx(plan.area_after_m2 / 1e6)

    store.restore("medical_valley")
    back = apply_overrides(parks, store=store).set_index("park_id")
    assert back.loc["medical_valley", "geometry"] is None
    assert back.loc["medical_valley", "geometry_tier"] == "unlocated"


def test_an_abandoned_query_does_not_leave_osmnx_resolver_behind(tmp_path, monkeypatch):
    import osmnx
    from osmnx import _http

    system = _http._original_getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", system)
    finished = threading.Event()

    def late(polygon, tags):  # pins the server's IP as osmnx does, then answers too late
        _http._config_dns("http://127.0.0.1/api")
        time.sleep(1.0)
        finished.set()
        raise RuntimeError("too late")

    monkeypatch.setattr(osmnx, "features_from_polygon", late)
    with pytest.raises(OSMUnavailableError, match="within 0.3 s"):
        fetch_osm(polygon=shapely.box(*LSP), timeout_s=0.3, data_dir=tmp_path, overpass_url="http://127.0.0.1:9/api")
    assert finished.wait(5)
    deadline = time.monotonic() + 2
    while socket.getaddrinfo is not system and time.monotonic() < deadline:
        time.sleep(0.01)
    assert socket.getaddrinfo is system

    # A resolver osmnx left behind anyway is not taken for the system's.
    _http._config_dns("http://127.0.0.1/api")
    def refused(polygon, tags):
        _http._config_dns("http://127.0.0.1/x")
        raise RuntimeError("refused")

    monkeypatch.setattr(osmnx, "features_from_polygon", refused)
    with pytest.raises(OSMError):
        fetch_osm(polygon=shapely.box(*LSP), timeout_s=2, data_dir=tmp_path, overpass_url="http://127.0.0.1:9/api")
    assert socket.getaddrinfo is system


def test_the_osm_benchmark_extract_leaves_the_parks_alone(tmp_path):
    from geo.bench import _write_osm_extract

    parks, districts = _with_an_unlocated_park()
    before = parks.copy()
    _write_osm_extract(str(tmp_path / "b.osm"), elements=200, parks=parks, districts=districts)
    assert_geodataframe_equal(parks, before)
    named = read_osm_file(tmp_path / "b.osm")
    assert "中关村科学城国际医谷" in set(named["name"])  # placed in its district for the matcher


def test_the_query_area_of_a_park_not_on_the_map_is_its_district():
    parks, districts = _with_an_unlocated_park()
    area_ = osm.park_query_polygon(parks, "medical_valley", districts=districts)
    assert area_.equals(districts.geometry.iloc[0]) or area_.covers(shapely.Point(116.155, 40.084))
    with pytest.raises(OSMQueryError, match="not on the map"):
        osm.park_query_polygon(parks, "medical_valley")


def test_the_store_persists_and_refuses_stale_revisions(features, store_url):
    parks = _parks()
    plan = plan_replacement(parks, features, park_id="bda", osm_ids=["relation/1"])
    ParkGeometryStore(url=store_url).apply(plan)
    reopened = ParkGeometryStore(url=store_url)  # another process or app server
    assert [o.park_id for o in reopened.list()] == ["bda"]
    assert reopened.get("bda").geometry.equals(plan.new_geometry)
    with pytest.raises(ParkGeometryError, match="changed meanwhile"):
        reopened.apply(plan, expected_revision=None, check_revision=True)
    assert reopened.apply(plan, expected_revision=1, check_revision=True).revision == 2


def test_the_store_lives_in_the_data_dir_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PHARMA_MAP_DATA_DIR", str(tmp_path / "env-data"))
    assert Path(ParkGeometryStore().path) == tmp_path / "env-data" / "park_geometry.sqlite"


def test_plans_refuse_unknown_ids_and_non_areas(features, extract):
    parks = _parks()
    with pytest.raises(OSMMatchError, match="no park 'x'"):
        plan_replacement(parks, features, park_id="x", osm_ids=["way/1"])
    with pytest.raises(OSMMatchError, match="way/99"):
        plan_replacement(parks, features, park_id="bda", osm_ids=["way/99"])
    with pytest.raises(OSMMatchError, match="at least one"):
        plan_replacement(parks, features, park_id="bda", osm_ids=[])
    streets = read_osm_file(extract, tags={"highway": True})
    with pytest.raises(OSMMatchError, match="is not an area"):
        plan_replacement(parks, streets, park_id="bda", osm_ids=[streets["osm_id"].iloc[0]])


# ------------------------------------------------------------------------------ context


def test_context_lists_each_kind_with_tertiary_flags_and_distances(features):
    parks = _parks()
    context = context_layers(features, parks)
    lsp = context[context["park_id"] == "zgc_lsp"].set_index("name_zh")
    assert set(lsp["kind"]) == {"hospital", "metro_station", "university", "research_institute", "airport"}
    assert lsp.loc["北京大学国际医院", "tertiary"]
    assert lsp.loc["北京大学国际医院", "tertiary_evidence"] == "hospital:grade=三级甲等"
    assert lsp.loc["昌平三级医院", "tertiary"] and "三级" in lsp.loc["昌平三级医院", "tertiary_evidence"]
    assert not lsp.loc["社区卫生服务中心", "tertiary"]
    assert lsp.loc["生命科学园", "name_en"] == "Life Science Park"
    assert lsp.loc["朱辛庄", "kind"] == "metro_station"
    assert "昌平北站" not in lsp.index  # a train station is not a metro station
    assert "远处医院" not in set(context["name_zh"])  # beyond 5 km of every park
    assert lsp.loc["北京生命科学研究所", "distance_m"] == 0.0  # inside the park
    assert lsp.loc["北京化工大学昌平校区", "kind"] == "university"
    assert (context.geometry.geom_type == "Point").all()

    # distances in metres agree with the geodesic distance to the park's nearest edge
    geod = Geod(ellps="WGS84")
    _, _, metres = geod.inv(116.2700, 40.0800, 116.2700, LSP[1])
    assert lsp.loc["北京大学国际医院", "distance_m"] == pytest.approx(metres, rel=2e-3)
    airport = lsp.loc["北京首都国际机场"]
    _, _, to_corner = geod.inv(116.5975, 40.0719, LSP[2], 40.0719)
    assert airport["distance_m"] == pytest.approx(to_corner, rel=2e-3)
    assert airport["osm_id"].startswith("node/") and airport["osm_version"] == 1


def test_context_radius_and_kinds(features):
    parks = _parks()
    near = context_layers(features, parks, radius_m=1000.0, kinds=["hospital", "research_institute"])
    assert set(near["kind"]) <= {"hospital", "research_institute"}
    assert (near["distance_m"] <= 1000.0).all()
    per_kind = context_layers(features, parks, radius_m={"airport": 10_000.0})
    assert "airport" not in set(per_kind[per_kind["park_id"] == "zgc_lsp"]["kind"])
    with pytest.raises(OSMQueryError, match="unknown context kind"):
        context_layers(features, parks, kinds=["zoo"])
    summary = osm.context_summary(context_layers(features, parks))
    row = summary[(summary["park_id"] == "zgc_lsp") & (summary["kind"] == "hospital")].iloc[0]
    assert row["count"] == 3 and row["tertiary"] == 2


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_context_exports_with_the_odbl_licence(features, fmt):
    context = context_layers(features, _parks())
    meta = osm.context_export_metadata(context, snapshot_version="test")
    exported = export_frame(context, fmt=fmt, metadata=meta)
    frame, info = read_export(exported.data, fmt=fmt)
    assert len(frame) == len(context)
    assert "ODbL" in str(info.get("licence"))
    assert set(frame["osm_id"]) == set(context["osm_id"])


# ------------------------------------------------------------------------------ map layers


def test_map_layers_escape_every_string_and_use_tooltips(features):
    parks = _parks()
    context = context_layers(features, parks)
    group = context_layer(context, lang="en", park_names={"zgc_lsp": "Life <b>Science</b>"})
    assert isinstance(group, folium.FeatureGroup)
    m = folium.Map()
    group.add_to(m)
    osm_boundaries_layer(match_parks(features, parks), lang="zh").add_to(m)
    html = m.get_root().render()
    assert "<script>alert(1)" not in html and "`${x}`" not in html
    assert "&lt;script&gt;alert(1)" in html
    assert "Life &lt;b&gt;Science" in html
    assert "Popup" not in html and "bindPopup" not in html
    assert "ODbL" in html
    assert "中关村生命科学园" in html or "\\u4e2d\\u5173\\u6751" in html  # GeoJSON escapes non-ASCII
    gcj = folium.Map()
    context_layer(context, datum="gcj02").add_to(gcj)
    assert gcj.get_root().render() != html
    assert isinstance(context_layer(context.iloc[0:0]), folium.FeatureGroup)


# ------------------------------------------------------------------------------ online, offline


class _Server:
    """A tiny HTTP server on 127.0.0.1 answering every request with ``reply(handler)``."""

    def __init__(self, reply) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                reply(self)

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply(self)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _send(handler, status: int, body: object) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


@pytest.fixture
def closed_port() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now: connections are refused at once
    return f"http://127.0.0.1:{port}"


def test_fetch_fails_fast_and_clearly_when_the_server_cannot_be_reached(tmp_path, closed_port):
    for kwargs in ({"polygon": shapely.box(*LSP)}, {"place": "Changping District, Beijing"}):
        start = time.perf_counter()
        with pytest.raises(OSMUnavailableError, match="cannot reach the OpenStreetMap server") as info:
            fetch_osm(**kwargs, timeout_s=5, data_dir=tmp_path, overpass_url=closed_port + "/api",
                      nominatim_url=closed_port + "/")
        assert time.perf_counter() - start < 30
        assert "extract file" in str(info.value)
    import osmnx as ox
    assert ox.settings.doh_url_template is None and ox.settings.requests_timeout == 5


def test_fetch_fails_fast_with_no_network_at_all(tmp_path, monkeypatch):
    """No DNS and no route: every name lookup and every connection fails, as offline."""
    import requests

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def no_route(self, request, **kwargs):
        raise requests.exceptions.ConnectionError(
            f"Failed to resolve '{request.url}' ([Errno -3] Temporary failure in name resolution)")

    monkeypatch.setattr(socket, "gethostbyname", no_dns)
    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", no_route)
    start = time.perf_counter()
    with pytest.raises(OSMUnavailableError, match="cannot be resolved"):
        fetch_osm(place="Changping District, Beijing", data_dir=tmp_path)
    with pytest.raises(OSMUnavailableError, match="overpass"):
        fetch_osm(polygon=shapely.box(*LSP), data_dir=tmp_path)
    assert time.perf_counter() - start < 30


def test_fetch_gives_up_on_a_server_that_never_answers(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (in the backlog) and never answers
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        start = time.perf_counter()
        with pytest.raises(OSMUnavailableError, match="within 1.5 s"):
            fetch_osm(polygon=shapely.box(*LSP), timeout_s=1.5, data_dir=tmp_path, overpass_url=url + "/api")
        assert time.perf_counter() - start < 10
    finally:
        silent.close()


def test_fetch_reports_a_refusing_server_without_waiting_to_retry(tmp_path):
    server = _Server(lambda h: _send(h, 429, {"error": "rate limited"}))
    try:
        start = time.perf_counter()
        with pytest.raises(OSMUnavailableError, match="refused the request .*429"):
            fetch_osm(polygon=shapely.box(*LSP), timeout_s=5, data_dir=tmp_path,
                      overpass_url=server.url + "/api")
        assert time.perf_counter() - start < 10  # osmnx alone would sleep 55 s and retry
    finally:
        server.close()


def test_fetch_reads_an_overpass_answer_and_caches_it_within_bounds(tmp_path):
    elements = [
        {"type": "node", "id": 10, "lat": 40.084, "lon": 116.27,
         "tags": {"amenity": "hospital", "name": "北京大学国际医院"}},
        *[{"type": "node", "id": 20 + i, "lon": x, "lat": y}
          for i, (x, y) in enumerate(rectangle(*LSP_OSM))],
        {"type": "way", "id": 5, "nodes": [20, 21, 22, 23, 20],
         "tags": {"landuse": "industrial", "name": "中关村生命科学园"}},
    ]
    calls = []

    def reply(handler):
        calls.append(handler.path)
        _send(handler, 200, {"version": 0.6, "elements": elements})

    resolver = socket.getaddrinfo
    server = _Server(reply)
    try:
        got = fetch_osm(polygon=osm.park_query_polygon(_parks(), "zgc_lsp", margin_m=500),
                        timeout_s=5, data_dir=tmp_path, overpass_url=server.url + "/api")
        again = fetch_osm(polygon=osm.park_query_polygon(_parks(), "zgc_lsp", margin_m=500),
                          timeout_s=5, data_dir=tmp_path, overpass_url=server.url + "/api")
    finally:
        server.close()
    assert sorted(got["osm_id"]) == ["node/10", "way/5"]
    assert got.attrs["source"].startswith("overpass:127.0.0.1")
    assert got["osm_version"].isna().all()
    assert len(calls) == 1 and len(again) == 2  # the second answer came from the cache
    assert socket.getaddrinfo is resolver  # osmnx's pinned resolver does not outlive the query
    best = match_parks(got, _parks()).iloc[0]
    assert best["osm_id"] == "way/5" and best["park_id"] == "zgc_lsp"
    cache = tmp_path / "osm_cache"
    assert list(cache.glob("*.json"))
    assert osm.prune_cache(cache, max_bytes=0) >= 1 and not list(cache.glob("*.json"))


def test_fetch_reports_an_unknown_place(tmp_path):
    server = _Server(lambda h: _send(h, 200, []))
    try:
        with pytest.raises(OSMQueryError, match="no area for the place 'Atlantis'"):
            fetch_osm(place="Atlantis", timeout_s=5, data_dir=tmp_path, nominatim_url=server.url + "/")
    finally:
        server.close()


def test_fetch_checks_its_arguments(tmp_path):
    with pytest.raises(OSMQueryError, match="exactly one"):
        fetch_osm(data_dir=tmp_path)
    with pytest.raises(OSMQueryError, match="not longitude/latitude"):
        fetch_osm(polygon=shapely.box(12_900_000, 4_800_000, 12_910_000, 4_810_000), data_dir=tmp_path)
    with pytest.raises(OSMQueryError, match="positive"):
        fetch_osm(polygon=shapely.box(*LSP), timeout_s=0, data_dir=tmp_path)


def test_park_query_polygon_grows_the_outline_by_the_margin():
    grown = osm.park_query_polygon(_parks(), "zgc_lsp", margin_m=1000)
    geod = Geod(ellps="WGS84")
    _, _, metres = geod.inv(LSP[0], 40.1, grown.bounds[0], 40.1)
    assert metres == pytest.approx(1000, rel=0.01)


# ------------------------------------------------------------------------------ command line


@pytest.fixture
def tiny_extract(tmp_path: Path) -> Path:
    b = OsmBuilder(timestamp=STAMP)
    b.polygon([(116.266, 40.086), (116.292, 40.086), (116.292, 40.108), (116.266, 40.108)],
              {"landuse": "industrial", "name": "生命科学园", "name:en": "Life Science Park"}, version=2)
    b.point(116.2700, 40.0800, {"amenity": "hospital", "name": "北京大学国际医院", "hospital:grade": "三级"})
    return b.write_pbf(tmp_path / "tiny.osm.pbf")


def test_cli_match_apply_list_restore(tiny_snapshot, tiny_extract, tmp_path, capsys):
    common = ["--snapshot", str(tiny_snapshot), "--data-dir", str(tmp_path / "data")]
    snapshot_before = {p.name: p.read_bytes() for p in tiny_snapshot.iterdir()}
    assert main(["osm", "match", str(tiny_extract), *common]) == 0
    out = capsys.readouterr().out
    assert "lsp:" in out and "way/1" in out and "nothing was changed" in out
    assert main(["osm", "list", "--data-dir", str(tmp_path / "data")]) == 0
    assert "no park outline is replaced" in capsys.readouterr().out

    assert main(["osm", "match", str(tiny_extract), "--apply", *common]) == 2
    assert "--park" in capsys.readouterr().err
    assert main(["osm", "match", str(tiny_extract), "--park", "lsp", "--apply", *common]) == 0
    out = capsys.readouterr().out
    assert "OSM outline : way/1 v2" in out and "applied (revision 1)" in out and "restore --park lsp" in out
    assert main(["osm", "list", "--data-dir", str(tmp_path / "data")]) == 0
    assert "lsp: way/1" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in tiny_snapshot.iterdir()} == snapshot_before

    assert main(["osm", "match", str(tiny_extract), "--park", "lsp", "--json", *common]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records[0]["osm_id"] == "way/1" and records[0]["overlap_iou"] == pytest.approx(1.0)

    assert main(["osm", "restore", "--park", "lsp", "--data-dir", str(tmp_path / "data")]) == 0
    assert "restored the nominal outline of lsp" in capsys.readouterr().out
    assert main(["osm", "restore", "--park", "lsp", "--data-dir", str(tmp_path / "data")]) == 1
    assert "no OpenStreetMap override" in capsys.readouterr().err


def test_cli_refuses_a_low_scoring_best_candidate(tiny_snapshot, tmp_path, capsys):
    b = OsmBuilder()
    b.polygon(rectangle(116.300, 40.110, 116.302, 40.111), {"landuse": "retail"})
    path = b.write_xml(tmp_path / "weak.osm")
    common = ["--snapshot", str(tiny_snapshot), "--data-dir", str(tmp_path / "data")]
    assert main(["osm", "match", str(path), "--park", "lsp", "--apply", *common]) == 1
    assert "(low)" in capsys.readouterr().err
    assert not ParkGeometryStore(tmp_path / "data").list()


def test_cli_context_writes_a_layer(tiny_snapshot, tiny_extract, tmp_path, capsys):
    out = tmp_path / "context.geojson"
    assert main(["osm", "context", str(tiny_extract), "-o", str(out), "--snapshot", str(tiny_snapshot),
                 "--data-dir", str(tmp_path / "data")]) == 0
    printed = capsys.readouterr().out
    assert "hospital" in printed and "(1 tertiary)" in printed
    frame, meta = read_export(out.read_bytes(), fmt="geojson")
    assert list(frame["kind"]) == ["hospital"] and "ODbL" in meta["licence"]


def test_cli_fetch_offline_fails_with_a_message(tiny_snapshot, tmp_path, closed_port, monkeypatch, capsys):
    import osmnx as ox

    monkeypatch.setattr(ox.settings, "overpass_url", closed_port + "/api")
    start = time.perf_counter()
    assert main(["osm", "fetch", "--park", "lsp", "--timeout", "5", "--snapshot", str(tiny_snapshot),
                 "--data-dir", str(tmp_path / "data")]) == 1
    assert "cannot reach the OpenStreetMap server" in capsys.readouterr().err
    assert time.perf_counter() - start < 30
    assert main(["osm", "match", str(tmp_path / "x.geojson"), "--snapshot", str(tiny_snapshot)]) == 1
    assert "must end in" in capsys.readouterr().err


def test_benchmark_runs_on_a_small_extract():
    from geo.bench import bench_osm

    result = bench_osm(elements=3000)
    assert result.seconds > 0 and result.target_seconds == 10.0
    found, total = re.search(r"(\d+)/(\d+) parks matched by name", result.note).groups()
    assert found == total  # every park's named area is found


def test_numbers_are_never_in_degrees(features):
    matches = match_parks(features, _parks())
    assert (matches["area_after_m2"] > 1e5).all()  # a degree-area would be ~1e-3
    assert np.isfinite(matches["distance_m"]).all()
    assert isinstance(matches, gpd.GeoDataFrame) and matches.crs.equals("EPSG:4326")
    assert pd.api.types.is_integer_dtype(matches["rank"])
