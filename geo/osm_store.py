"""Replacing park outlines with OpenStreetMap boundaries: planned, confirmed, reversible.

Nothing is replaced silently. ``plan_replacement`` builds a ``ReplacementPlan``, which *is*
the diff (area before and after, overlap, OSM ids, versions, dates); only
``ParkGeometryStore.apply(plan)`` records it. The store is an SQLite file in the data folder
(``$PHARMA_MAP_DATA_DIR``, like the planner's scenarios): every write is one transaction, each
override keeps the outline it replaced, and every apply and restore is appended to a history.
The snapshot in ``data/snapshot`` is never touched: ``apply_overrides(parks)`` returns the
parks with the recorded overrides laid over them (tier ``osm``, a note naming the OSM ids and
date, the ODbL attribution), and ``restore(park_id)`` brings the previous outline back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import storage
from geo.measure import area, areas, repair_geometries
from geo.errors import GeoError, OSMMatchError, ParkGeometryError
from geo.osm.match import park_row
from geo.osm.read import OSM_ATTRIBUTION

if TYPE_CHECKING:
    from geo.snapshot import Snapshot

STORE_NAME = "park_geometry.sqlite"

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS overrides (
        park_id TEXT PRIMARY KEY,
        revision INTEGER NOT NULL,
        geometry BLOB NOT NULL,
        previous_geometry BLOB NOT NULL,
        previous_tier TEXT,
        previous_note TEXT,
        osm_ids TEXT NOT NULL,
        osm_versions TEXT NOT NULL,
        osm_timestamps TEXT NOT NULL,
        osm_date TEXT,
        source TEXT,
        attribution TEXT NOT NULL,
        area_before_m2 REAL,
        area_after_m2 REAL,
        applied_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS history (
        entry INTEGER PRIMARY KEY AUTOINCREMENT,
        park_id TEXT NOT NULL,
        action TEXT NOT NULL,
        at TEXT NOT NULL,
        geometry BLOB,
        replaced_geometry BLOB,
        osm_ids TEXT,
        detail TEXT
    )
    """,
)


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


@dataclass(frozen=True)
class ParkOverride:
    """An applied replacement as stored."""

    park_id: str
    revision: int
    geometry: shapely.Geometry
    previous_geometry: shapely.Geometry
    previous_tier: str | None
    previous_note: str | None
    osm_ids: tuple[str, ...]
    osm_versions: tuple[int | None, ...]
    osm_timestamps: tuple[str | None, ...]
    osm_date: str | None
    source: str | None
    attribution: str
    area_before_m2: float
    area_after_m2: float
    applied_at: str

    def note(self) -> str:
        """The ``geometry_note`` of the overridden park."""
        versions = ", ".join(f"{i} (version {v})" if v is not None else i
                             for i, v in zip(self.osm_ids, self.osm_versions, strict=True))
        date = f", OSM data of {self.osm_date}" if self.osm_date else ""
        before = (f"Places the park, which had no outline ({self.previous_tier}); "
                  f"'python -m geo osm restore --park {self.park_id}' takes it off the map again."
                  if self.previous_geometry is None or shapely.is_empty(self.previous_geometry) else
                  f"Replaces the {self.previous_tier or 'previous'} outline, which "
                  f"'python -m geo osm restore --park {self.park_id}' brings back.")
        return (f"OpenStreetMap boundary: {versions}{date}; applied {self.applied_at[:10]}. "
                f"{self.attribution}. {before}")


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


#: What reading the outline store may raise when its folder or file is unusable: callers that can
#: show the parks as built instead catch these (the pages do, and log them).
READ_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, OSError, GeoError)


def store_path(directory: str | os.PathLike[str] | None = None) -> os.PathLike[str]:
    from geo.config import data_dir

    return data_dir(directory) / STORE_NAME


class ParkGeometryStore:
    """Park outline overrides in ``<data dir>/park_geometry.sqlite``."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.path = store_path(directory)
        with closing(self._connect()) as connection, connection:
            for statement in _SCHEMA:
                connection.execute(statement)

    def _connect(self) -> sqlite3.Connection:
        return storage.connect(self.path)

    def apply(self, plan: ReplacementPlan, *, expected_revision: int | None = None,
              check_revision: bool = False) -> ParkOverride:
        """Record the plan: the park's outline becomes the OSM one (tier ``osm``).

        The outline it replaces is kept. If the park already has an OSM override, the outline
        kept is still the original one (the replaced OSM outline goes to the history).

        Parameters
        ----------
        plan : ReplacementPlan
        expected_revision : int, optional
            With ``check_revision=True``, the revision the caller saw (``None`` for "no
            override yet"); a different stored revision is refused.

        Raises
        ------
        ParkGeometryError
            If ``check_revision`` and the stored revision is not ``expected_revision``.
        """
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute(
                    "SELECT revision, geometry, previous_geometry, previous_tier, previous_note "
                    "FROM overrides WHERE park_id = ?", (plan.park_id,)).fetchone()
                current = None if row is None else int(row[0])
                if check_revision and current != expected_revision:
                    raise ParkGeometryError(
                        f"park {plan.park_id!r} outline changed meanwhile (revision {current}, you saw "
                        f"{expected_revision}): reload and review the diff again")
                if row is None:
                    previous = (shapely.to_wkb(plan.old_geometry), plan.old_tier, plan.old_note)
                    replaced = previous[0]
                else:
                    previous = (row[2], row[3], row[4])
                    replaced = row[1]
                revision = 1 if current is None else current + 1
                connection.execute(
                    "INSERT OR REPLACE INTO overrides(park_id, revision, geometry, previous_geometry, "
                    "previous_tier, previous_note, osm_ids, osm_versions, osm_timestamps, osm_date, "
                    "source, attribution, area_before_m2, area_after_m2, applied_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (plan.park_id, revision, shapely.to_wkb(plan.new_geometry), *previous,
                     json.dumps(plan.osm_ids), json.dumps(plan.osm_versions),
                     json.dumps(plan.osm_timestamps), plan.osm_date, plan.source, OSM_ATTRIBUTION,
                     plan.area_before_m2, plan.area_after_m2, now))
                connection.execute(
                    "INSERT INTO history(park_id, action, at, geometry, replaced_geometry, osm_ids, detail) "
                    "VALUES (?,?,?,?,?,?,?)",
                    (plan.park_id, "apply", now, shapely.to_wkb(plan.new_geometry), replaced,
                     json.dumps(plan.osm_ids), plan.describe()))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        stored = self.get(plan.park_id)
        assert stored is not None
        return stored

    def get(self, park_id: str) -> ParkOverride | None:
        """The park's override, or None."""
        with closing(self._connect()) as connection:
            row = connection.execute(f"SELECT {_COLUMNS} FROM overrides WHERE park_id = ?",
                                     (park_id,)).fetchone()
        return None if row is None else _override(row)

    def list(self) -> list[ParkOverride]:
        """Every override, by park id."""
        with closing(self._connect()) as connection:
            rows = connection.execute(f"SELECT {_COLUMNS} FROM overrides ORDER BY park_id").fetchall()
        return [_override(row) for row in rows]

    def restore(self, park_id: str) -> ParkOverride:
        """Remove the park's override, so its previous outline is shown again; return it.

        Raises
        ------
        ParkGeometryError
            If the park has no override.
        """
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute(f"SELECT {_COLUMNS} FROM overrides WHERE park_id = ?",
                                         (park_id,)).fetchone()
                if row is None:
                    known = [r[0] for r in connection.execute("SELECT park_id FROM overrides")]
                    raise ParkGeometryError(
                        f"park {park_id!r} has no OpenStreetMap override to restore"
                        + (f"; parks with one: {', '.join(known)}" if known else "; no park has one"))
                removed = _override(row)
                connection.execute("DELETE FROM overrides WHERE park_id = ?", (park_id,))
                connection.execute(
                    "INSERT INTO history(park_id, action, at, geometry, replaced_geometry, osm_ids, detail) "
                    "VALUES (?,?,?,?,?,?,?)",
                    (park_id, "restore", now, shapely.to_wkb(removed.previous_geometry),
                     shapely.to_wkb(removed.geometry), json.dumps(removed.osm_ids),
                     f"restored the {removed.previous_tier} outline"))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return removed

    def history(self, park_id: str | None = None) -> pd.DataFrame:
        """Every apply and restore, oldest first: entry, park_id, action, at, osm_ids, detail,
        and the geometries (``geometry`` the outline after, ``replaced_geometry`` before)."""
        query = "SELECT entry, park_id, action, at, osm_ids, detail, geometry, replaced_geometry FROM history"
        params: tuple[Any, ...] = ()
        if park_id is not None:
            query += " WHERE park_id = ?"
            params = (park_id,)
        with closing(self._connect()) as connection:
            rows = connection.execute(query + " ORDER BY entry", params).fetchall()
        table = pd.DataFrame(rows, columns=["entry", "park_id", "action", "at", "osm_ids", "detail",
                                            "geometry", "replaced_geometry"])
        for column in ("geometry", "replaced_geometry"):
            table[column] = shapely.from_wkb(table[column].to_numpy(dtype=object)) if len(table) else []
        table["osm_ids"] = [tuple(json.loads(v)) if v else () for v in table["osm_ids"]]
        return table

    def revision(self) -> int:
        """A number that changes whenever an outline is applied or restored: the newest entry of
        the append-only history (0 for none). Caches of the parks as users see them key on it."""
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT coalesce(max(entry), 0) FROM history").fetchone()
        return int(row[0])


_COLUMNS = ("park_id, revision, geometry, previous_geometry, previous_tier, previous_note, osm_ids, "
            "osm_versions, osm_timestamps, osm_date, source, attribution, area_before_m2, "
            "area_after_m2, applied_at")


def _override(row: tuple[Any, ...]) -> ParkOverride:
    return ParkOverride(
        park_id=row[0], revision=int(row[1]), geometry=shapely.from_wkb(row[2]),
        previous_geometry=shapely.from_wkb(row[3]), previous_tier=row[4], previous_note=row[5],
        osm_ids=tuple(json.loads(row[6])), osm_versions=tuple(json.loads(row[7])),
        osm_timestamps=tuple(json.loads(row[8])), osm_date=row[9], source=row[10],
        attribution=row[11], area_before_m2=float(row[12] or 0.0),
        area_after_m2=float(row[13] or 0.0), applied_at=row[14])


def apply_overrides(parks: gpd.GeoDataFrame, *, store: ParkGeometryStore | None = None,
                    directory: str | os.PathLike[str] | None = None) -> gpd.GeoDataFrame:
    """The parks with the stored OSM outlines laid over them; the input is not modified.

    Overridden rows get the OSM geometry, ``geometry_tier = "osm"``, a ``geometry_note``
    naming the OSM ids, versions and date, ``area_km2`` measured again (geo.measure), and
    the columns ``osm_ids`` ("way/1;relation/2") and ``osm_attribution`` (None elsewhere).
    Overrides of parks not in ``parks`` are ignored.
    """
    store = store if store is not None else ParkGeometryStore(directory)
    out = parks.copy()
    out["osm_ids"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    out["osm_attribution"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    overrides = {o.park_id: o for o in store.list()}
    hit = out["park_id"].isin(list(overrides)).to_numpy()
    if not hit.any():
        return out
    chosen = [overrides[p] for p in out.loc[hit, "park_id"]]
    geoms = np.asarray(out.geometry.values, dtype=object).copy()
    geoms[hit] = [o.geometry for o in chosen]
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
    out.loc[hit, "geometry_tier"] = "osm"
    out.loc[hit, "geometry_note"] = [o.note() for o in chosen]
    out.loc[hit, "osm_ids"] = [";".join(o.osm_ids) for o in chosen]
    out.loc[hit, "osm_attribution"] = [o.attribution for o in chosen]
    if "area_km2" in out:
        out.loc[hit, "area_km2"] = areas(out.geometry[hit], unit="km2").to_numpy()
    return out


def snapshot_with_overrides(snapshot: Snapshot, *, store: ParkGeometryStore) -> Snapshot:
    """The snapshot as every reader shows it: its parks with the store's confirmed OpenStreetMap
    outlines laid over them (``apply_overrides``); the snapshot itself when nothing is overridden."""
    if not store.list():
        return snapshot
    return dataclasses.replace(snapshot, parks=apply_overrides(snapshot.parks, store=store))
