"""Placing the snapshot's organisations known only by their park on OpenStreetMap features:
planned, confirmed, reversible (as ``geo.osm_store`` does for park outlines).

47 of the snapshot's organisations are located only by their park (tier ``park``): drawn nowhere
as points, counted on the park's symbol. With an extract, ``organisation_candidates`` ranks the
OSM features that could be each one's site (``geo.locate_osm.OSMLocator``: its Chinese and
English names and its address, inside or near its park). Nothing moves silently:
``plan_placement`` builds an ``OrgPlacementPlan`` (the OSM id, version and date, the evidence and
how far the point moves), and only ``OrgPlacementStore.apply(plan)`` records it.

The store is its own small SQLite file in the data folder (``org_placements.sqlite``, beside the
park outline overrides; every write one transaction, every apply and restore appended to a
history). The snapshot is never touched: ``geo.workspace.assemble`` lays the placements over it
(``apply_placements``): the organisation's point becomes the OSM feature's, its tier ``osm``, its
note names the OSM id and the ODbL attribution. ``restore(org_id)`` puts it back at its park.

Interface (what another store backend must offer): ``apply(plan, *, expected_revision=None,
check_revision=False) -> OrgPlacement``, ``get(org_id)``, ``list()``, ``restore(org_id)``,
``history(org_id=None)`` and ``revision()`` (changes with every apply and restore).
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import storage
from geo.errors import OrgPlacementError
from geo.locate_osm import OSMLocator
from geo.osm.read import OSM_ATTRIBUTION
from geo.projection import geodesic_m

STORE_NAME = "org_placements.sqlite"
PLACEABLE_TIERS = ("park",)

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS placements (
        org_id TEXT PRIMARY KEY,
        revision INTEGER NOT NULL,
        lon REAL NOT NULL,
        lat REAL NOT NULL,
        osm_id TEXT NOT NULL,
        osm_name TEXT,
        osm_version INTEGER,
        osm_timestamp TEXT,
        score REAL,
        evidence TEXT,
        source TEXT,
        attribution TEXT NOT NULL,
        previous_tier TEXT,
        previous_lon REAL,
        previous_lat REAL,
        applied_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS history (
        entry INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id TEXT NOT NULL,
        action TEXT NOT NULL,
        at TEXT NOT NULL,
        osm_id TEXT,
        lon REAL,
        lat REAL,
        detail TEXT
    )
    """,
)


def organisation_candidates(locator: OSMLocator, organisations: gpd.GeoDataFrame, *,
                            org_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """The OSM features that could be the site of each organisation located only by its park.

    Each is looked for by its Chinese and English names and its address, expected in its park
    (the location part of the score) and district.

    Parameters
    ----------
    locator : OSMLocator
        Of the extract, built with the parks as shown.
    organisations : GeoDataFrame
        The snapshot's organisations (``org_id``, ``name_zh``, ``name_en``, ``address_zh``,
        ``park_id``, ``district_id``, ``location_tier``).
    org_ids : sequence of str, optional
        Only these organisations.

    Returns
    -------
    pandas.DataFrame
        One row per (organisation, candidate), best first within each: ``org_id``, ``name_zh``,
        ``name_en``, ``org_park_id``, then ``geo.locate_osm.CANDIDATE_COLUMNS``.
    """
    chosen = organisations[organisations["location_tier"].isin(PLACEABLE_TIERS).to_numpy()]
    if org_ids is not None:
        _known(organisations, org_ids)
        chosen = chosen[chosen["org_id"].isin(list(org_ids)).to_numpy()]
    rows: list[dict[str, object]] = []
    for org in chosen.itertuples(index=False):
        park = org.park_id if isinstance(org.park_id, str) and org.park_id else None
        district = None if pd.isna(org.district_id) else str(org.district_id)
        for candidate in locator.candidates(names=[org.name_zh, org.name_en], address=org.address_zh,
                                            park_id=park, district_id=district):
            rows.append({"org_id": org.org_id, "name_zh": org.name_zh, "name_en": org.name_en,
                         "org_park_id": park, **candidate})
    from geo.locate_osm import CANDIDATE_COLUMNS

    return pd.DataFrame(rows, columns=["org_id", "name_zh", "name_en", "org_park_id", *CANDIDATE_COLUMNS])


def best_organisation_choices(candidates: pd.DataFrame) -> dict[str, str]:
    """The bulk choice: each organisation's best candidate where it is of high confidence and not
    tied with the next (``org_id -> osm_id``), as ``geo.locate_osm.best_choices`` for rows."""
    from geo.locate_osm import TIE_MARGIN

    out = {}
    for org_id, group in candidates.groupby("org_id", sort=False):
        scores = group["score"].tolist()
        if group["confidence"].iloc[0] == "high" and (len(scores) == 1 or scores[0] - scores[1] >= TIE_MARGIN):
            out[str(org_id)] = str(group["osm_id"].iloc[0])
    return out


def _known(organisations: pd.DataFrame, org_ids: Sequence[str]) -> None:
    missing = sorted(set(org_ids) - set(organisations["org_id"]))
    if missing:
        raise OrgPlacementError(f"no organisation {', '.join(map(repr, missing))}: use an org_id of the snapshot,"
                                f" e.g. {', '.join(organisations['org_id'].head(3))}")


@dataclass(frozen=True)
class OrgPlacementPlan:
    """Placing one organisation on an OSM feature: what changes; apply it with the store."""

    org_id: str
    name_zh: str | None
    name_en: str | None
    park_id: str | None
    osm_id: str
    osm_name: str | None
    osm_version: int | None
    osm_timestamp: str | None
    lon: float
    lat: float
    score: float
    evidence: str
    source: str | None
    old_tier: str | None
    old_lon: float
    old_lat: float

    @property
    def moved_m(self) -> float:
        """Metres from the point shown now (the park's anchor) to the OSM feature (geodesic)."""
        if not (np.isfinite(self.old_lon) and np.isfinite(self.old_lat)):
            return float("nan")
        return float(geodesic_m(self.old_lon, self.old_lat, self.lon, self.lat))

    def describe(self) -> str:
        """The change in a few lines of plain text (command line, history)."""
        moved = self.moved_m
        version = f" v{self.osm_version}" if self.osm_version is not None else ""
        date = f", edited {self.osm_timestamp[:10]}" if self.osm_timestamp else ""
        return "\n".join([
            f"organisation {self.org_id} ({self.name_en or ''} / {self.name_zh or ''}), park {self.park_id}",
            f"  now     : {self.old_tier or '?'} (the park's point, not the site)",
            f"  OSM     : {self.osm_id}{version} {self.osm_name or ''}{date} at {self.lon:.6f}, {self.lat:.6f}"
            + (f" ({moved:,.0f} m from the point now)" if moved == moved else ""),
            f"  evidence: {self.evidence} (score {self.score:.2f})",
            f"  licence : {OSM_ATTRIBUTION}",
        ])


def plan_placement(organisations: gpd.GeoDataFrame, candidates: pd.DataFrame, *, org_id: str,
                   osm_id: str, source: str | None = None) -> OrgPlacementPlan:
    """Plan placing ``org_id`` on the candidate ``osm_id`` (from :func:`organisation_candidates`).

    Raises
    ------
    OrgPlacementError
        For an unknown organisation, one with a site of its own, or an OSM id that is not among
        its candidates.
    """
    _known(organisations, [org_id])
    org = organisations[organisations["org_id"] == org_id].iloc[0]
    if org["location_tier"] not in PLACEABLE_TIERS and org["location_tier"] != "osm":
        raise OrgPlacementError(f"organisation {org_id!r} has a site of its own (tier {org['location_tier']!r}):"
                                " only organisations located by their park are placed on OpenStreetMap")
    mine = candidates[(candidates["org_id"] == org_id) & (candidates["osm_id"] == osm_id)]
    if mine.empty:
        offered = candidates.loc[candidates["org_id"] == org_id, "osm_id"].tolist()
        raise OrgPlacementError(f"{osm_id!r} is not a candidate of {org_id!r}: choose one of "
                                f"{', '.join(offered) or '(none: the extract has no feature with its name or address)'}")
    pick = mine.iloc[0]
    geometry = org.geometry
    present = geometry is not None and not shapely.is_empty(geometry)
    version = pick.get("osm_version")
    return OrgPlacementPlan(
        org_id=str(org_id), name_zh=org.get("name_zh"), name_en=org.get("name_en"), park_id=org.get("park_id"),
        osm_id=str(osm_id), osm_name=pick.get("osm_name"),
        osm_version=None if version is None or pd.isna(version) else int(version),
        osm_timestamp=pick.get("osm_timestamp") if isinstance(pick.get("osm_timestamp"), str) else None,
        lon=float(pick["lon"]), lat=float(pick["lat"]), score=float(pick["score"]), evidence=str(pick["evidence"]),
        source=source, old_tier=org.get("location_tier"),
        old_lon=float(shapely.get_x(geometry)) if present else float("nan"),
        old_lat=float(shapely.get_y(geometry)) if present else float("nan"))


@dataclass(frozen=True)
class OrgPlacement:
    """A confirmed placement as stored."""

    org_id: str
    revision: int
    lon: float
    lat: float
    osm_id: str
    osm_name: str | None
    osm_version: int | None
    osm_timestamp: str | None
    score: float | None
    evidence: str | None
    source: str | None
    attribution: str
    previous_tier: str | None
    previous_lon: float | None
    previous_lat: float | None
    applied_at: str

    def note(self) -> str:
        """The organisation's ``location_note`` once placed."""
        version = f" (version {self.osm_version})" if self.osm_version is not None else ""
        date = f", OSM data of {self.osm_timestamp[:10]}" if self.osm_timestamp else ""
        return (f"Placed on the OpenStreetMap feature {self.osm_id}{version} {self.osm_name or ''}{date};"
                f" confirmed {self.applied_at[:10]} ({self.evidence or 'no evidence recorded'}). {self.attribution}."
                f" Before: located only by its park ('python -m geo locate --restore-organisation {self.org_id}'"
                " puts it back).")


def store_path(directory: str | os.PathLike[str] | None = None) -> os.PathLike[str]:
    from geo.config import data_dir

    return data_dir(directory) / STORE_NAME


_COLUMNS = ("org_id, revision, lon, lat, osm_id, osm_name, osm_version, osm_timestamp, score, evidence, source, "
            "attribution, previous_tier, previous_lon, previous_lat, applied_at")


def _placement(row: tuple[Any, ...]) -> OrgPlacement:
    return OrgPlacement(org_id=row[0], revision=int(row[1]), lon=float(row[2]), lat=float(row[3]), osm_id=row[4],
                        osm_name=row[5], osm_version=None if row[6] is None else int(row[6]), osm_timestamp=row[7],
                        score=row[8], evidence=row[9], source=row[10], attribution=row[11], previous_tier=row[12],
                        previous_lon=row[13], previous_lat=row[14], applied_at=row[15])


class OrgPlacementStore:
    """Organisations placed on OpenStreetMap features, in ``<data dir>/org_placements.sqlite``."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.path = store_path(directory)
        with closing(self._connect()) as connection, connection:
            for statement in _SCHEMA:
                connection.execute(statement)

    def _connect(self) -> sqlite3.Connection:
        return storage.connect(self.path)

    def apply(self, plan: OrgPlacementPlan, *, expected_revision: int | None = None,
              check_revision: bool = False) -> OrgPlacement:
        """Record the plan: the organisation is drawn at the OSM feature, tier ``osm``.

        Parameters
        ----------
        plan : OrgPlacementPlan
        expected_revision : int, optional
            With ``check_revision=True``, the revision the caller saw (None: not placed yet); a
            different stored revision is refused.

        Raises
        ------
        OrgPlacementError
            If ``check_revision`` and the stored revision is not ``expected_revision``.
        """
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute("SELECT revision, previous_tier, previous_lon, previous_lat FROM placements"
                                         " WHERE org_id = ?", (plan.org_id,)).fetchone()
                current = None if row is None else int(row[0])
                if check_revision and current != expected_revision:
                    raise OrgPlacementError(
                        f"organisation {plan.org_id!r} was placed meanwhile (revision {current}, you saw"
                        f" {expected_revision}): reload and review its candidates again")
                previous = ((plan.old_tier, _finite(plan.old_lon), _finite(plan.old_lat)) if row is None
                            else (row[1], row[2], row[3]))  # the first placement keeps what it replaced
                revision = 1 if current is None else current + 1
                connection.execute(
                    f"INSERT OR REPLACE INTO placements({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (plan.org_id, revision, plan.lon, plan.lat, plan.osm_id, plan.osm_name, plan.osm_version,
                     plan.osm_timestamp, plan.score, plan.evidence, plan.source, OSM_ATTRIBUTION, *previous, now))
                connection.execute("INSERT INTO history(org_id, action, at, osm_id, lon, lat, detail)"
                                   " VALUES (?,?,?,?,?,?,?)",
                                   (plan.org_id, "apply", now, plan.osm_id, plan.lon, plan.lat, plan.describe()))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        stored = self.get(plan.org_id)
        assert stored is not None
        return stored

    def get(self, org_id: str) -> OrgPlacement | None:
        """The organisation's placement, or None."""
        with closing(self._connect()) as connection:
            row = connection.execute(f"SELECT {_COLUMNS} FROM placements WHERE org_id = ?", (org_id,)).fetchone()
        return None if row is None else _placement(row)

    def list(self) -> list[OrgPlacement]:
        """Every placement, by organisation id."""
        with closing(self._connect()) as connection:
            rows = connection.execute(f"SELECT {_COLUMNS} FROM placements ORDER BY org_id").fetchall()
        return [_placement(row) for row in rows]

    def restore(self, org_id: str) -> OrgPlacement:
        """Remove the organisation's placement (it is located by its park again); return it.

        Raises
        ------
        OrgPlacementError
            If the organisation has no placement.
        """
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute(f"SELECT {_COLUMNS} FROM placements WHERE org_id = ?", (org_id,)).fetchone()
                if row is None:
                    known = [r[0] for r in connection.execute("SELECT org_id FROM placements ORDER BY org_id")]
                    raise OrgPlacementError(
                        f"organisation {org_id!r} is not placed on OpenStreetMap"
                        + (f"; placed: {', '.join(known)}" if known else "; none is"))
                removed = _placement(row)
                connection.execute("DELETE FROM placements WHERE org_id = ?", (org_id,))
                connection.execute("INSERT INTO history(org_id, action, at, osm_id, lon, lat, detail)"
                                   " VALUES (?,?,?,?,?,?,?)",
                                   (org_id, "restore", now, removed.osm_id, removed.previous_lon, removed.previous_lat,
                                    f"back to tier {removed.previous_tier} (was at {removed.osm_id})"))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return removed

    def history(self, org_id: str | None = None) -> pd.DataFrame:
        """Every apply and restore, oldest first: entry, org_id, action, at, osm_id, lon, lat, detail."""
        query = "SELECT entry, org_id, action, at, osm_id, lon, lat, detail FROM history"
        params: tuple[Any, ...] = ()
        if org_id is not None:
            query += " WHERE org_id = ?"
            params = (org_id,)
        with closing(self._connect()) as connection:
            rows = connection.execute(query + " ORDER BY entry", params).fetchall()
        return pd.DataFrame(rows, columns=["entry", "org_id", "action", "at", "osm_id", "lon", "lat", "detail"])

    def revision(self) -> int:
        """A number that changes with every apply and restore (the newest history entry; 0 for none)."""
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT coalesce(max(entry), 0) FROM history").fetchone()
        return int(row[0])


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def apply_placements(organisations: gpd.GeoDataFrame, placements: Sequence[OrgPlacement]) -> gpd.GeoDataFrame:
    """The organisations with the confirmed placements laid over them; the input is not modified.

    A placed organisation that the snapshot still locates only by its park gets the OSM point,
    ``location_tier = "osm"``, a ``location_note`` naming the OSM id, version, date and the ODbL
    attribution, and the columns ``osm_ids`` and ``osm_attribution`` (None elsewhere). One that
    the snapshot now gives a site of its own keeps its site; placements of organisations not in
    the snapshot are ignored.
    """
    by_id = {p.org_id: p for p in placements}
    hit = (organisations["org_id"].isin(list(by_id)) & organisations["location_tier"].isin(PLACEABLE_TIERS)).to_numpy()
    out = organisations.copy()
    out["osm_ids"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    out["osm_attribution"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    if not hit.any():
        return out
    chosen = [by_id[o] for o in out.loc[hit, "org_id"]]
    geoms = np.asarray(out.geometry.values, dtype=object).copy()
    geoms[hit] = shapely.points([p.lon for p in chosen], [p.lat for p in chosen])
    out[out.geometry.name] = gpd.GeoSeries(geoms, index=out.index, crs=out.crs)
    out.loc[hit, "location_tier"] = "osm"
    if "location_note" in out:
        out.loc[hit, "location_note"] = [p.note() for p in chosen]
    out.loc[hit, "osm_ids"] = [p.osm_id for p in chosen]
    out.loc[hit, "osm_attribution"] = [p.attribution for p in chosen]
    return out
