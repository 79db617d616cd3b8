"""Which park a click selects, which parks share its ground, and where a map goes to show one.

The geometry behind the pages' park pickers (the cluster map's click, its chooser of nested
parks, its structure panel's buttons, the Parks page's map) and the map view a link carries
(``?view=lat,lng,zoom``): pages pass coordinates, ids and texts and get ids, WGS84 bounds and
views back. Shares of area are measured in an equal-area plane, never in degrees. Pure: no UI.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.projection import equal_area
from geo.shapes import is_drawn

Bounds = tuple[float, float, float, float]  # (west, south, east, north), WGS84


def _drawn(parks: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    geoms = np.asarray(parks.geometry.values, dtype=object)
    drawn = is_drawn(geoms)
    return np.where(drawn, geoms, shapely.Point()), drawn


def park_at(parks: gpd.GeoDataFrame, lon: float, lat: float) -> str | None:
    """The park whose outline contains (lon, lat) (WGS84); where parks nest, the smallest (the
    one drawn on top), by its ``area_km2``. None if no drawn park contains the point."""
    geoms, drawn = _drawn(parks)
    inside = np.flatnonzero(drawn & shapely.contains_xy(geoms, lon, lat))
    if not len(inside):
        return None
    return str(parks["park_id"].iloc[inside[np.argmin(parks["area_km2"].to_numpy(dtype=float)[inside])]])


def overlapping_parks(parks: gpd.GeoDataFrame, park_id: str, *, share: float = 0.5) -> list[str]:
    """The other parks sharing more than ``share`` of the smaller one's area with ``park_id``
    (nested or overlapping parks, each of which a user may mean), in the order of ``parks``.
    Empty if the park is not drawn."""
    geoms, drawn = _drawn(parks)
    ids = parks["park_id"].to_numpy()
    mine = np.flatnonzero(ids == park_id)
    if not len(mine) or not drawn[mine[0]]:
        return []
    plane = equal_area(shapely.total_bounds(geoms[drawn]))
    metric = plane.to_metres(geoms)
    own = metric[mine[0]]
    shared = shapely.area(shapely.intersection(metric, own))
    smaller = np.minimum(shapely.area(metric), shapely.area(own))
    return [str(p) for p, s, m in zip(ids, shared, smaller, strict=True)
            if p != park_id and m > 0 and s / m > share]


def extent(frame: gpd.GeoDataFrame) -> Bounds:
    """The WGS84 bounds of every geometry of ``frame`` (NaN if none is drawn)."""
    return tuple(float(v) for v in shapely.total_bounds(np.asarray(frame.geometry.values, dtype=object)))


def park_views(parks: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> dict[str, Bounds | None]:
    """Where a map goes to show each park: its outline's bounds, else (not drawn) its district's;
    None for a park whose district is unknown."""
    geoms, drawn = _drawn(parks)
    outline = shapely.bounds(geoms)
    district_bounds = dict(zip(districts["district_id"].astype(str),
                               (tuple(float(v) for v in b)
                                for b in shapely.bounds(np.asarray(districts.geometry.values, dtype=object))),
                               strict=True))
    return {str(pid): tuple(float(v) for v in box) if ok else district_bounds.get(str(district))
            for pid, box, ok, district in zip(parks["park_id"], outline, drawn, parks["district_id"], strict=True)}


def parse_view(text: object) -> tuple[float, float, float] | None:
    """A map view ``"lat,lng,zoom"`` as a page address carries it, if it is a view of the Beijing
    area (else None: a malformed or foreign view is ignored)."""
    if not isinstance(text, str):
        return None
    try:
        lat, lng, zoom = (float(part) for part in text.split(","))
    except ValueError:
        return None
    if not (39.0 <= lat <= 41.5 and 115.0 <= lng <= 118.0 and 5 <= zoom <= 18):
        return None
    return round(lat, 5), round(lng, 5), round(zoom, 2)


def format_view(view: tuple[float, float, float]) -> str:
    """The text ``parse_view`` reads back: ``"lat,lng,zoom"`` to 5 decimals (about a metre)."""
    lat, lng, zoom = view
    return f"{lat:.5f},{lng:.5f},{zoom:g}"
