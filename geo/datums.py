"""Chinese map datums: WGS84, GCJ-02 ("Mars coordinates") and BD-09, on whole arrays.

GCJ-02 is the obfuscated datum required for maps published in mainland China (Amap/Gaode,
Tencent); BD-09 is Baidu's further offset of it. Both are closed-form functions of WGS84
(forward). Their inverses have no closed form, so they are solved here by fixed-point
iteration to below a millimetre, instead of the common one-step approximation that is
off by up to a few metres.

Points outside the mainland bounding box that the published algorithm uses are passed
through unchanged, as every GCJ-02 implementation does. NaN coordinates stay NaN.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Literal, get_args
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.errors import CRSError, DatumError

Datum = Literal["wgs84", "gcj02", "bd09"]
DATUMS: tuple[str, ...] = get_args(Datum)

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0

# The inverses iterate x <- x + (target - forward(x)). The offsets' Jacobian is below 0.01 in
# norm over the whole box, so once a correction is under 1e-6 deg (about 0.1 m) the error left
# after applying it is under 1e-8 deg (about 1 mm). Stopping on the correction, not on a fresh
# residual, saves one full forward evaluation per call.
_INVERSE_TOLERANCE_DEG = 1e-6
_INVERSE_MAX_ITERATIONS = 12

FloatArray = NDArray[np.float64]
Transform = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]]

# Large arrays are converted in fixed-size chunks: the dozens of temporaries each chunk needs stay
# in the CPU cache and their memory stays constant, so the time and memory grow linearly with the
# number of points (on whole 5 M-point arrays the temporaries alone took about 1 GB). numpy's ufuncs
# release the GIL, so the chunks run in threads on every core.
CHUNK_POINTS = 32_768


@lru_cache(maxsize=1)
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="datums")


# A forked child has none of the parent's threads: it starts its own pool.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_executor.cache_clear)


def for_each_chunk(size: int, work: Callable[[slice], object], *, chunk: int | None = None,
                   parallel: bool = True) -> None:
    """Call ``work`` on consecutive slices of ``range(size)`` of ``chunk`` items (``CHUNK_POINTS``
    by default), in parallel threads if ``parallel`` and there are several cores: for whole-array
    numpy work that releases the GIL and writes its own part of the output."""
    step = chunk or CHUNK_POINTS
    parts = [slice(start, min(start + step, size)) for start in range(0, size, step)]
    if parallel and len(parts) > 1 and (os.cpu_count() or 1) > 1:
        for _ in _executor().map(work, parts):
            pass
    else:
        for part in parts:
            work(part)


def _chunked(transform: Transform) -> Transform:
    """Run a point-wise transform on fixed-size chunks of an array, in parallel threads.

    The result has the input's shape; every point is computed exactly as it would be alone
    (the transforms are point-wise), only the inverses' stopping test is per chunk.
    """

    def run(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
        if lon.size <= CHUNK_POINTS:
            return transform(lon, lat)
        flat_lon, flat_lat = lon.reshape(-1), lat.reshape(-1)
        out_lon, out_lat = np.empty_like(flat_lon), np.empty_like(flat_lat)

        def one(part: slice) -> None:
            out_lon[part], out_lat[part] = transform(flat_lon[part], flat_lat[part])

        for_each_chunk(flat_lon.size, one)
        return out_lon.reshape(lon.shape), out_lat.reshape(lat.shape)

    run.__doc__ = transform.__doc__
    return run


def _check_datum(name: str) -> Datum:
    key = str(name).lower().replace("-", "").replace("_", "")
    aliases = {"wgs84": "wgs84", "epsg4326": "wgs84", "gcj02": "gcj02", "gcj": "gcj02",
               "mars": "gcj02", "bd09": "bd09", "baidu": "bd09", "bd09ll": "bd09"}
    if key not in aliases:
        raise DatumError(f"unknown datum {name!r}: use one of {', '.join(DATUMS)}")
    return aliases[key]  # type: ignore[return-value]


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return True where a point lies in the box the GCJ-02 algorithm offsets.

    Parameters
    ----------
    lon, lat : array_like
        Longitudes and latitudes in degrees.

    Returns
    -------
    numpy.ndarray of bool
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    return (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)


def _triple_angle_sin(s: FloatArray) -> FloatArray:
    """sin(3a) from sin(a): saves a transcendental call on a million-point array."""
    return s * (3.0 - 4.0 * s * s)


def _x_terms(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The parts of the GCJ-02 offset (before scaling) that depend on x = lon - 105 only."""
    sqrt_abs_x = np.sqrt(np.abs(x))
    sin_2pi_x = np.sin((2.0 * np.pi) * x)
    sin_pi_x_3 = np.sin((np.pi / 3.0) * x)
    shared = (20.0 * _triple_angle_sin(sin_2pi_x) + 20.0 * sin_2pi_x) * (2.0 / 3.0)
    lat_part = 2.0 * x + 0.2 * sqrt_abs_x + shared
    lon_part = 300.0 + x + 0.1 * x * x + 0.1 * sqrt_abs_x + shared
    lon_part += (20.0 * _triple_angle_sin(sin_pi_x_3) + 40.0 * sin_pi_x_3) * (2.0 / 3.0)
    lon_part += (150.0 * np.sin((np.pi / 12.0) * x) + 300.0 * np.sin((np.pi / 30.0) * x)) * (2.0 / 3.0)
    return lat_part, lon_part


def _y_terms(y: FloatArray) -> FloatArray:
    """The part of the GCJ-02 latitude offset (before scaling) that depends on y = lat - 35 only."""
    sin_pi_y_3 = np.sin((np.pi / 3.0) * y)
    part = -100.0 + 3.0 * y + 0.2 * y * y
    part += (20.0 * _triple_angle_sin(sin_pi_y_3) + 40.0 * sin_pi_y_3) * (2.0 / 3.0)
    part += (160.0 * np.sin((np.pi / 12.0) * y) + 320.0 * np.sin((np.pi / 30.0) * y)) * (2.0 / 3.0)
    return part


def _scales(lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Degrees per unit of the offset's latitude and longitude parts at latitude ``lat``."""
    sin_lat = np.sin(lat * (np.pi / 180.0))
    magic = 1.0 - _EE * sin_lat * sin_lat
    sqrt_magic = np.sqrt(magic)
    # The box the offset applies to lies between 3.86 and 53.55 degrees north: cos(lat) > 0.
    cos_lat = np.sqrt(1.0 - sin_lat * sin_lat)
    return ((magic * sqrt_magic) * (180.0 / (_A * (1.0 - _EE) * np.pi)),
            sqrt_magic * (180.0 / (_A * np.pi)) / cos_lat)


def _gcj02_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS84 points.

    The published formula is a sum of terms in x = lon - 105 alone, in y = lat - 35 alone and
    0.1 x y, scaled by functions of the latitude; it is computed here in those groups.
    """
    x = lon - 105.0
    y = lat - 35.0
    lat_x, lon_x = _x_terms(x)
    xy = 0.1 * x * y
    scale_lat, scale_lon = _scales(lat)
    return (lon_x + 2.0 * y + xy) * scale_lon, (lat_x + _y_terms(y) + xy) * scale_lat


# The exact inverse first solves the inverse with the offset's one-variable parts read from
# tables (linear interpolation, step 1/512 degree: under 1e-7 degree, about 1 cm, off), which
# costs a fraction of the trigonometry; one evaluation of the exact formula from there then
# lands within 1e-9 degree (the offset's Jacobian is below 0.01), and the exact iteration goes on
# until its correction is below the tolerance, as without tables.
_TABLE_STEP = 1.0 / 512.0
_TABLE_LON = (73.0, 136.0)
_TABLE_LAT = (3.0, 55.0)
_TABLE_ITERATIONS = 3


@lru_cache(maxsize=1)
def _offset_tables() -> dict[str, FloatArray]:
    """Values and slopes of the offset's one-variable parts on a grid over the box (about 2 MB)."""
    lon = np.arange(_TABLE_LON[0], _TABLE_LON[1] + _TABLE_STEP, _TABLE_STEP)
    lat = np.arange(_TABLE_LAT[0], _TABLE_LAT[1] + _TABLE_STEP, _TABLE_STEP)
    lat_x, lon_x = _x_terms(lon - 105.0)
    scale_lat, scale_lon = _scales(lat)
    values = {"lat_x": lat_x, "lon_x": lon_x, "y": _y_terms(lat - 35.0), "scale_lat": scale_lat,
              "scale_lon": scale_lon}
    tables = {}
    for name, value in values.items():
        tables[name] = value
        tables[name + "_slope"] = np.append(np.diff(value), 0.0)
    return tables


def _interpolate(tables: dict[str, FloatArray], names: tuple[str, ...], value: FloatArray, start: float
                 ) -> list[FloatArray]:
    position = (value - start) * (1.0 / _TABLE_STEP)
    index = np.clip(position.astype(np.intp), 0, len(tables[names[0]]) - 2)
    fraction = position - index
    return [np.take(tables[name], index) + fraction * np.take(tables[name + "_slope"], index) for name in names]


def _gcj02_offset_from_tables(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 offset with its one-variable parts interpolated (about 1e-7 degree off)."""
    tables = _offset_tables()
    lat_x, lon_x = _interpolate(tables, ("lat_x", "lon_x"), lon, _TABLE_LON[0])
    y_part, scale_lat, scale_lon = _interpolate(tables, ("y", "scale_lat", "scale_lon"), lat, _TABLE_LAT[0])
    x = lon - 105.0
    y = lat - 35.0
    xy = 0.1 * x * y
    return (lon_x + 2.0 * y + xy) * scale_lon, (lat_x + y_part + xy) * scale_lat


def _as_float_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    if lon_arr.shape != lat_arr.shape:
        raise DatumError(
            f"longitude and latitude arrays differ in shape: {lon_arr.shape} vs {lat_arr.shape}"
        )
    return lon_arr, lat_arr


def _wgs84_to_gcj02_serial(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    inside = in_china(lon, lat)
    if inside.all():
        dlon, dlat = _gcj02_offset(lon, lat)
        return lon + dlon, lat + dlat
    dlon, dlat = _gcj02_offset(lon[inside], lat[inside])
    lon = lon.copy()
    lat = lat.copy()
    lon[inside] += dlon
    lat[inside] += dlat
    return lon, lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 longitudes and latitudes to GCJ-02.

    Parameters
    ----------
    lon, lat : array_like
        WGS84 coordinates in degrees; scalars or arrays of one shape.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitudes and latitudes. Points outside China are returned unchanged.
    """
    return _chunked(_wgs84_to_gcj02_serial)(*_as_float_arrays(lon, lat))


def _invert(forward: Transform, target_lon: FloatArray, target_lat: FloatArray,
            first_lon: FloatArray, first_lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Solve forward(lon, lat) == target by fixed-point iteration from a first guess."""
    lon, lat = first_lon, first_lat
    for _ in range(_INVERSE_MAX_ITERATIONS):
        got_lon, got_lat = forward(lon, lat)
        err_lon = target_lon - got_lon
        err_lat = target_lat - got_lat
        lon = lon + err_lon
        lat = lat + err_lat
        worst = max(float(np.nanmax(np.abs(err_lon), initial=0.0)),
                    float(np.nanmax(np.abs(err_lat), initial=0.0)))
        if worst < _INVERSE_TOLERANCE_DEG:
            break
    return lon, lat


def _gcj02_forward_inside(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj02_to_wgs84_serial(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    inside = in_china(lon, lat)
    all_inside = bool(inside.all())
    g_lon, g_lat = (lon, lat) if all_inside else (lon[inside], lat[inside])
    w_lon, w_lat = g_lon, g_lat
    for _ in range(_TABLE_ITERATIONS):  # the inverse of the tabulated offset: a starting point
        dlon, dlat = _gcj02_offset_from_tables(w_lon, w_lat)
        w_lon, w_lat = g_lon - dlon, g_lat - dlat
    w_lon, w_lat = _invert(_gcj02_forward_inside, g_lon, g_lat, w_lon, w_lat)
    if all_inside:
        return w_lon, w_lat
    lon, lat = lon.copy(), lat.copy()
    lon[inside] = w_lon
    lat[inside] = w_lat
    return lon, lat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 coordinates to WGS84 exactly (iterative inverse, error < 1 mm).

    Parameters
    ----------
    lon, lat : array_like
        GCJ-02 coordinates in degrees.

    Returns
    -------
    tuple of numpy.ndarray
        WGS84 longitudes and latitudes. Points outside China are returned unchanged.
    """
    return _chunked(_gcj02_to_wgs84_serial)(*_as_float_arrays(lon, lat))


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 coordinates to Baidu BD-09 (applied everywhere, as Baidu does)."""
    x, y = _as_float_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert Baidu BD-09 coordinates to GCJ-02 exactly (iterative inverse)."""
    b_lon, b_lat = _as_float_arrays(lon, lat)
    x = b_lon - 0.0065
    y = b_lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return _invert(gcj02_to_bd09, b_lon, b_lat, z * np.cos(theta), z * np.sin(theta))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 coordinates to Baidu BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert Baidu BD-09 coordinates to WGS84 exactly."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84 = {"wgs84": None, "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84 = {"wgs84": None, "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def convert(lon: ArrayLike, lat: ArrayLike, *, source: str, target: str
            ) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates between any two of ``wgs84``, ``gcj02`` and ``bd09``.

    Parameters
    ----------
    lon, lat : array_like
        Coordinates in degrees.
    source, target : str
        Datum names (``wgs84``, ``gcj02``, ``bd09``; ``gcj-02``, ``bd-09`` also accepted).

    Returns
    -------
    tuple of numpy.ndarray

    Raises
    ------
    DatumError
        If a datum name is unknown.
    """
    src, dst = _check_datum(source), _check_datum(target)
    lon_arr, lat_arr = _as_float_arrays(lon, lat)
    if src == dst:
        return lon_arr, lat_arr
    if src == "gcj02" and dst == "bd09":
        return gcj02_to_bd09(lon_arr, lat_arr)
    if src == "bd09" and dst == "gcj02":
        return bd09_to_gcj02(lon_arr, lat_arr)
    to_wgs, from_wgs = _TO_WGS84[src], _FROM_WGS84[dst]
    if to_wgs is not None:
        lon_arr, lat_arr = to_wgs(lon_arr, lat_arr)
    if from_wgs is not None:
        lon_arr, lat_arr = from_wgs(lon_arr, lat_arr)
    return lon_arr, lat_arr


def convert_geometries(geometries: ArrayLike, *, source: str, target: str) -> NDArray[np.object_]:
    """Convert every vertex of an array of shapely geometries between datums.

    One call converts all vertices of all geometries at once (``shapely.transform``).
    """
    src, dst = _check_datum(source), _check_datum(target)
    geoms = np.asarray(geometries, dtype=object)
    if src == dst:
        return geoms.copy()

    def _apply(coords: FloatArray) -> FloatArray:
        lon, lat = convert(coords[:, 0], coords[:, 1], source=src, target=dst)
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, _apply)


def convert_frame(frame: gpd.GeoDataFrame | gpd.GeoSeries, *, source: str, target: str
                  ) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """Return a copy of a GeoDataFrame or GeoSeries with its geometry moved between datums.

    The frame must be in geographic longitude/latitude (EPSG:4326 or no CRS); GCJ-02 and BD-09
    have no EPSG code, so the CRS stays EPSG:4326 and the datum is a label the caller keeps.

    Raises
    ------
    CRSError
        If the frame has a projected CRS.
    """
    crs = frame.crs
    if crs is not None and not crs.is_geographic:
        raise CRSError(
            f"datum conversion needs longitude/latitude, but the frame is in {crs.to_string()!r}:"
            " reproject it to EPSG:4326 first"
        )
    out = frame.copy()
    converted = convert_geometries(np.asarray(frame.geometry.values), source=source, target=target)
    if isinstance(out, gpd.GeoDataFrame):
        out[out.geometry.name] = gpd.GeoSeries(converted, index=frame.index, crs=crs)
        return out
    return gpd.GeoSeries(converted, index=frame.index, crs=crs, name=frame.name)
