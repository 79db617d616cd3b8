"""Constructing park geometry from what is known: outlines and official areas.

A park with no surveyed boundary gets either an ``approximate`` outline (vertices digitised from
its boundary description, scaled to the official area) or a ``nominal`` extent: a circle of the
official area around a sourced anchor point. Both keep their official area within 5 %; neither
is ever labelled a survey.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

from geo.errors import MeasurementError
from geo.measure import area
from geo.projection import equal_area

_NOMINAL_VERTICES = 72


def is_drawn(geometries: object) -> NDArray[np.bool_]:
    """Which geometries can be drawn and measured: present and not empty. A park of tier
    'unlocated' has none; everything that skips such parks asks this one question."""
    geoms = np.asarray(getattr(geometries, "values", geometries), dtype=object)
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


def feature_points(geometries: object) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(lon, lat) of every feature: a point is itself, any other geometry counts at a point
    guaranteed to lie on it (``shapely.point_on_surface``). Whole array; no CRS check (the
    callers say what CRS they need)."""
    geoms = np.asarray(getattr(geometries, "values", geometries), dtype=object)
    not_points = shapely.get_type_id(geoms) != 0
    if not_points.any():
        geoms = np.where(not_points, shapely.point_on_surface(geoms), geoms)
    return shapely.get_x(geoms).astype(np.float64), shapely.get_y(geoms).astype(np.float64)


def nominal_extent(lon: float, lat: float, *, area_m2: float) -> shapely.Polygon:
    """A circle of ``area_m2`` centred at (lon, lat), built in the equal-area plane centred there
    (``geo.projection.equal_area``).

    Raises
    ------
    MeasurementError
        If the area is not a positive number.
    """
    if not np.isfinite(area_m2) or area_m2 <= 0:
        raise MeasurementError(f"a nominal extent needs a positive area, got {area_m2!r} m2")
    plane = equal_area((lon, lat, lon, lat))
    radius = float(np.sqrt(area_m2 / np.pi))
    # A regular polygon inscribed in the circle loses area; widen it so the polygon's area is exact.
    n = _NOMINAL_VERTICES
    radius *= float(np.sqrt(np.pi / (0.5 * n * np.sin(2.0 * np.pi / n))))
    angles = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    x, y = radius * np.cos(angles), radius * np.sin(angles)
    lons, lats = plane.lonlat(x, y)
    return shapely.orient_polygons(shapely.Polygon(np.column_stack([lons, lats])), exterior_cw=False)


def scaled_outline(vertices_lonlat: list[list[float]], *, area_m2: float | None = None
                   ) -> shapely.Polygon:
    """A polygon from digitised vertices, optionally scaled about its centroid to ``area_m2``.

    Scaling keeps the shape drawn from the description while making the area agree with the
    official figure; without ``area_m2`` the outline is returned as digitised (repaired if needed).
    """
    polygon = shapely.make_valid(shapely.Polygon(vertices_lonlat))
    if polygon.geom_type != "Polygon" or polygon.is_empty:
        raise MeasurementError(
            f"the outline's {len(vertices_lonlat)} vertices do not make one polygon "
            f"(got {polygon.geom_type}): check the vertex order"
        )
    if area_m2 is None:
        return polygon
    centre = polygon.centroid
    plane = equal_area((centre.x, centre.y, centre.x, centre.y))
    local = plane.to_metres(polygon)[0]
    factor = float(np.sqrt(area_m2 / local.area))
    local = shapely.transform(local, lambda xy: xy * factor)
    result = plane.to_lonlat(local)[0]
    measured = area(result)
    if abs(measured - area_m2) / area_m2 > 0.01:
        raise MeasurementError(f"scaled outline measures {measured:.0f} m2, wanted {area_m2:.0f} m2")
    return shapely.orient_polygons(result, exterior_cw=False)
