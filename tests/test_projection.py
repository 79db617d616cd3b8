"""One projection per job (geo.projection), and the results of every caller unchanged within
tolerance against the hand-written projections they used before (UTM zone of the median node in
geo.site, Lambert azimuthal equal-area in geo.shapes, UTM 50N in geo.build / geo.aggregate;
tests/test_bundled_snapshot.py rebuilds the snapshot to the same bytes)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from geo import projection
from geo.measure import area, geodesic_area

GEOD = Geod(ellps="WGS84")


def _transform(geom, source, target):
    t = Transformer.from_crs(source, target, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def test_local_metric_distances_are_geodesic_within_a_hundredth_of_a_percent():
    rng = np.random.default_rng(4)
    lon = rng.uniform(115.7, 117.3, 400)
    lat = rng.uniform(39.5, 40.9, 400)
    plane = projection.local_metric((lon.min(), lat.min(), lon.max(), lat.max()))
    x, y = plane.xy(lon, lat)
    planar = np.hypot(np.diff(x), np.diff(y))
    geodesic = projection.geodesic_m(lon[:-1], lat[:-1], lon[1:], lat[1:])
    assert np.max(np.abs(planar / geodesic - 1)) < 1e-4  # Beijing-wide: under 0.01 %
    back_lon, back_lat = plane.lonlat(x, y)
    assert np.max(np.abs(back_lon - lon)) < 1e-9 and np.max(np.abs(back_lat - lat)) < 1e-9


def test_a_buffer_in_the_local_plane_is_round_on_the_ground():
    centre = shapely.Point(116.3, 40.1)
    plane = projection.local_metric(centre)
    ring = plane.to_lonlat(shapely.buffer(plane.to_metres(centre), 2_000.0, quad_segs=32))[0]
    coords = shapely.get_coordinates(shapely.get_exterior_ring(ring))
    distances = projection.geodesic_m(np.full(len(coords), 116.3), np.full(len(coords), 40.1),
                                      coords[:, 0], coords[:, 1])
    assert distances == pytest.approx(2_000.0, rel=1e-4)


def test_equal_area_areas_match_the_geodesic_area():
    # edges of ~500 m, as district boundaries have: long edges differ between a geodesic and a
    # straight line in any plane
    district_like = shapely.segmentize(
        shapely.Polygon([(115.9, 39.7), (116.8, 39.75), (116.9, 40.4), (116.0, 40.5)]), 0.005)
    assert area(district_like) == pytest.approx(geodesic_area(district_like), rel=1e-6)
    plane = projection.equal_area(district_like)
    assert plane.to_metres(district_like)[0].area == pytest.approx(geodesic_area(district_like), rel=1e-6)


def test_nominal_circles_are_unchanged_against_the_former_laea_construction():
    from geo.shapes import nominal_extent

    lon, lat, area_m2 = 116.278864, 40.097416, 7.2e6
    circle = nominal_extent(lon, lat, area_m2=area_m2)
    laea = CRS.from_proj4(f"+proj=laea +lat_0={lat:.6f} +lon_0={lon:.6f} +ellps=WGS84 +units=m +no_defs")
    n = 72
    radius = np.sqrt(area_m2 / np.pi) * np.sqrt(np.pi / (0.5 * n * np.sin(2.0 * np.pi / n)))
    angles = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    before = _transform(shapely.Polygon(np.column_stack([radius * np.cos(angles), radius * np.sin(angles)])),
                        laea, "EPSG:4326")
    new = shapely.get_coordinates(circle)[:-1]
    old = shapely.get_coordinates(shapely.orient_polygons(before, exterior_cw=False))[:-1]
    gap = projection.geodesic_m(new[:, 0], new[:, 1], old[:, 0], old[:, 1])
    assert gap.max() < 1e-6  # metres: the same circle (the snapshot rebuilds to the same bytes)
    assert area(circle) == pytest.approx(area_m2, rel=1e-6)


def test_street_snapping_is_unchanged_against_the_former_utm_zone(tmp_path):
    from geo.streets import NodeIndex, synthetic_grid_graph

    graph = synthetic_grid_graph(bounds=(116.0, 39.6, 116.8, 40.3), n_nodes=400)
    index = NodeIndex(graph)
    rng = np.random.default_rng(2)
    lon, lat = rng.uniform(116.0, 116.8, 50), rng.uniform(39.6, 40.3, 50)
    nodes, metres = index.nearest(lon, lat)
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)  # what geo.site used
    node_x, node_y = utm.transform(index.lon, index.lat)
    px, py = utm.transform(lon, lat)
    old = np.hypot(node_x[None, :] - px[:, None], node_y[None, :] - py[:, None]).min(axis=1)
    assert metres == pytest.approx(old, rel=5e-4, abs=0.01)
    true = projection.geodesic_m(lon, lat, index.lon[[index.position[n] for n in nodes]],
                                 index.lat[[index.position[n] for n in nodes]])
    assert metres == pytest.approx(true, rel=1e-4, abs=0.01)  # closer to the ground than UTM was


def test_grid_cells_stay_on_utm_50n():
    from geo.aggregate import grid_counts

    points = shapely.points(np.array([116.30, 116.31, 116.5]), np.array([39.9, 39.9, 40.0]))
    cells = grid_counts(gpd.GeoSeries(points, crs=4326), max_cells=10)
    corners = _transform(cells.geometry.values, "EPSG:4326", "EPSG:32650")
    xy = shapely.get_coordinates(corners)
    cell = int(cells["cell_m"].iloc[0])
    assert np.allclose(xy / cell, np.round(xy / cell), atol=1e-6)  # corners on the fixed grid


def test_every_metres_and_back_in_geo_goes_through_the_helper():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parent.parent / "geo"
    pattern = re.compile(r"estimate_utm_crs|to_crs\(32650\)|EPSG:3857|\+proj=(aeqd|laea|tmerc|aea)|"
                         r"Transformer\.from_crs\((4326|WGS84|\"EPSG:4326\"), ")
    offenders = [f"{path.relative_to(root)}:{number}"
                 for path in root.rglob("*.py") if path.name not in ("projection.py", "bench_planner.py")
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if pattern.search(line)]
    assert offenders == []


@pytest.mark.parametrize("make", [projection.equal_area, projection.local_metric, lambda _: projection.beijing_utm()])
def test_planes_give_the_coordinates_of_a_transformer_made_from_their_crs(make):
    plane = make((116.1, 39.6, 116.7, 40.3))
    lon, lat = np.random.default_rng(1).uniform(116.0, 116.8, 500), np.random.default_rng(2).uniform(39.5, 40.4, 500)
    reference = Transformer.from_crs(CRS.from_epsg(4326), plane.crs, always_xy=True)
    x, y = plane.xy(lon, lat)
    expected_x, expected_y = reference.transform(lon, lat)
    np.testing.assert_array_equal(x, expected_x)
    np.testing.assert_array_equal(y, expected_y)
    back_lon, back_lat = plane.lonlat(x, y)
    np.testing.assert_allclose(back_lon, lon, atol=1e-9)
    np.testing.assert_allclose(back_lat, lat, atol=1e-9)


def test_a_plane_is_made_from_its_pipeline_not_searched_for_in_each_thread():
    """Streamlit runs every rerun in a thread of its own, and pyproj makes a transformer again in
    each thread: made from CRSs, that repeats PROJ's database search (~60 ms per transformer per
    rerun, measured by scripts/bench_planner_page.py); made from the pipeline, it parses one line."""
    plane = projection.equal_area((116.1, 39.6, 116.7, 40.3))
    reference = Transformer.from_crs(CRS.from_epsg(4326), plane.crs, always_xy=True)
    for transformer in (plane.forward, plane.inverse):
        assert transformer.source_crs is None  # made from a pipeline, not from two CRSs
    assert plane.forward.definition == reference.definition
