"""Site metrics, travel times and isochrones (geo.site, layers.isochrones), fully offline.

Every street graph is read by osmnx from small OSM XML files the tests write themselves; the
network is blocked for the whole module, so nothing here can reach the internet.
"""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path
from types import SimpleNamespace

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo import site, streets
from geo.errors import GeoError
from geo.measure import area as measured_area
from layers.isochrones import isochrones_layer, metrics_table, nearest_targets_layer

XSS = "<img src=x onerror=alert(1)>${alert(2)}`</script>\\u{"
EARTH_RADIUS_M = 6_371_009.0  # osmnx's great-circle radius: a meridian step of d metres
LON0, LAT0 = 116.27, 40.09
STEP_M = 500.0  # grid spacing along meridians (exact for osmnx lengths)
DLAT = math.degrees(STEP_M / EARTH_RADIUS_M)
DLON = 0.006  # about 511 m at 40.1 N
NX, NY = 5, 5


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt to open a connection or resolve a name fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# --------------------------------------------------------------------------- OSM XML fixtures


def write_osm(path: Path, nodes: dict[int, tuple[float, float]],
              ways: list[tuple[int, list[int], dict[str, str]]]) -> Path:
    """Write a minimal OSM XML file: nodes as {id: (lon, lat)}, ways as (id, refs, tags)."""
    from xml.sax.saxutils import quoteattr

    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="tests">']
    for node_id, (lon, lat) in nodes.items():
        lines.append(f'  <node id="{node_id}" version="1" lat="{lat:.9f}" lon="{lon:.9f}"/>')
    for way_id, refs, tags in ways:
        lines.append(f'  <way id="{way_id}" version="1">')
        lines += [f'    <nd ref="{ref}"/>' for ref in refs]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def node_id(i: int, j: int) -> int:
    return 1 + j * NX + i


def grid_lonlat(i: float, j: float) -> tuple[float, float]:
    return LON0 + i * DLON, LAT0 + j * DLAT


def write_grid(path: Path) -> Path:
    """A 5 x 5 street grid: north-south streets are primary at 60 km/h (500 m blocks = 30 s),
    east-west streets residential without maxspeed (default speed), one footway across the
    grid, and a separate two-node island 700 m east of the grid, connected to nothing."""
    nodes = {node_id(i, j): grid_lonlat(i, j) for j in range(NY) for i in range(NX)}
    ways = []
    for i in range(NX):
        ways.append((100 + i, [node_id(i, j) for j in range(NY)],
                     {"highway": "primary", "maxspeed": "60", "name": f"Primary {i}"}))
    for j in range(NY):
        ways.append((200 + j, [node_id(i, j) for i in range(NX)], {"highway": "residential"}))
    # A diagonal footway (a shortcut a car may not take).
    ways.append((300, [node_id(0, 0), node_id(4, 4)], {"highway": "footway"}))
    # The island.
    nodes[9001] = grid_lonlat(NX - 1 + 1.4, 2)
    nodes[9002] = grid_lonlat(NX - 1 + 1.4, 3)
    ways.append((400, [9001, 9002], {"highway": "residential"}))
    return write_osm(path, nodes, ways)


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    return write_grid(tmp_path / "grid.osm")


@pytest.fixture
def grid(grid_file: Path):
    return streets.load_street_graph(grid_file)


def _parks(*points: tuple[str, float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"park_id": [p[0] for p in points], "name_zh": [p[0] + "园" for p in points],
         "name_en": [p[0] + " park" for p in points],
         "anchor_lon": [p[1] for p in points], "anchor_lat": [p[2] for p in points]},
        geometry=shapely.buffer(shapely.points([p[1] for p in points], [p[2] for p in points]), 0.001),
        crs=4326)


def _targets(*rows: tuple[str, str, float, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"target_id": [r[0] for r in rows], "category": [r[1] for r in rows],
         "name_zh": [r[0] + "站" for r in rows], "name_en": [r[0] + " station" for r in rows],
         "source": "test", "location_tier": "site"},
        geometry=gpd.GeoSeries(shapely.points([r[2] for r in rows], [r[3] for r in rows]), crs=4326),
        crs=4326)


# --------------------------------------------------------------------------- street graph


def test_one_km_at_60_kmh_takes_one_minute(tmp_path):
    nodes = {1: (LON0, LAT0), 2: (LON0, LAT0 + math.degrees(1000.0 / EARTH_RADIUS_M) / 2),
             3: (LON0, LAT0 + math.degrees(1000.0 / EARTH_RADIUS_M))}
    path = write_osm(tmp_path / "road.osm", nodes,
                     [(1, [1, 2, 3], {"highway": "primary", "maxspeed": "60"})])
    graph = streets.load_street_graph(path)
    data = graph.get_edge_data(1, 3)[0]  # simplified into one 1 km edge
    assert data["length"] == pytest.approx(1000.0, abs=0.01)
    assert data["speed_kph"] == 60.0
    assert data["travel_time"] == pytest.approx(60.0, abs=0.001)
    # and osmnx's great-circle length agrees with the ellipsoid within 0.5 %
    _, _, geodesic = Geod(ellps="WGS84").inv(*nodes[1], *nodes[3])
    assert geodesic == pytest.approx(1000.0, rel=0.005)


def test_grid_speeds_from_maxspeed_and_chinese_defaults(grid):
    assert grid.graph["crs"] == "epsg:4326"
    primary = grid.get_edge_data(node_id(0, 0), node_id(0, 1))[0]
    assert primary["length"] == pytest.approx(STEP_M, abs=0.01)
    assert primary["travel_time"] == pytest.approx(30.0, abs=0.001)  # 500 m at 60 km/h
    residential = grid.get_edge_data(node_id(0, 0), node_id(1, 0))[0]
    assert residential["speed_kph"] == streets.DEFAULT_SPEEDS_KPH["residential"] == 20.0
    assert residential["travel_time"] == pytest.approx(residential["length"] / (20 / 3.6))


def test_drive_network_drops_footways_walk_keeps_them(grid_file):
    drive_highways = {d["highway"] for *_, d in streets.load_street_graph(grid_file).edges(data=True)}
    assert "footway" not in drive_highways and {"primary", "residential"} <= drive_highways
    walk = streets.load_street_graph(grid_file, network_type="walk")
    footway = walk.get_edge_data(node_id(0, 0), node_id(4, 4))[0]
    assert footway["highway"] == "footway"
    assert footway["travel_time"] == pytest.approx(footway["length"] / (streets.WALK_SPEED_KPH / 3.6))
    assert walk.has_edge(node_id(4, 4), node_id(0, 0))  # both ways on foot


def test_unusable_files_are_refused_clearly(tmp_path):
    footways = write_osm(tmp_path / "paths.osm", {1: (LON0, LAT0), 2: (LON0 + 0.01, LAT0)},
                         [(1, [1, 2], {"highway": "footway"})])
    with pytest.raises(streets.StreetGraphError, match="no way usable for the 'drive' network"):
        streets.load_street_graph(footways)
    with pytest.raises(streets.StreetGraphError, match="PBF"):
        streets.load_street_graph(tmp_path / "beijing.osm.pbf")
    with pytest.raises(streets.StreetGraphError, match="no street network file"):
        streets.load_street_graph(tmp_path / "missing.osm")
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><node", encoding="utf-8")
    with pytest.raises(streets.StreetGraphError, match="cannot read"):
        streets.load_street_graph(broken)
    with pytest.raises(site.SiteError, match="'bike'"):
        streets.load_street_graph(footways, network_type="bike")
    assert issubclass(streets.StreetGraphError, GeoError)


def test_bz2_file_is_read(tmp_path, grid_file):
    import bz2

    packed = tmp_path / "grid.osm.bz2"
    packed.write_bytes(bz2.compress(grid_file.read_bytes()))
    expected = streets.load_street_graph(grid_file).number_of_edges()
    assert streets.load_street_graph(packed).number_of_edges() == expected


def test_projected_graph_is_refused(grid):
    grid.graph["crs"] = "epsg:32650"
    with pytest.raises(streets.StreetGraphError, match="32650"):
        site.site_metrics(_parks(("a", *grid_lonlat(0, 0))), _targets(), graph=grid)


def test_nearest_nodes_snap_in_metres(grid):
    lon, lat = grid_lonlat(2, 2)
    nodes, metres = streets.nearest_nodes(grid, [lon, lon], [lat, lat + DLAT * 0.1])
    assert nodes.tolist() == [node_id(2, 2), node_id(2, 2)]
    assert metres[0] == pytest.approx(0.0, abs=0.01)
    assert metres[1] == pytest.approx(50.0, rel=0.01)  # a tenth of a 500 m block


# --------------------------------------------------------------------------- site metrics


def test_road_travel_time_and_distance_to_nearest_target(grid):
    parks = _parks(("a", *grid_lonlat(0, 0)))
    targets = _targets(("north", "metro_station", *grid_lonlat(0, 4)),  # 2 km up the primary road
                       ("east", "metro_station", *grid_lonlat(3, 0)))   # 1.5 km along residential
    metrics = site.site_metrics(parks, targets, graph=grid)
    metro = metrics.set_index("category").loc["metro_station"]
    # Closer in a straight line is east, but north is faster: 2 km at 60 km/h = 2 min,
    # against ~1.53 km at 20 km/h = 4.6 min.
    assert metro["target_id"] == "north"
    assert metro["travel_min"] == pytest.approx(2.0, abs=1e-6)
    assert metro["road_m"] == pytest.approx(4 * STEP_M, abs=0.05)
    assert metro["straight_m"] == pytest.approx(Geod(ellps="WGS84").inv(*grid_lonlat(0, 0),
                                                                        *grid_lonlat(0, 4))[2])
    assert metro["method"] == site.METHOD_ROAD and metro["status"] == site.STATUS_OK
    assert list(metrics["category"]) == list(site.CATEGORIES)
    assert (metrics.set_index("category").loc[["airport", "nmpa_centre"], "status"]
            == site.STATUS_NO_TARGET).all()


def test_unreachable_and_off_network_targets_are_reported_not_raised(grid):
    parks = _parks(("a", *grid_lonlat(0, 0)), ("far", LON0 + 1.0, LAT0))
    targets = _targets(("island", "tertiary_hospital", *grid_lonlat(NX - 1 + 1.4, 2.5)),
                       ("faraway", "airport", LON0 - 1.0, LAT0))
    metrics = site.site_metrics(parks, targets, graph=grid).set_index(["park_id", "category"])
    island = metrics.loc[("a", "tertiary_hospital")]
    assert island["status"] == site.STATUS_UNREACHABLE
    assert island["target_id"] == "island" and island["target_snap_m"] < 300
    assert math.isnan(island["travel_min"]) and math.isnan(island["road_m"])
    assert island["straight_m"] > 2000
    assert metrics.loc[("a", "airport"), "status"] == site.STATUS_OFF_NETWORK
    assert (metrics.loc["far", "status"].isin([site.STATUS_OFF_NETWORK, site.STATUS_NO_TARGET])).all()
    assert metrics.loc[("far", "airport"), "origin_snap_m"] > 50_000


def test_straight_line_fallback_is_labelled():
    parks = _parks(("a", 116.3, 40.0), ("b", 116.5, 39.8))
    targets = _targets(("t1", "metro_station", 116.31, 40.0), ("t2", "metro_station", 116.49, 39.8),
                       ("pek", "airport", 116.58444, 40.08))
    metrics = site.site_metrics(parks, targets)
    assert set(metrics["method"]) == {site.METHOD_STRAIGHT}
    assert "no street network loaded" in site.METHOD_STRAIGHT
    assert metrics["travel_min"].isna().all() and metrics["road_m"].isna().all()
    by = metrics.set_index(["park_id", "category"])
    assert by.loc[("a", "metro_station"), "target_id"] == "t1"
    assert by.loc[("b", "metro_station"), "target_id"] == "t2"
    expected = Geod(ellps="WGS84").inv(116.3, 40.0, 116.58444, 40.08)[2]
    assert by.loc[("a", "airport"), "straight_m"] == pytest.approx(expected, rel=1e-9)
    assert by.loc[("a", "tertiary_hospital"), "status"] == site.STATUS_NO_TARGET


def test_bad_options_quote_the_value(grid):
    with pytest.raises(site.SiteError, match="-5"):
        site.site_metrics(_parks(("a", LON0, LAT0)), _targets(), max_snap_m=-5)
    with pytest.raises(site.SiteError, match="0"):
        streets.isochrones(grid, grid_lonlat(2, 2), minutes=(0, 15))
    with pytest.raises(site.SiteError, match="'soon'"):
        streets.isochrones(grid, grid_lonlat(2, 2), minutes=("soon",))
    with pytest.raises(site.SiteError, match="km from the nearest road"):
        streets.isochrones(grid, (LON0 + 1.0, LAT0))
    with pytest.raises(site.SiteError, match="-1"):
        streets.add_travel_times(grid, fallback_kph=-1)


# --------------------------------------------------------------------------- targets


def _orgs() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"org_id": ["nmpa_cde", "firm"], "name_zh": ["药审中心", "企业"],
         "name_en": ["CDE", "Firm"], "kind": ["regulator_centre", "enterprise"],
         "location_tier": ["park", "site"]},
        geometry=gpd.GeoSeries(shapely.points([116.485, 116.3], [39.80, 40.0]), crs=4326), crs=4326)


def test_targets_from_snapshot_and_context():
    snapshot = SimpleNamespace(organisations=_orgs())
    plain = site.targets_frame(snapshot)
    assert list(plain.columns) == list(site.TARGET_COLUMNS)
    assert plain.crs.equals("EPSG:4326")
    assert plain.set_index("target_id").loc["nmpa_cde", "category"] == "nmpa_centre"
    assert {"airport_pek", "airport_pkx"} <= set(plain["target_id"])
    pek = plain.set_index("target_id").loc["airport_pek", "geometry"]
    assert (pek.x, pek.y) == (116.58444, 40.08)

    # as geo.osm.context_layers lists them: one row per (park, feature), so PEK twice
    context = gpd.GeoDataFrame(
        {"park_id": ["a", "a", "a", "a", "a", "b"],
         "kind": ["metro_station", "hospital", "hospital", "airport", "university", "airport"],
         "name_zh": ["生命科学园站", "三甲医院", "社区医院", "首都机场", "大学", "首都机场"],
         "name_en": ["Life Science Park", "Big Hospital", None, "PEK", "Uni", "PEK"],
         "osm_type": ["node", "way", "node", "way", "way", "way"],
         "osm_id": ["node/1", 2, 3, 4, 5, "way/4"], "tertiary": [False, True, False, False, False, False]},
        geometry=gpd.GeoSeries([shapely.Point(116.29, 40.09), shapely.Point(116.3, 40.1),
                                shapely.Point(116.31, 40.1), shapely.box(116.57, 40.07, 116.60, 40.09),
                                shapely.Point(116.3, 40.0), shapely.Point(116.58, 40.08)], crs=4326),
        crs=4326)
    frame = site.targets_frame(snapshot, context)
    assert frame["target_id"].is_unique
    targets = frame.set_index("target_id")
    assert targets.loc["osm:node/1", "category"] == "metro_station"
    assert targets.loc["osm:way/2", "category"] == "tertiary_hospital"
    assert "osm:node/3" not in targets.index  # not a tertiary hospital
    assert "osm:way/5" not in targets.index  # a university: no category
    assert targets.loc["osm:way/4", "category"] == "airport"
    assert targets.loc["osm:way/4", "source"] == "OpenStreetMap (ODbL)"
    assert "airport_pek" not in targets.index  # the context's airports replace the built-in ones
    assert shapely.get_type_id(targets.loc["osm:way/4", "geometry"]) == 0  # a polygon becomes a point


def test_targets_from_the_bundled_snapshot_include_the_nmpa_centres():
    from geo.snapshot import load_snapshot

    targets = site.targets_frame(load_snapshot())
    nmpa = targets[targets["category"] == "nmpa_centre"]
    assert {"nmpa_cde", "nmpa_cmde"} <= set(nmpa["target_id"])
    metrics = site.site_metrics(load_snapshot().parks, targets)
    bda = metrics.set_index(["park_id", "category"]).loc[("bda_yizhuang", "nmpa_centre")]
    assert bda["straight_m"] < 1000  # the NMPA centres are in the BDA
    parks = load_snapshot().parks
    unlocated = set(parks.loc[parks.geometry.isna(), "park_id"])
    assert unlocated and not unlocated & set(metrics["park_id"])  # no distance from nowhere
    assert metrics.loc[metrics["status"] == "ok", "straight_m"].notna().all()


def test_bench_site_runs_on_the_bundled_snapshot():
    from geo.snapshot import load_snapshot

    result = site.bench_site(n_nodes=300, snapshot=load_snapshot(), repeat=1, verbose=False)
    assert result["parks"] == int(load_snapshot().parks.geometry.notna().sum())


# --------------------------------------------------------------------------- isochrones


def test_isochrones_nest_and_grow(grid):
    iso = streets.isochrones(grid, grid_lonlat(2, 2), minutes=(3, 1, 2))
    assert list(iso["minutes"]) == [1.0, 2.0, 3.0]
    assert iso.crs.equals("EPSG:4326")
    assert (np.diff(iso["area_km2"].to_numpy()) > 0).all()
    assert (np.diff(iso["nodes_reached"].to_numpy()) >= 0).all()
    geoms = list(iso.geometry)
    for small, large in zip(geoms, geoms[1:], strict=False):
        assert measured_area(shapely.difference(small, large)) < 1.0  # m2: nested
    # area_km2 is an equal-area figure: check it against UTM 50N
    utm = iso.to_crs(32650).area.to_numpy() / 1e6
    assert iso["area_km2"].to_numpy() == pytest.approx(utm, rel=0.003)


def test_isochrone_follows_road_speeds(grid):
    origin = grid_lonlat(2, 2)
    one_minute = streets.isochrones(grid, origin, minutes=(1,), edge_buffer_m=50).geometry.iloc[0]
    # 1 min at 60 km/h = 1 km along the primary street (north); at 20 km/h only ~333 m east.
    north = shapely.Point(grid_lonlat(2, 2 + 900 / STEP_M))
    east = shapely.Point(grid_lonlat(2 + 900 / 511, 2))
    assert one_minute.covers(north)
    assert not one_minute.covers(east)
    assert not one_minute.covers(shapely.Point(grid_lonlat(2, 2 + 1300 / STEP_M)))


def test_isochrone_from_an_island_stays_on_it(grid):
    iso = streets.isochrones(grid, grid_lonlat(NX - 1 + 1.4, 2), minutes=(15,))
    assert iso["nodes_reached"].iloc[0] == 2
    assert not iso.geometry.iloc[0].covers(shapely.Point(grid_lonlat(2, 2)))


# --------------------------------------------------------------------------- layers


def _render(*layers) -> str:
    fmap = folium.Map(location=[LAT0, LON0], zoom_start=13, tiles=None)
    for layer in layers:
        layer.add_to(fmap)
    return fmap.get_root().render()


def _assert_inert(html: str) -> None:
    assert "<img src=x" not in html
    assert "${alert" not in html
    assert "`</script>" not in html
    # shown as text: escaped in tooltips, and again JSON-escaped (\u0026lt;) inside GeoJSON
    assert ("&lt;img src=x onerror=alert(1)&gt;" in html
            or "\\u0026lt;img src=x onerror=alert(1)\\u0026gt;" in html)


def test_layers_render_with_hostile_names(grid):
    iso = streets.isochrones(grid, grid_lonlat(2, 2), minutes=(1, 2, 3))
    parks = _parks(("a", *grid_lonlat(0, 0)))
    parks.loc[0, "name_en"] = XSS
    targets = _targets(("north", "metro_station", *grid_lonlat(0, 4)),
                       ("island", "tertiary_hospital", *grid_lonlat(NX - 1 + 1.4, 2.5)))
    targets.loc[0, "name_en"] = XSS
    metrics = site.site_metrics(parks, targets, graph=grid)
    for lang in ("en", "zh"):
        html = _render(isochrones_layer(iso, lang=lang, origin_name=XSS),
                       nearest_targets_layer(metrics, lang=lang))
        _assert_inert(html)
    html = _render(isochrones_layer(iso, origin_name="Park"))
    assert "Within 1 min" in html and "Within 3 min" in html
    # longest drawn first: the 3-minute tooltip appears before the 1-minute one
    assert html.index("Within 3 min") < html.index("Within 1 min")
    zh = _render(isochrones_layer(iso, lang="zh", datum="gcj02"))
    assert json.dumps("3分钟可达")[1:-1] in zh  # GeoJSON properties are ASCII-escaped


def test_straight_line_layer_and_table_say_so():
    parks = _parks(("a", 116.3, 40.0))
    targets = _targets(("t1", "metro_station", 116.31, 40.0))
    metrics = site.site_metrics(parks, targets)
    html = _render(nearest_targets_layer(metrics))
    assert "Straight line (no street network loaded)" in html
    table = metrics_table(metrics, lang="en")
    assert list(table.columns)[:3] == ["Park", "Destination", "Nearest"]
    row = table.iloc[0]
    assert row["Nearest"] == "t1 station" and row["Travel time"] == "–"
    assert row["Straight-line distance"].endswith(" km")
    zh = metrics_table(metrics, lang="zh")
    assert "直线距离（未加载路网）" in set(zh["计算方法"])
    from geo.datums import wgs84_to_gcj02

    shifted = _render(nearest_targets_layer(metrics, datum="gcj02"))
    lon, lat = wgs84_to_gcj02(116.31, 40.0)
    assert f"{float(lat)}, {float(lon)}" in shifted and "40.0, 116.31]" not in shifted
    empty = nearest_targets_layer(metrics.iloc[0:0])
    assert isinstance(empty, folium.FeatureGroup)
    assert isinstance(isochrones_layer(gpd.GeoDataFrame({"minutes": [], "area_km2": []},
                                                        geometry=gpd.GeoSeries([], crs=4326))),
                      folium.FeatureGroup)


def test_bench_site_runs_on_a_small_grid(tiny_snapshot):
    from geo.snapshot import load_snapshot

    snapshot = load_snapshot(tiny_snapshot)
    result = site.bench_site(n_nodes=400, snapshot=snapshot, repeat=1, verbose=False)
    assert result["nodes"] == 400 and result["parks"] == len(snapshot.parks)
    assert all(result[k] >= 0 for k in ("site_metrics_road_s", "isochrones_s"))
