"""Metres and back: the one way the geo core goes from longitude/latitude to a plane and back.

Each job has one projection, chosen here and nowhere else:

=====================================================  ===========================================
job                                                    projection
=====================================================  ===========================================
distances, buffers, nearest neighbours in metres      ``local_metric``: transverse Mercator on the
(OSM matching and context, street networks,            WGS84 ellipsoid centred on the data (k0 = 1).
isochrones)                                            Conformal, so a buffer stays round; scale
                                                       error below 0.01 % within 90 km of the
                                                       centre (Beijing is 180 km across).
areas, and shapes built to an official area            ``equal_area``: Albers equal-area fitted to
(``geo.measure``, nominal circles, scaled outlines)    the data's extent: planar areas *are*
                                                       ellipsoidal areas, so intersections and unions
                                                       are measured with plain shapely. Around a
                                                       single point (a circle of an official area):
                                                       Lambert azimuthal equal-area centred there,
                                                       undistorted at its centre, so the circle is
                                                       round.
a fixed plane: grid cells that must line up across     ``beijing_utm``: UTM zone 50N (EPSG:32650),
layers, maps drawn on paper (the park brief), the      whatever the data (0.04 % scale error in
snapshot's simplified district outlines (its bytes     Beijing: drawing, not measuring).
must not depend on anything but the inputs)
distances between two points                           geodesic (``geodesic_m``, pyproj.Geod), no
                                                       projection at all.
=====================================================  ===========================================

Nothing is ever measured in degrees.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Geod, Transformer

WGS84 = CRS.from_epsg(4326)
BEIJING_UTM = "EPSG:32650"  # UTM zone 50N (114-120 E): Beijing's fixed plane
BEIJING_CENTRE: tuple[float, float] = (116.4, 39.9)  # the centre used when there is no data
_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class MetricProjection:
    """A plane in metres and the way there and back (``always_xy``: longitude first)."""

    crs: CRS
    forward: Transformer
    inverse: Transformer

    def to_metres(self, geoms: ArrayLike) -> NDArray[np.object_]:
        """Longitude/latitude geometries (array or one geometry) in this plane, as an array."""
        return _transform(np.atleast_1d(np.asarray(geoms, dtype=object)), self.forward)

    def to_lonlat(self, geoms: ArrayLike) -> NDArray[np.object_]:
        """Geometries of this plane back in longitude/latitude (WGS84), as an array."""
        return _transform(np.atleast_1d(np.asarray(geoms, dtype=object)), self.inverse)

    def xy(self, lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Coordinates of points in this plane (metres)."""
        x, y = self.forward.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def lonlat(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Longitude and latitude of points given in this plane."""
        lon, lat = self.inverse.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _transform(geoms: NDArray[np.object_], transformer: Transformer) -> NDArray[np.object_]:
    return shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


@functools.lru_cache(maxsize=64)
def _projection(definition: str) -> MetricProjection:
    crs = CRS.from_user_input(definition)
    return MetricProjection(crs=crs, forward=_portable(Transformer.from_crs(WGS84, crs, always_xy=True)),
                            inverse=_portable(Transformer.from_crs(crs, WGS84, always_xy=True)))


def _portable(transformer: Transformer) -> Transformer:
    """The same transformation as its PROJ pipeline. pyproj makes a transformer again in each
    thread that uses it; made from CRSs, that repeats PROJ's search of its database (~60 ms,
    paid on every Streamlit rerun, each in a thread of its own); from its pipeline, ~1 ms.
    The coordinates are the same to the last bit (tests/test_projection.py)."""
    return Transformer.from_pipeline(transformer.definition)


def _bounds(data: object) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of geometries, or of a bounds sequence as given."""
    if isinstance(data, shapely.Geometry):
        values = np.asarray(shapely.total_bounds(np.array([data], dtype=object)), dtype=np.float64)
    else:
        array = np.asarray(getattr(data, "values", data))
        if array.dtype != object and array.shape == (4,):
            values = array.astype(np.float64)
        else:
            values = np.asarray(shapely.total_bounds(array.astype(object)), dtype=np.float64)
    min_x, min_y, max_x, max_y = (float(v) for v in values)
    return min_x, min_y, max_x, max_y


def _centre(bounds: tuple[float, float, float, float]) -> tuple[float, float]:
    min_x, min_y, max_x, max_y = bounds
    if not all(np.isfinite(bounds)):
        return BEIJING_CENTRE
    return (min_x + max_x) / 2.0, (min_y + max_y) / 2.0


def local_metric(data: object | Sequence[float]) -> MetricProjection:
    """The plane for distances and buffers: transverse Mercator centred on ``data``.

    Parameters
    ----------
    data : shapely geometry, array of geometries, GeoSeries, or (min lon, min lat, max lon, max lat)
        What will be measured; the plane is centred on its bounding box (on central Beijing
        when it is empty).
    """
    lon_0, lat_0 = _centre(_bounds(data))
    return _projection(f"+proj=tmerc +lat_0={lat_0:.6f} +lon_0={lon_0:.6f} +k=1 +ellps=WGS84 "
                       "+units=m +no_defs")


def equal_area(data: object | Sequence[float]) -> MetricProjection:
    """The plane for areas: Albers equal-area (WGS84 ellipsoid) fitted to the extent of ``data``.

    The standard parallels sit a quarter of the latitude span (at least 0.5 degree) either side
    of the centre, so the shapes are also nearly undistorted. For a single point (a zero extent)
    the plane is Lambert azimuthal equal-area centred on it: equal-area and free of distortion
    at the point, so a circle of a given area built there is round.
    """
    min_lon, min_lat, max_lon, max_lat = _bounds(data)
    lon_0, lat_0 = _centre((min_lon, min_lat, max_lon, max_lat))
    if min_lon == max_lon and min_lat == max_lat:
        return _projection(f"+proj=laea +lat_0={lat_0:.6f} +lon_0={lon_0:.6f} +ellps=WGS84 +units=m +no_defs")
    span = max(max_lat - min_lat, 0.5) if np.isfinite(max_lat - min_lat) else 0.5
    lat_1 = max(min(lat_0 - span / 4.0, 89.0), -89.0)
    lat_2 = max(min(lat_0 + span / 4.0, 89.0), -89.0)
    return _projection(f"+proj=aea +lat_0={lat_0:.6f} +lon_0={lon_0:.6f} +lat_1={lat_1:.6f} "
                       f"+lat_2={lat_2:.6f} +ellps=WGS84 +units=m +no_defs")


def beijing_utm() -> MetricProjection:
    """The fixed plane (UTM 50N) for grid cells and drawn maps: the same coordinates for any data."""
    return _projection(BEIJING_UTM)


def geodesic_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> NDArray[np.float64]:
    """Geodesic distances (m, WGS84 ellipsoid) between paired points, vectorised."""
    _, _, distance = _GEOD.inv(np.asarray(lon1, dtype=np.float64), np.asarray(lat1, dtype=np.float64),
                               np.asarray(lon2, dtype=np.float64), np.asarray(lat2, dtype=np.float64))
    return np.asarray(distance, dtype=np.float64)
