"""Spatial joins of points to parks, districts and hubs, and the counts built on them.

Points are located with a bounding-box prefilter and ``shapely.contains_xy`` on prepared
polygons: whole-array operations that place a million points in well under a second.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.datums import for_each_chunk
from geo.errors import CRSError
from geo.figures import ENTERPRISE_METRICS
from geo.measure import repair_geometries
from geo.shapes import feature_points
from geo.vocab import split_codes

NOT_FOUND = -1
# Points are located in chunks of this many (see geo.datums.for_each_chunk).
JOIN_CHUNK_POINTS = 262_144


def locate(x: ArrayLike, y: ArrayLike, polygons: ArrayLike) -> NDArray[np.intp]:
    """Return, for each point, the position of the first polygon containing it, else -1.

    Parameters
    ----------
    x, y : array_like
        Point coordinates, in the polygons' coordinate system.
    polygons : array_like of shapely geometries
        Polygons to search; invalid ones are repaired first, none is modified in place.

    Returns
    -------
    numpy.ndarray of int
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    polygons = np.asarray(polygons, dtype=object).copy()
    result = np.full(x.shape, NOT_FOUND, dtype=np.intp)
    # Only the polygons whose extent holds a point are repaired and prepared: a few points (a
    # parcel just drawn) need not pay for checking and indexing every district's boundary.
    bounds = shapely.bounds(polygons)
    held = _extent_holds_points(bounds, x, y)
    polygons[held], _ = repair_geometries(polygons[held])
    bounds[held] = shapely.bounds(polygons[held])
    drawn = [position for position in np.flatnonzero(held).tolist()
             if polygons[position] is not None and not shapely.is_empty(polygons[position])]
    shapely.prepare(polygons[drawn])
    flat_x, flat_y, flat_result = x.reshape(-1), y.reshape(-1), result.reshape(-1)

    def locate_part(part: slice) -> None:
        # Each chunk's masks are small and of a fixed size, whatever the number of points.
        part_x, part_y, part_result = flat_x[part], flat_y[part], flat_result[part]
        for position in drawn:
            min_x, min_y, max_x, max_y = bounds[position]
            candidates = np.flatnonzero((part_result == NOT_FOUND) & (part_x >= min_x) & (part_x <= max_x)
                                        & (part_y >= min_y) & (part_y <= max_y))
            if candidates.size == 0:
                continue
            inside = shapely.contains_xy(polygons[position], part_x[candidates], part_y[candidates])
            part_result[candidates[inside]] = position

    # One thread: GEOS builds a prepared polygon's index lazily, on its first query, and two
    # threads querying one polygon corrupted the heap.
    for_each_chunk(flat_x.size, locate_part, chunk=JOIN_CHUNK_POINTS, parallel=False)
    return result


def _extent_holds_points(bounds: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.bool_]:
    """For each polygon's bounds (NaN: no polygon), whether any point lies within them."""
    held = np.zeros(len(bounds), dtype=bool)
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return held
    if finite.sum() > 4096:  # many points: the points' extent is a good enough filter
        x_min, x_max, y_min, y_max = x[finite].min(), x[finite].max(), y[finite].min(), y[finite].max()
        return ((bounds[:, 0] <= x_max) & (bounds[:, 2] >= x_min) & (bounds[:, 1] <= y_max)
                & (bounds[:, 3] >= y_min))
    px, py = x[finite].reshape(-1), y[finite].reshape(-1)
    for position, (min_x, min_y, max_x, max_y) in enumerate(bounds.tolist()):
        held[position] = bool(np.any((px >= min_x) & (px <= max_x) & (py >= min_y) & (py <= max_y)))
    return held


def _lookup(ids: pd.Series, positions: NDArray[np.intp]) -> NDArray[np.object_]:
    values = np.asarray(ids, dtype=object)
    out = np.full(positions.shape, None, dtype=object)
    found = positions != NOT_FOUND
    out[found] = values[positions[found]]
    return out


def _xy(points: gpd.GeoDataFrame | gpd.GeoSeries) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    geometry = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geometry.crs is not None and not geometry.crs.equals("EPSG:4326"):
        raise CRSError(
            f"points are in {geometry.crs.to_string()!r}; the snapshot is in EPSG:4326:"
            " reproject them with .to_crs(4326) first"
        )
    return feature_points(geometry)  # non-point features: a point guaranteed to lie on them


def assign_areas(points: gpd.GeoDataFrame, *, parks: gpd.GeoDataFrame,
                 districts: gpd.GeoDataFrame, hubs: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the park, district and hub in which each point falls.

    A point inside a park polygon belongs to that park's hub (the BDA is its own hub although
    it lies inside Daxing and Tongzhou); other points belong to the hub of their district.

    Returns
    -------
    pandas.DataFrame
        Columns ``park_id_joined``, ``district_id_joined`` and ``hub_id_joined`` (None where
        the point is outside every park, district or hub), indexed like ``points``.
    """
    x, y = _xy(points)
    park_pos = locate(x, y, parks.geometry.values)
    district_pos = locate(x, y, districts.geometry.values)
    if isinstance(points, pd.DataFrame) and {"location_tier", "located_park_id", "located_district_id"} <= set(points):
        _placed_by_address(points, parks, districts, park_pos, district_pos)
    park_ids = _lookup(parks["park_id"], park_pos)
    district_ids = _lookup(districts["district_id"], district_pos)

    # The hub of each district and park position; the extra last entry answers NOT_FOUND (-1).
    district_hub = _district_to_hub(hubs)
    hub_of_district = np.array([district_hub.get(d) for d in districts["district_id"]] + [None], dtype=object)
    park_hub = dict(zip(parks["park_id"], parks["hub_id"], strict=False))
    hub_of_park = np.array([park_hub.get(p) for p in parks["park_id"]] + [None], dtype=object)
    has_own_hub = np.array([bool(hub) for hub in hub_of_park], dtype=bool)  # else the district's
    hub_ids = hub_of_district[district_pos]
    by_park = has_own_hub[park_pos]
    hub_ids[by_park] = hub_of_park[park_pos[by_park]]
    return pd.DataFrame(
        {"park_id_joined": park_ids, "district_id_joined": district_ids,
         "hub_id_joined": hub_ids},
        index=points.index, dtype=object,
    )


def _placed_by_address(points: pd.DataFrame, parks: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                       park_pos: NDArray[np.intp], district_pos: NDArray[np.intp]) -> None:
    """Rows placed from their address (geo.locate tiers 'park' and 'district') are drawn at an
    anchor, not at their site: they belong to the park and district the address names, whatever
    polygon the anchor falls in (a district's point can lie inside a park's circle)."""
    tier = points["location_tier"].to_numpy(dtype=object)
    by_address = np.flatnonzero((tier == "park") | (tier == "district"))
    if by_address.size == 0:
        return
    park_index = {pid: i for i, pid in enumerate(parks["park_id"])}
    district_index = {str(did): i for i, did in enumerate(districts["district_id"])}
    located_park = points["located_park_id"].to_numpy(dtype=object)[by_address]
    located_district = points["located_district_id"].to_numpy(dtype=object)[by_address]
    park_pos[by_address] = [park_index.get(p, NOT_FOUND) if t == "park" else NOT_FOUND
                            for p, t in zip(located_park, tier[by_address], strict=True)]
    district_pos[by_address] = [district_index.get(str(d), NOT_FOUND) for d in located_district]


def _district_to_hub(hubs: gpd.GeoDataFrame) -> dict[str, str]:
    mapping: dict[str, str] = {}
    by_district = hubs["geometry_from"] == "districts" if "geometry_from" in hubs else True
    chosen = hubs[by_district]
    for hub_id, district_ids in zip(chosen["hub_id"], chosen["district_ids"], strict=False):
        for district_id in split_codes(district_ids):
            mapping.setdefault(district_id, hub_id)
    return mapping


def count_by(points: pd.DataFrame, *, by: str, specialisations: bool = False) -> pd.DataFrame:
    """Count points per value of column ``by``, optionally per specialisation too.

    With ``specialisations=True`` each point counts once for every specialisation it lists
    (column ``specialisations``, ``;``-separated), so the rows do not add up to the total.
    """
    frame = pd.DataFrame({by: points[by].to_numpy()})
    if specialisations:
        frame["specialisation"] = [split_codes(v) for v in points["specialisations"]]
        frame = frame.explode("specialisation").dropna(subset=["specialisation"])
        return (frame.groupby([by, "specialisation"]).size()
                .rename("count").reset_index())
    return frame.groupby(by).size().rename("count").reset_index()


def compare_with_reported(counts: pd.DataFrame, facts: pd.DataFrame, *, subject_column: str,
                          subject_type: str, metric: str | Sequence[str] = ENTERPRISE_METRICS) -> pd.DataFrame:
    """Put mapped counts beside the counts reported in the facts table.

    Every reported figure is kept (a dated series, or sources that disagree); subjects with no
    reported figure keep their mapped count with empty reported columns. ``metric`` may name
    several metrics (by default enterprises, and enterprises and institutions): the ``metric``
    column says what each figure counts.

    Returns
    -------
    pandas.DataFrame
        Columns: subject, mapped, reported, qualifier, as_of, source_id, metric (and unit, if
        the facts have one).
    """
    metrics = [metric] if isinstance(metric, str) else list(metric)
    chosen = facts["metric"].isin(metrics) & (facts["subject_type"] == subject_type)
    columns = ["subject_id", "value", "qualifier", "as_of", "source_id", "metric"]
    reported = facts.loc[chosen, columns + (["unit"] if "unit" in facts else [])]
    left = counts.rename(columns={subject_column: "subject_id", "count": "mapped"})
    merged = left.merge(reported, on="subject_id", how="outer")
    merged["mapped"] = merged["mapped"].fillna(0).astype(int)
    merged = (merged.rename(columns={"value": "reported", "subject_id": "subject"})
              .sort_values(["subject", "as_of"], na_position="last")
              .reset_index(drop=True))
    return merged.astype(object).where(merged.notna(), None)


def place_layer(layer: gpd.GeoDataFrame, *, parks: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                hubs: gpd.GeoDataFrame, category_column: str | None = None) -> dict[str, pd.DataFrame]:
    """Join any layer (points, or lines/polygons at a point on their surface) to parks, districts
    and hubs, and count its features per park, district and hub (and per ``category_column``).

    Returns
    -------
    dict of pandas.DataFrame
        ``placed`` (the layer's attributes with the joined ids) and ``by_park``, ``by_district``,
        ``by_hub``: counts, with a ``category`` column when ``category_column`` is given.
    """
    areas = assign_areas(layer, parks=parks, districts=districts, hubs=hubs)
    placed = pd.DataFrame(layer.drop(columns=layer.geometry.name)).join(areas)
    out = {"placed": placed}
    category = None
    if category_column is not None:  # missing categories count as ""
        category = placed[category_column].to_numpy(dtype=object, na_value=None)
        category[pd.isna(category)] = ""
    for key, column in (("by_park", "park_id_joined"), ("by_district", "district_id_joined"),
                        ("by_hub", "hub_id_joined")):
        ids = areas[column].to_numpy(dtype=object)
        joined = pd.notna(ids)
        columns = {column: ids[joined]}
        if category is not None:
            columns[category_column] = category[joined]
        frame = pd.DataFrame(columns, dtype=object)
        counts = frame.groupby(list(columns), sort=True).size().rename("count").reset_index()
        if category_column is not None:
            counts = counts.rename(columns={category_column: "category"})
        out[key] = counts
    return out
