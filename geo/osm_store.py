"""Replacing park outlines with OpenStreetMap boundaries: planned, confirmed, reversible.

Nothing is replaced silently. ``plan_replacement`` (``geo.osm.replace``, re-exported here)
builds a ``ReplacementPlan``, which *is* the diff (area before and after, overlap, OSM ids,
versions, dates); only ``ParkGeometryStore.apply(plan)`` records it. The store is where the planner's scenarios are
(``geo.store_backend.open_backend``): an SQLite file in the data folder (``$PHARMA_MAP_DATA_DIR``)
by default, or the shared PostgreSQL/PostGIS database (``PHARMA_MAP_DATABASE_URL``), where the
outlines are PostGIS geometries (SRID 4326, GIST index) that every app server shares. Every write
is one transaction that waits for the store's other writers, each override keeps the outline it
replaced, and every apply and restore is appended to a history.
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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import storage
from geo.measure import areas
from geo.errors import GeoError, ParkGeometryError
from geo.osm.read import OSM_ATTRIBUTION
from geo.osm.replace import ReplacementPlan, plan_replacement  # noqa: F401  re-exported
from geo.store_backend import Backend, SQLiteBackend, open_backend

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


#: What reading the outline store may raise when its folder or file is unusable: callers that can
#: show the parks as built instead catch these (the pages do, and log them).
READ_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, OSError, GeoError)


def store_path(directory: str | os.PathLike[str] | None = None) -> os.PathLike[str]:
    from geo.config import data_dir

    return data_dir(directory) / STORE_NAME


#: Logical geometry columns -> (SQLite column, PostgreSQL column)
_GEOMETRY_COLUMNS = {"geometry": ("geometry", "geom"), "previous_geometry": ("previous_geometry", "previous_geom"),
                     "replaced_geometry": ("replaced_geometry", "replaced_geom")}
OVERRIDE_FIELDS = ("park_id", "revision", "geometry", "previous_geometry", "previous_tier", "previous_note", "osm_ids",
                   "osm_versions", "osm_timestamps", "osm_date", "source", "attribution", "area_before_m2",
                   "area_after_m2", "applied_at")
HISTORY_FIELDS = ("entry", "park_id", "action", "at", "geometry", "replaced_geometry", "osm_ids", "detail")


def _wkb(geometry: shapely.Geometry | None) -> bytes | None:
    """The stored form of an outline: 2D WKB, little-endian (the same bytes on both backends)."""
    return None if geometry is None else shapely.to_wkb(geometry, output_dimension=2, byte_order=1)


class ParkGeometryStore:
    """Park outline overrides, with their history: ``<data dir>/park_geometry.sqlite`` or the shared
    PostgreSQL database.

    Parameters
    ----------
    directory : path, optional
        The data folder of an SQLite store; given, it wins over the configured database.
    url : str, optional
        ``postgresql://...`` or ``sqlite:///FOLDER``; default: the configured database
        (``PHARMA_MAP_DATABASE_URL``), else SQLite in ``data_dir()``.

    Raises
    ------
    StoreUnavailableError
        If the PostgreSQL database cannot be reached.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None, *, url: str | None = None) -> None:
        self.backend: Backend = open_backend(directory, url=url, filename=STORE_NAME)
        self._pg = not isinstance(self.backend, SQLiteBackend)
        if isinstance(self.backend, SQLiteBackend):
            self.path: Path | str = self.backend.path
            #: What names this store in cache keys: the resolved file, or the database's address.
            self.location = str(Path(self.backend.path).resolve())
            with closing(storage.connect(self.backend.path)) as connection, connection:
                for statement in _SCHEMA:
                    connection.execute(statement)
        else:
            self.path = self.location = self.backend.location
        self._overrides = "park_override" if self._pg else "overrides"
        self._history = "park_override_history" if self._pg else "history"

    @property
    def kind(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.backend.kind

    # ------------------------------------------------------------------ SQL of either backend

    def _column(self, field: str) -> str:
        names = _GEOMETRY_COLUMNS.get(field)
        return field if names is None else names[self._pg]

    def _select(self, fields: Sequence[str]) -> str:
        return ", ".join(f"ST_AsBinary({self._column(f)})" if self._pg and f in _GEOMETRY_COLUMNS else f
                         for f in fields)

    def _insert(self, table: str, fields: Sequence[str], *, upsert_key: str | None = None) -> str:
        columns = ", ".join(self._column(f) for f in fields)
        values = ", ".join("ST_GeomFromWKB(?, 4326)" if self._pg and f in _GEOMETRY_COLUMNS else "?" for f in fields)
        sql = f"INSERT INTO {table}({columns}) VALUES ({values})"
        if upsert_key is not None:
            sql += f" ON CONFLICT ({upsert_key}) DO UPDATE SET " + ", ".join(
                f"{self._column(f)} = excluded.{self._column(f)}" for f in fields if f != upsert_key)
        return sql

    def _log(self, connection: Any, park_id: str, action: str, at: str, geometry: bytes | None,
             replaced: bytes | None, osm_ids: Sequence[str], detail: str) -> None:
        connection.execute(self._insert(self._history, HISTORY_FIELDS[1:]),
                           (park_id, action, at, geometry, replaced, json.dumps(list(osm_ids)), detail))

    # ------------------------------------------------------------------ changes

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
        new = _wkb(plan.new_geometry)
        with self.backend.write(self._overrides) as connection:
            row = connection.execute(
                f"SELECT {self._select(('revision', 'geometry', 'previous_geometry', 'previous_tier', 'previous_note'))}"
                f" FROM {self._overrides} WHERE park_id = ?", (plan.park_id,)).fetchone()
            current = None if row is None else int(row[0])
            if check_revision and current != expected_revision:
                raise ParkGeometryError(
                    f"park {plan.park_id!r} outline changed meanwhile (revision {current}, you saw "
                    f"{expected_revision}): reload and review the diff again")
            if row is None:
                previous = (_wkb(plan.old_geometry), plan.old_tier, plan.old_note)
                replaced = previous[0]
            else:
                previous = (bytes(row[2]), row[3], row[4])
                replaced = bytes(row[1])
            revision = 1 if current is None else current + 1
            connection.execute(
                self._insert(self._overrides, OVERRIDE_FIELDS, upsert_key="park_id"),
                (plan.park_id, revision, new, *previous, json.dumps(plan.osm_ids), json.dumps(plan.osm_versions),
                 json.dumps(plan.osm_timestamps), plan.osm_date, plan.source, OSM_ATTRIBUTION,
                 plan.area_before_m2, plan.area_after_m2, now))
            self._log(connection, plan.park_id, "apply", now, new, replaced, plan.osm_ids, plan.describe())
        stored = self.get(plan.park_id)
        assert stored is not None
        return stored

    def restore(self, park_id: str) -> ParkOverride:
        """Remove the park's override, so its previous outline is shown again; return it.

        Raises
        ------
        ParkGeometryError
            If the park has no override.
        """
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self.backend.write(self._overrides) as connection:
            row = connection.execute(f"SELECT {self._select(OVERRIDE_FIELDS)} FROM {self._overrides}"
                                     " WHERE park_id = ?", (park_id,)).fetchone()
            if row is None:
                known = [r[0] for r in connection.execute(f"SELECT park_id FROM {self._overrides}"
                                                          " ORDER BY park_id").fetchall()]
                raise ParkGeometryError(
                    f"park {park_id!r} has no OpenStreetMap override to restore"
                    + (f"; parks with one: {', '.join(known)}" if known else "; no park has one"))
            removed = _override(row)
            connection.execute(f"DELETE FROM {self._overrides} WHERE park_id = ?", (park_id,))
            self._log(connection, park_id, "restore", now, bytes(row[3]), bytes(row[2]), removed.osm_ids,
                      f"restored the {removed.previous_tier} outline")
        return removed

    # ------------------------------------------------------------------ reading

    def get(self, park_id: str) -> ParkOverride | None:
        """The park's override, or None."""
        with self.backend.read() as connection:
            row = connection.execute(f"SELECT {self._select(OVERRIDE_FIELDS)} FROM {self._overrides}"
                                     " WHERE park_id = ?", (park_id,)).fetchone()
        return None if row is None else _override(row)

    def list(self) -> list[ParkOverride]:
        """Every override, by park id."""
        with self.backend.read() as connection:
            rows = connection.execute(f"SELECT {self._select(OVERRIDE_FIELDS)} FROM {self._overrides}"
                                      " ORDER BY park_id").fetchall()
        return [_override(row) for row in rows]

    def revision(self) -> int:
        """A number that changes whenever an outline is applied or restored: the newest entry of
        the append-only history (0 for none). Cache keys of the parks build on it."""
        with self.backend.read() as connection:
            row = connection.execute(f"SELECT coalesce(max(entry), 0) FROM {self._history}").fetchone()
        return int(row[0])

    def history(self, park_id: str | None = None) -> pd.DataFrame:
        """Every apply and restore, oldest first: entry, park_id, action, at, osm_ids, detail,
        and the geometries (``geometry`` the outline after, ``replaced_geometry`` before)."""
        fields = ("entry", "park_id", "action", "at", "osm_ids", "detail", "geometry", "replaced_geometry")
        query = f"SELECT {self._select(fields)} FROM {self._history}"
        params: tuple[Any, ...] = ()
        if park_id is not None:
            query += " WHERE park_id = ?"
            params = (park_id,)
        with self.backend.read() as connection:
            rows = [tuple(r) for r in connection.execute(query + " ORDER BY entry", params).fetchall()]
        table = pd.DataFrame(rows, columns=list(fields))
        for column in ("geometry", "replaced_geometry"):
            values = np.array([None if v is None else bytes(v) for v in table[column]], dtype=object)
            table[column] = shapely.from_wkb(values) if len(table) else []
        table["osm_ids"] = [tuple(json.loads(v)) if v else () for v in table["osm_ids"]]
        return table

    # ------------------------------------------------------------------ moving a workspace

    def transaction(self) -> Any:
        """One write transaction of the store, waiting for its other writers (``geo.store_copy``)."""
        return self.backend.write(self._overrides)

    def rows(self, connection: Any = None) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Every override (``OVERRIDE_FIELDS``) and history entry (``HISTORY_FIELDS``) as stored,
        geometries as 2D little-endian WKB, in key order (``geo.store_copy``); read on
        ``connection`` (one of ``backend.write``) if given."""
        if connection is None:
            with self.backend.read() as reader:
                return self.rows(reader)
        overrides = [tuple(r) for r in connection.execute(
            f"SELECT {self._select(OVERRIDE_FIELDS)} FROM {self._overrides} ORDER BY park_id").fetchall()]
        history = [tuple(r) for r in connection.execute(
            f"SELECT {self._select(HISTORY_FIELDS)} FROM {self._history} ORDER BY entry").fetchall()]

        def canonical(row: tuple[Any, ...], fields: Sequence[str]) -> tuple[Any, ...]:
            return tuple(_wkb(shapely.from_wkb(bytes(v))) if f in _GEOMETRY_COLUMNS and v is not None else v
                         for f, v in zip(fields, row, strict=True))

        return ([canonical(r, OVERRIDE_FIELDS) for r in overrides],
                [canonical(r, HISTORY_FIELDS) for r in history])

    def write_rows(self, connection: Any, *, overrides: Sequence[tuple[Any, ...]], deleted: Sequence[str],
                   history: Sequence[tuple[Any, ...]]) -> None:
        """Inside ``backend.write``: upsert ``overrides``, delete the parks ``deleted``, add the
        ``history`` entries with their numbers (``geo.store_copy``)."""
        for row in overrides:
            connection.execute(self._insert(self._overrides, OVERRIDE_FIELDS, upsert_key="park_id"), row)
        for park_id in deleted:
            connection.execute(f"DELETE FROM {self._overrides} WHERE park_id = ?", (park_id,))
        for row in history:
            connection.execute(self._insert(self._history, HISTORY_FIELDS), row)
        if self._pg and history:  # entries made here later get numbers after the copied ones
            connection.execute("SELECT setval(pg_get_serial_sequence('park_override_history', 'entry'),"
                               " (SELECT coalesce(max(entry), 0) + 1 FROM park_override_history), false)")


_COLUMNS = ", ".join(OVERRIDE_FIELDS)


def _override(row: Sequence[Any]) -> ParkOverride:
    return ParkOverride(
        park_id=row[0], revision=int(row[1]), geometry=shapely.from_wkb(bytes(row[2])),
        previous_geometry=shapely.from_wkb(bytes(row[3])), previous_tier=row[4], previous_note=row[5],
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
