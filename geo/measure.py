"""Geodesic measurement of areas and lengths, in m2, ha, km2 and mu.

Areas are computed in an Albers equal-area projection of the WGS84 ellipsoid centred on the
geometry's own extent, so a square metre is a square metre wherever the geometry lies; lengths
are geodesic (``pyproj.Geod``). Nothing is ever measured in degrees: geometries without a CRS,
or whose coordinates contradict their CRS, are refused with a message that says how to fix them.
Invalid geometries (self-intersections, bow-ties) are repaired with ``shapely.make_valid``
before measuring, and the repair is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Geod, Transformer

from geo.errors import CRSError, MeasurementError
from geo.projection import equal_area

AreaUnit = Literal["m2", "ha", "km2", "mu"]
AREA_UNITS: tuple[str, ...] = get_args(AreaUnit)

M2_PER_MU = 10000.0 / 15.0
M2_PER_UNIT: dict[str, float] = {"m2": 1.0, "ha": 10_000.0, "km2": 1_000_000.0, "mu": M2_PER_MU}

_GEOD = Geod(ellps="WGS84")
WGS84 = CRS.from_epsg(4326)


@dataclass(frozen=True)
class RepairReport:
    """What ``repair_geometries`` changed: positions of repaired and of empty geometries."""

    repaired: tuple[int, ...]
    empty: tuple[int, ...]
    reasons: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.repaired or self.empty)

    def message(self) -> str:
        """A sentence for the user, empty when nothing was changed."""
        parts = []
        if self.repaired:
            parts.append(
                f"repaired {len(self.repaired)} invalid geometr{'y' if len(self.repaired) == 1 else 'ies'}"
                f" at row(s) {_rows(self.repaired)} ({'; '.join(sorted(set(self.reasons)))})"
            )
        if self.empty:
            parts.append(f"{len(self.empty)} empty geometr{'y' if len(self.empty) == 1 else 'ies'}"
                         f" at row(s) {_rows(self.empty)}")
        return "; ".join(parts)


def _rows(positions: tuple[int, ...], limit: int = 10) -> str:
    shown = ", ".join(str(p) for p in positions[:limit])
    return shown + (f" and {len(positions) - limit} more" if len(positions) > limit else "")


def convert_area(value_m2: float | NDArray[np.float64], unit: str) -> float | NDArray[np.float64]:
    """Convert an area from square metres to ``unit`` (``m2``, ``ha``, ``km2`` or ``mu``).

    Raises
    ------
    MeasurementError
        If the unit is unknown.
    """
    if unit not in M2_PER_UNIT:
        raise MeasurementError(f"unknown area unit {unit!r}: use one of {', '.join(AREA_UNITS)}")
    return value_m2 / M2_PER_UNIT[unit]


def repair_geometries(geometries: NDArray[np.object_] | gpd.GeoSeries
                      ) -> tuple[NDArray[np.object_], RepairReport]:
    """Return valid versions of the geometries and a report of what was repaired.

    Polygons that ``make_valid`` would turn into mixed collections keep only their polygonal
    parts, so a repaired parcel is still a (multi)polygon.
    """
    geoms = np.asarray(geometries, dtype=object)
    missing = np.array([g is None for g in geoms], dtype=bool)
    geoms = np.where(missing, shapely.Polygon(), geoms)
    # GEOS cannot test or repair a geometry with a NaN or Infinity coordinate (it raises): such a
    # geometry is reported as empty (unusable), never passed on.
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    broken = np.bincount(owner, weights=(~np.isfinite(coords).all(axis=1)).astype(float), minlength=len(geoms)) > 0
    if broken.any():
        geoms = geoms.copy()
        geoms[broken] = shapely.Polygon()
        missing = missing | broken
    invalid = ~shapely.is_valid(geoms)
    reasons = tuple(shapely.is_valid_reason(geoms[invalid]).tolist())
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        was_polygonal = np.isin(shapely.get_type_id(geoms[invalid]), [3, 6])
        polygonal_parts = _polygonal_part(fixed)
        geoms = geoms.copy()
        geoms[invalid] = np.where(was_polygonal, polygonal_parts, fixed)
    empty = shapely.is_empty(geoms) | missing
    return geoms, RepairReport(
        repaired=tuple(np.flatnonzero(invalid).tolist()),
        empty=tuple(np.flatnonzero(empty).tolist()),
        reasons=reasons,
    )


def _polygonal_part(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Keep only polygons out of geometry collections produced by make_valid."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = np.isin(shapely.get_type_id(parts), [3, 6])
    out = np.array([shapely.MultiPolygon()] * len(geoms), dtype=object)
    if keep.any():
        kept_index = index[keep]
        kept_parts = parts[keep]
        for position in np.unique(kept_index):
            out[position] = shapely.union_all(kept_parts[kept_index == position])
    type_ids = shapely.get_type_id(geoms)
    already = np.isin(type_ids, [3, 6])
    out[already] = geoms[already]
    return out


def _check_crs_matches_coordinates(geoms: NDArray[np.object_], crs: CRS) -> None:
    bounds = shapely.total_bounds(geoms)
    if np.isnan(bounds).any():
        return
    min_x, min_y, max_x, max_y = bounds
    looks_like_degrees = min_x >= -180 and max_x <= 180 and min_y >= -90 and max_y <= 90
    if crs.is_geographic and not looks_like_degrees:
        raise MeasurementError(
            f"the CRS {crs.name!r} is in degrees, but the coordinates reach "
            f"({min_x:.1f}, {min_y:.1f})-({max_x:.1f}, {max_y:.1f}), which look like metres:"
            " set the projected CRS the data really is in (for example EPSG:4547-4549 for "
            "CGCS2000 Gauss-Kruger zones) before measuring"
        )
    if crs.is_projected and looks_like_degrees and max(abs(max_x - min_x), abs(max_y - min_y)) < 10:
        raise MeasurementError(
            f"the CRS {crs.name!r} is in metres, but the coordinates span "
            f"({min_x:.5f}, {min_y:.5f})-({max_x:.5f}, {max_y:.5f}), which look like degrees:"
            " measuring them would give areas of a fraction of a square metre. Set EPSG:4326"
            " (or the datum the coordinates are in) instead"
        )


def _resolve_crs(crs: object) -> CRS:
    if crs is None:
        raise MeasurementError(
            "the geometries have no CRS, so their units are unknown and an area would be"
            " measured in degrees: pass crs='EPSG:4326' for longitude/latitude, or the"
            " projected CRS the coordinates are in"
        )
    try:
        return CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises CRSError, but user input may be any object
        raise CRSError(f"cannot read the CRS {crs!r}: {exc}") from exc


def _to_lonlat(geoms: NDArray[np.object_], crs: CRS) -> NDArray[np.object_]:
    if crs.is_geographic and crs.equals(WGS84, ignore_axis_order=True):
        return geoms
    transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _prepared(geometries: gpd.GeoSeries | gpd.GeoDataFrame | NDArray[np.object_],
              crs: object | None) -> tuple[NDArray[np.object_], RepairReport]:
    if isinstance(geometries, gpd.GeoDataFrame):
        geometries = geometries.geometry
    if isinstance(geometries, gpd.GeoSeries):
        source_crs = crs if crs is not None else geometries.crs
        geoms = np.asarray(geometries.values, dtype=object)
    else:
        source_crs = crs
        geoms = np.asarray(geometries, dtype=object)
    resolved = _resolve_crs(source_crs)
    geoms, report = repair_geometries(geoms)
    _check_crs_matches_coordinates(geoms, resolved)
    return _to_lonlat(geoms, resolved), report


def areas(geometries: gpd.GeoSeries | gpd.GeoDataFrame | NDArray[np.object_], *,
          unit: AreaUnit = "m2", crs: object | None = None) -> pd.Series:
    """Return the true (equal-area) area of each geometry.

    Parameters
    ----------
    geometries : GeoSeries, GeoDataFrame or array of shapely geometries
        Geometries with a CRS (taken from the GeoSeries, or given as ``crs``).
    unit : {"m2", "ha", "km2", "mu"}
        Unit of the result; 1 mu = 10000/15 m2.
    crs : optional
        CRS of the geometries when they do not carry one.

    Returns
    -------
    pandas.Series
        One area per geometry, 0 for empty ones; the repair report is in ``.attrs["repairs"]``.

    Raises
    ------
    MeasurementError
        If the CRS is missing or contradicts the coordinates, or the unit is unknown.
    """
    convert_area(1.0, unit)
    index = geometries.index if isinstance(geometries, (gpd.GeoSeries, gpd.GeoDataFrame)) else None
    lonlat, report = _prepared(geometries, crs)
    result = np.zeros(len(lonlat), dtype=np.float64)
    non_empty = ~shapely.is_empty(lonlat)
    if non_empty.any():
        projected = project_equal_area(lonlat[non_empty])
        result[non_empty] = shapely.area(projected)
    series = pd.Series(convert_area(result, unit), index=index, name=f"area_{unit}")
    series.attrs["repairs"] = report
    return series


def project_equal_area(lonlat: NDArray[np.object_]) -> NDArray[np.object_]:
    """Valid, non-empty longitude/latitude geometries in the equal-area plane fitted to their
    extent (``geo.projection.equal_area``): planar areas there are true areas in m2, so areas of
    intersections and unions can be computed with plain shapely operations."""
    return equal_area(lonlat).to_metres(lonlat)


def area(geometry: shapely.Geometry, *, unit: AreaUnit = "m2", crs: object = "EPSG:4326") -> float:
    """Return the area of one geometry (longitude/latitude by default) in ``unit``."""
    return float(areas(np.array([geometry], dtype=object), unit=unit, crs=crs).iloc[0])


def lengths(geometries: gpd.GeoSeries | gpd.GeoDataFrame | NDArray[np.object_], *,
            crs: object | None = None) -> pd.Series:
    """Return the geodesic length in metres of each geometry (perimeter for polygons)."""
    index = geometries.index if isinstance(geometries, (gpd.GeoSeries, gpd.GeoDataFrame)) else None
    lonlat, _ = _prepared(geometries, crs)
    lines = shapely.boundary(lonlat)
    lines = np.where(np.isin(shapely.get_type_id(lonlat), [1, 5]), lonlat, lines)
    parts, owner = shapely.get_parts(lines, return_index=True)
    out = np.zeros(len(lonlat), dtype=np.float64)
    if len(parts):
        coords, part_of_coord = shapely.get_coordinates(parts, return_index=True)
        same_part = part_of_coord[1:] == part_of_coord[:-1]
        _, _, seg = _GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
        seg = np.where(same_part, seg, 0.0)
        per_part = np.bincount(part_of_coord[:-1], weights=seg, minlength=len(parts))
        out = np.bincount(owner, weights=per_part, minlength=len(lonlat))
    return pd.Series(out, index=index, name="length_m")


def geodesic_area(geometry: shapely.Geometry) -> float:
    """Return the ellipsoidal geodesic area (m2) of a longitude/latitude geometry.

    Slower than ``areas`` (one geometry at a time); used to cross-check it.
    """
    value, _ = _GEOD.geometry_area_perimeter(geometry)
    return abs(value)


def has_extent(frame: gpd.GeoDataFrame) -> bool:
    """Whether any feature is more than a point (a line or a polygon): what ``measure_features``
    gives a non-zero area or length."""
    return bool(len(frame)) and not bool((shapely.get_type_id(np.asarray(frame.geometry.values, dtype=object)) == 0).all())


def measure_features(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Area (m2, ha, mu) of polygons and geodesic length (m) of lines, per feature.

    Points get 0 for both; polygons get their perimeter as length. Indexed like ``frame``.
    """
    area_m2 = areas(frame, unit="m2").to_numpy()
    types = shapely.get_type_id(np.asarray(frame.geometry.values, dtype=object))
    polygonal = np.isin(types, [3, 6])
    linear = np.isin(types, [1, 5])
    length_m = np.zeros(len(frame))
    if (polygonal | linear).any():
        length_m = np.where(polygonal | linear, lengths(frame).to_numpy(), 0.0)
    area_m2 = np.where(polygonal | (types == 7), area_m2, 0.0)
    return pd.DataFrame({"area_m2": area_m2, "area_ha": convert_area(area_m2, "ha"),
                         "area_mu": convert_area(area_m2, "mu"), "length_m": length_m}, index=frame.index)
