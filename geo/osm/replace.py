"""Planning the replacement of a park's outline by OpenStreetMap areas: ``plan_replacement``
builds a ``ReplacementPlan``, which *is* the diff (area before and after, overlap, OSM ids,
versions, dates). Nothing is recorded here: ``geo.osm_store.ParkGeometryStore.apply(plan)`` does
that (and re-exports both names)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import OSMMatchError
from geo.measure import area, repair_geometries
from geo.osm.match import park_row
from geo.osm.read import OSM_ATTRIBUTION


@dataclass(frozen=True)
class ReplacementPlan:
    """The diff of replacing one park's outline by OSM geometry; apply it with the store."""

    park_id: str
    park_name_zh: str | None
    park_name_en: str | None
    osm_ids: tuple[str, ...]
    osm_versions: tuple[int | None, ...]
    osm_timestamps: tuple[str | None, ...]
    source: str | None
    old_geometry: shapely.Geometry
    new_geometry: shapely.Geometry
    old_tier: str | None
    old_note: str | None
    area_before_m2: float
    area_after_m2: float
    overlap_m2: float

    @property
    def osm_date(self) -> str | None:
        """The date (YYYY-MM-DD) of the newest OSM edit among the features, if known."""
        stamps = [s for s in self.osm_timestamps if s]
        return max(stamps)[:10] if stamps else None

    @property
    def area_before_km2(self) -> float:
        return self.area_before_m2 / 1e6

    @property
    def area_after_km2(self) -> float:
        return self.area_after_m2 / 1e6

    @property
    def overlap_iou(self) -> float:
        union = self.area_before_m2 + self.area_after_m2 - self.overlap_m2
        return self.overlap_m2 / union if union > 0 else 0.0

    @property
    def overlap_of_park(self) -> float:
        """Share of the current outline that the OSM outline covers."""
        return self.overlap_m2 / self.area_before_m2 if self.area_before_m2 > 0 else 0.0

    @property
    def overlap_of_osm(self) -> float:
        """Share of the OSM outline that lies inside the current outline."""
        return self.overlap_m2 / self.area_after_m2 if self.area_after_m2 > 0 else 0.0

    def describe(self) -> str:
        """The diff in a few lines of plain text (for the command line and logs)."""
        change = ((self.area_after_m2 / self.area_before_m2 - 1.0) * 100.0
                  if self.area_before_m2 > 0 else float("nan"))
        versions = ", ".join(f"{i} v{v}" if v is not None else i
                             for i, v in zip(self.osm_ids, self.osm_versions, strict=True))
        placed = self.old_geometry is not None and not shapely.is_empty(self.old_geometry)
        now = (f"{self.old_tier or '?'}, {self.area_before_km2:.3f} km2" if placed
               else "not on the map (no outline yet)")
        return "\n".join([
            f"park {self.park_id} ({self.park_name_en or ''} / {self.park_name_zh or ''})",
            f"  outline now : {now}",
            f"  OSM outline : {versions}, {self.area_after_km2:.3f} km2"
            + (f" ({change:+.1f} %)" if placed and change == change else "")
            + (f", edited {self.osm_date}" if self.osm_date else ""),
            f"  overlap     : {self.overlap_m2 / 1e6:.3f} km2 = {self.overlap_of_park:.0%} of the "
            f"current outline, {self.overlap_of_osm:.0%} of the OSM outline (IoU {self.overlap_iou:.2f})",
            f"  licence     : {OSM_ATTRIBUTION}",
        ])



def plan_replacement(parks: gpd.GeoDataFrame, features: gpd.GeoDataFrame, *, park_id: str,
                     osm_ids: Sequence[str]) -> ReplacementPlan:
    """Plan replacing a park's outline by one or more OSM areas (their union).

    Parameters
    ----------
    parks : GeoDataFrame
        The parks as shown (snapshot parks, possibly with overrides applied), EPSG:4326.
    features : GeoDataFrame
        OSM features from ``geo.osm.read_osm_file`` or ``fetch_osm``, or candidates from
        ``geo.osm.match_parks`` (any frame with ``osm_id`` and geometry).
    park_id : str
    osm_ids : sequence of str
        ``"way/123"`` or ``"relation/45"``; several are merged into one outline.

    Raises
    ------
    OSMMatchError
        For an unknown park, an OSM id not in ``features``, or a feature that is not an area.
    """
    row = park_row(parks, park_id)
    ids = list(dict.fromkeys(str(i) for i in osm_ids))
    if not ids:
        raise OSMMatchError(f"name at least one OSM area for park {park_id!r}, e.g. osm_ids=['way/123']")
    chosen = features.drop_duplicates("osm_id").set_index("osm_id", drop=False)
    missing = [i for i in ids if i not in chosen.index]
    if missing:
        raise OSMMatchError(f"OSM id(s) {', '.join(missing)} not among the {len(chosen)} features read: "
                            "use ids shown by 'python -m geo osm match', like 'way/123'")
    picked = chosen.loc[ids]
    geoms = np.asarray(picked.geometry.values, dtype=object)
    not_area = [i for i, g in zip(ids, geoms, strict=True)
                if g is None or shapely.get_type_id(g) not in (3, 6) or shapely.is_empty(g)]
    if not_area:
        raise OSMMatchError(f"{', '.join(not_area)} is not an area (a closed way or multipolygon "
                            "relation): only areas can be park boundaries")
    repaired, _ = repair_geometries(geoms)
    new = shapely.union_all(repaired)
    old = repair_geometries(np.array([row.geometry], dtype=object))[0][0]
    overlap = area(shapely.intersection(old, new)) if shapely.intersects(old, new) else 0.0
    versions = tuple(None if pd.isna(v) else int(v) for v in picked.get("osm_version", [None] * len(ids)))
    stamps = tuple(v if isinstance(v, str) else None
                   for v in picked.get("osm_timestamp", [None] * len(ids)))
    return ReplacementPlan(
        park_id=str(park_id), park_name_zh=row.get("name_zh"), park_name_en=row.get("name_en"),
        osm_ids=tuple(ids), osm_versions=versions, osm_timestamps=stamps,
        source=features.attrs.get("source"), old_geometry=old, new_geometry=new,
        old_tier=row.get("geometry_tier"), old_note=row.get("geometry_note"),
        area_before_m2=area(old), area_after_m2=area(new), overlap_m2=overlap)
