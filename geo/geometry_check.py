"""What is wrong with a geometry's coordinates, said in words a user can act on.

One diagnosis for every door through which geometries enter: the importer (rows it cannot use),
the planner (parcels drawn, uploaded or found in a stored scenario). Each problem has a code
(stable, translated by the pages), an English sentence and, where there is one, the fix the
user can apply (swap the axes, choose the coordinate system, simplify).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from numpy.typing import NDArray

from geo.config import MAX_VERTICES_PER_GEOMETRY
from geo.tables import BEIJING_BBOX

ProblemCode = Literal["missing", "not_polygon", "non_finite", "empty", "too_many_vertices",
                      "swapped_axes", "projected", "outside_beijing"]
Fix = Literal["swap_axes", "choose_datum", "simplify"]

PROBLEM_CODES: tuple[str, ...] = ("missing", "not_polygon", "non_finite", "empty", "too_many_vertices",
                                  "swapped_axes", "projected", "outside_beijing")
FIXES: dict[str, Fix | None] = {
    "missing": None, "not_polygon": None, "non_finite": None, "empty": None,
    "too_many_vertices": "simplify", "swapped_axes": "swap_axes", "projected": "choose_datum",
    "outside_beijing": "choose_datum",
}
_MESSAGES: dict[str, str] = {
    "missing": "it has no geometry",
    "not_polygon": "it is a {kind}, not a polygon: parcels must be polygons (draw them with the polygon"
                   " or rectangle tool)",
    "non_finite": "its coordinates contain NaN or Infinity: fix the coordinates in the source file",
    "empty": "its geometry is empty",
    "too_many_vertices": "it has {vertices:,} vertices, over the limit of {limit:,} per parcel: simplify it"
                         " (e.g. QGIS Simplify, 1 m tolerance) and upload it again",
    "swapped_axes": "its coordinates are (latitude, longitude) instead of (longitude, latitude): the axes are"
                    " swapped ({x:.4f}, {y:.4f}); swap them back",
    "projected": "its coordinates look like metres ({x:,.0f}, {y:,.0f}), not degrees: choose the file's"
                 " coordinate system (e.g. CGCS2000 3° Gauss-Krüger)",
    "outside_beijing": "it lies outside Beijing (at {x:.4f}, {y:.4f}): check the coordinate system"
                       " (GCJ-02, BD-09?) and the order of longitude and latitude",
}
DEFAULT_MAX_VERTICES = MAX_VERTICES_PER_GEOMETRY


@dataclass(frozen=True)
class GeometryProblem:
    """One geometry's problem: ``code`` (see PROBLEM_CODES), an English ``message``, the ``fix``."""

    code: str
    message: str
    fix: Fix | None


def _inside(minx: NDArray[np.float64], miny: NDArray[np.float64], maxx: NDArray[np.float64],
            maxy: NDArray[np.float64]) -> NDArray[np.bool_]:
    west, south, east, north = BEIJING_BBOX
    return (minx >= west) & (maxx <= east) & (miny >= south) & (maxy <= north)


def diagnose(geometries: object, *, polygons_only: bool = False, beijing: bool = True,
             max_vertices: int | None = DEFAULT_MAX_VERTICES) -> list[GeometryProblem | None]:
    """Say, for each longitude/latitude geometry, what stops it from being used (None: nothing).

    Parameters
    ----------
    geometries : array-like of shapely geometries or None
        Coordinates meant as WGS84 longitude/latitude (already converted from the file's datum).
    polygons_only : bool
        Refuse points and lines (planner parcels).
    beijing : bool
        Refuse geometries that do not lie inside Beijing's bounding box.
    max_vertices : int, optional
        Refuse geometries with more vertices than this.

    Returns
    -------
    list
        A :class:`GeometryProblem` or None per geometry, in order. Checks run in the order of the
        codes in ``PROBLEM_CODES``; the first that applies is reported.
    """
    geoms = np.asarray(geometries, dtype=object).reshape(-1)
    n = len(geoms)
    codes = np.full(n, None, dtype=object)
    details: list[dict[str, object]] = [{} for _ in range(n)]
    missing = np.array([g is None for g in geoms], dtype=bool)
    codes[missing] = "missing"
    present = ~missing
    safe = np.where(present, geoms, shapely.Point())
    kinds = shapely.get_type_id(safe)
    if polygons_only:
        wrong = present & ~np.isin(kinds, [3, 6]) & (codes == None)  # noqa: E711
        for position in np.flatnonzero(wrong):
            codes[position] = "not_polygon"
            details[position] = {"kind": safe[position].geom_type}
    coords, owner = shapely.get_coordinates(safe, return_index=True)
    bad_coords = np.bincount(owner, weights=(~np.isfinite(coords).all(axis=1)).astype(float), minlength=n) > 0
    codes[(codes == None) & bad_coords] = "non_finite"  # noqa: E711
    codes[(codes == None) & shapely.is_empty(safe)] = "empty"  # noqa: E711
    if max_vertices is not None:
        vertices = shapely.get_num_coordinates(safe)
        over = (codes == None) & (vertices > max_vertices)  # noqa: E711
        for position in np.flatnonzero(over):
            codes[position] = "too_many_vertices"
            details[position] = {"vertices": int(vertices[position]), "limit": max_vertices}
    open_ = codes == None  # noqa: E711
    if open_.any():
        bounds = np.full((n, 4), np.nan)
        bounds[open_] = shapely.bounds(safe[open_])
        minx, miny, maxx, maxy = bounds.T
        with np.errstate(invalid="ignore"):
            in_range = (minx >= -180) & (maxx <= 180) & (miny >= -90) & (maxy <= 90)
            swapped = _inside(miny, minx, maxy, maxx)
            inside = _inside(minx, miny, maxx, maxy)
        centre_x, centre_y = (minx + maxx) / 2, (miny + maxy) / 2
        for code, mask in (("swapped_axes", open_ & swapped & ~inside),
                           ("projected", open_ & ~in_range & ~swapped),
                           ("outside_beijing", open_ & in_range & ~inside & ~swapped if beijing else
                            np.zeros(n, dtype=bool))):
            for position in np.flatnonzero(mask & (codes == None)):  # noqa: E711
                codes[position] = code
                details[position] = {"x": float(centre_x[position]), "y": float(centre_y[position])}
    return [None if code is None else
            GeometryProblem(code, _MESSAGES[code].format(**details[i]), FIXES[code])
            for i, code in enumerate(codes)]


def swap_axes(geometries: object) -> NDArray[np.object_]:
    """The geometries with x and y exchanged (None stays None)."""
    geoms = np.asarray(geometries, dtype=object).reshape(-1)
    out = geoms.copy()
    present = np.array([g is not None for g in geoms], dtype=bool)
    if present.any():
        out[present] = shapely.transform(geoms[present], lambda xy: xy[:, ::-1])
    return out
