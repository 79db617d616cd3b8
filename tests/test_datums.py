"""Datum conversions against published test vectors, round trips and edge cases."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo import datums
from geo.errors import CRSError, DatumError

# (wgs84 lon, lat) -> (gcj02 lon, lat), from the test suites of eviltransform
# (googollee/eviltransform, Shanghai / Shenzhen / Beijing) and wandergis/coordtransform.
WGS_TO_GCJ = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
]
# gcj02 -> bd09, from wandergis/coordtransform's test.
GCJ_TO_BD = [((116.404, 39.915), (116.41036949371029, 39.92133699351021))]


@pytest.mark.parametrize(("wgs", "gcj"), WGS_TO_GCJ)
def test_wgs84_to_gcj02_matches_published_vectors(wgs, gcj):
    lon, lat = datums.wgs84_to_gcj02(*wgs)
    assert lon == pytest.approx(gcj[0], abs=1e-9)
    assert lat == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), WGS_TO_GCJ)
def test_gcj02_to_wgs84_recovers_published_inputs_within_a_millimetre(wgs, gcj):
    lon, lat = datums.gcj02_to_wgs84(*gcj)
    assert abs(lon - wgs[0]) * 95_000 < 0.001
    assert abs(lat - wgs[1]) * 111_000 < 0.001


@pytest.mark.parametrize(("gcj", "bd"), GCJ_TO_BD)
def test_gcj02_to_bd09_matches_published_vector(gcj, bd):
    lon, lat = datums.gcj02_to_bd09(*gcj)
    assert (lon, lat) == pytest.approx(bd, abs=1e-9)
    back = datums.bd09_to_gcj02(*bd)
    assert back == pytest.approx(gcj, abs=1e-8)  # 1e-8 degrees is about 1 mm


def test_exact_inverse_round_trip_is_under_one_centimetre_across_china():
    rng = np.random.default_rng(1)
    lon = rng.uniform(73.7, 135.0, 200_000)
    lat = rng.uniform(3.9, 53.5, 200_000)
    for forward, inverse in ((datums.wgs84_to_gcj02, datums.gcj02_to_wgs84),
                             (datums.wgs84_to_bd09, datums.bd09_to_wgs84)):
        back_lon, back_lat = inverse(*forward(lon, lat))
        error_m = np.hypot((back_lon - lon) * 111_320 * np.cos(np.radians(lat)), (back_lat - lat) * 110_574)
        assert error_m.max() < 0.01


def test_exact_inverse_beats_the_one_step_approximation():
    lon, lat = np.array([116.3, 116.5]), np.array([39.9, 40.1])
    g_lon, g_lat = datums.wgs84_to_gcj02(lon, lat)
    dlon, dlat = g_lon - lon, g_lat - lat
    approx_lon = g_lon - (datums.wgs84_to_gcj02(g_lon, g_lat)[0] - g_lon)
    exact_lon, _ = datums.gcj02_to_wgs84(g_lon, g_lat)
    assert np.abs(exact_lon - lon).max() < np.abs(approx_lon - lon).max() / 100
    assert np.abs(dlon).min() > 0.004 and np.abs(dlat).min() > 0.0005  # ~500 m in Beijing


def test_points_outside_china_and_nan_pass_through():
    lon = np.array([2.35, -74.0, np.nan, 116.4])
    lat = np.array([48.85, 40.7, 39.9, 39.9])
    out_lon, out_lat = datums.wgs84_to_gcj02(lon, lat)
    assert out_lon[:2].tolist() == [2.35, -74.0] and out_lat[:2].tolist() == [48.85, 40.7]
    assert np.isnan(out_lon[2])
    assert out_lon[3] != 116.4
    back_lon, _ = datums.gcj02_to_wgs84(out_lon, out_lat)
    assert back_lon[:2].tolist() == [2.35, -74.0]


def test_large_arrays_give_the_same_result_as_small_ones():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(115, 118, 250_000), rng.uniform(39, 41, 250_000)
    big = datums.gcj02_to_wgs84(lon, lat)
    small = datums.gcj02_to_wgs84(lon[-10:], lat[-10:])
    np.testing.assert_array_equal(big[0][-10:], small[0])
    np.testing.assert_array_equal(big[1][-10:], small[1])


def test_convert_accepts_aliases_and_rejects_unknown_datums():
    a = datums.convert(116.4, 39.9, source="WGS84", target="GCJ-02")
    b = datums.wgs84_to_gcj02(116.4, 39.9)
    assert a == b
    with pytest.raises(DatumError, match="'mercator'"):
        datums.convert(116.4, 39.9, source="mercator", target="wgs84")


def test_convert_rejects_mismatched_shapes():
    with pytest.raises(DatumError, match="differ in shape"):
        datums.convert([1.0, 2.0], [1.0], source="wgs84", target="gcj02")


def test_convert_frame_moves_every_vertex_and_keeps_attributes():
    frame = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[shapely.Point(116.4, 39.9), shapely.box(116.3, 39.8, 116.31, 39.81)],
        crs=4326,
    )
    moved = datums.convert_frame(frame, source="wgs84", target="gcj02")
    lon, lat = datums.wgs84_to_gcj02(116.4, 39.9)
    assert moved.geometry.iloc[0].equals_exact(shapely.Point(lon, lat), 1e-12)
    assert moved["name"].tolist() == ["a", "b"]
    back = datums.convert_frame(moved, source="gcj02", target="wgs84")
    assert_geodataframe_equal(back, frame, check_less_precise=True)
    assert frame.geometry.iloc[0].x == 116.4  # the input is untouched


def test_convert_frame_refuses_projected_crs():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(500000, 4400000)], crs=32650)
    with pytest.raises(CRSError, match="EPSG:32650"):
        datums.convert_frame(frame, source="gcj02", target="wgs84")


def test_chunked_conversion_matches_one_chunk_and_keeps_the_shape(monkeypatch):
    # Large arrays are converted in fixed-size chunks (constant temporary memory, linear time):
    # chunk boundaries must not change any point, and an array keeps its shape.
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(115.4, 117.5, (300, 41)), rng.uniform(39.4, 41.1, (300, 41))
    lon[7, 3], lat[8, 4] = np.nan, np.nan
    lon[9, 5] = 2.35  # outside China: passes through
    whole = [datums.gcj02_to_wgs84(lon, lat), datums.wgs84_to_gcj02(lon, lat)]
    monkeypatch.setattr(datums, "CHUNK_POINTS", 1_000)
    chunked = [datums.gcj02_to_wgs84(lon, lat), datums.wgs84_to_gcj02(lon, lat)]
    for (a_lon, a_lat), (b_lon, b_lat) in zip(whole, chunked, strict=True):
        assert b_lon.shape == lon.shape and b_lat.shape == lat.shape
        np.testing.assert_allclose(b_lon, a_lon, rtol=0, atol=1e-11)
        np.testing.assert_allclose(b_lat, a_lat, rtol=0, atol=1e-11)
    back = datums.wgs84_to_gcj02(*chunked[0])
    error_m = np.hypot((back[0] - lon) * 85_000, (back[1] - lat) * 111_000)
    assert np.nanmax(error_m) < 0.001


def test_exact_inverse_does_not_depend_on_the_tabulated_start(monkeypatch):
    # The inverse starts from the inverse of a tabulated offset, then iterates the exact formula:
    # without the tables (plain fixed-point iteration) it lands on the same points.
    rng = np.random.default_rng(9)
    lon, lat = rng.uniform(73.7, 135.0, 50_000), rng.uniform(3.9, 53.5, 50_000)
    g_lon, g_lat = datums.wgs84_to_gcj02(lon, lat)
    tabulated = datums.gcj02_to_wgs84(g_lon, g_lat)
    t_lon, t_lat = datums._gcj02_offset_from_tables(lon, lat)
    e_lon, e_lat = datums._gcj02_offset(lon, lat)
    assert max(np.abs(t_lon - e_lon).max(), np.abs(t_lat - e_lat).max()) < 1e-7
    monkeypatch.setattr(datums, "_TABLE_ITERATIONS", 0)
    plain = datums.gcj02_to_wgs84(g_lon, g_lat)
    for got, truth in ((tabulated, (lon, lat)), (plain, (lon, lat))):  # 1e-8 degree is about 1 mm
        assert max(np.abs(got[0] - truth[0]).max(), np.abs(got[1] - truth[1]).max()) < 1e-8
    np.testing.assert_allclose(tabulated[0], plain[0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(tabulated[1], plain[1], rtol=0, atol=1e-8)
