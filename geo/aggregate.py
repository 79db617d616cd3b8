"""Many points as a few grid cells: what a map shows when a layer has too many points to draw.

Cells are squares in UTM zone 50N (metres; Beijing lies in 114-120 E), sized so that the layer
has at most ``max_cells`` occupied cells, and returned as WGS84 polygons with their counts.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from geo.projection import beijing_utm

CELL_SIZES_M: tuple[int, ...] = (100, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000)


def grid_counts(points: gpd.GeoDataFrame | gpd.GeoSeries, *, max_cells: int = 1000) -> gpd.GeoDataFrame:
    """Count points per square grid cell, choosing the finest cell size with at most ``max_cells`` cells.

    Non-point geometries count at a point on their surface.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``count``, ``cell_m`` and the cell polygon, EPSG:4326, largest counts first.
    """
    geoms = np.asarray(points.geometry.values if isinstance(points, gpd.GeoDataFrame) else points.values,
                       dtype=object)
    geoms = shapely.point_on_surface(geoms[~shapely.is_empty(geoms)])
    plane = beijing_utm()  # a fixed grid: the same cells for every layer (geo.projection)
    x, y = plane.xy(shapely.get_x(geoms), shapely.get_y(geoms))
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    # UTM 50N eastings/northings in Beijing are below 2^22 cells even at 100 m, so one int64 key
    # per cell (column * 2^32 + row) makes the grouping a fast 1-D np.unique.
    for cell in CELL_SIZES_M:
        column = np.floor(x / cell).astype(np.int64)
        row = np.floor(y / cell).astype(np.int64)
        keys, counts = np.unique(column * (1 << 32) + row, return_counts=True)
        if len(keys) <= max_cells:
            break
    cells = np.column_stack([keys >> 32, keys & 0xFFFFFFFF])
    boxes = shapely.box(cells[:, 0] * cell, cells[:, 1] * cell, (cells[:, 0] + 1) * cell, (cells[:, 1] + 1) * cell)
    boxes = plane.to_lonlat(boxes)
    frame = gpd.GeoDataFrame({"count": counts.astype(int), "cell_m": cell}, geometry=boxes, crs=4326)
    return frame.sort_values("count", ascending=False, kind="stable").reset_index(drop=True)
