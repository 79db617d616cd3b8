"""Named planner scenarios in an embedded SQLite store, safe against crashes and races.

Each save is one SQLite transaction (write-ahead log, ``synchronous=FULL``), so a killed process
leaves either the old or the new scenario, never half of one. Every scenario carries a version;
a save must name the version it was based on, and a save based on an outdated version is
refused with ``ScenarioConflictError`` instead of silently overwriting another session's work.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from geo import storage
from geo.errors import GeoError
from geo.planner import parcels_from_geojson, parcels_to_geojson
from geo.snapshot import PROJECT_ROOT

DATA_DIR_ENV = "PHARMA_MAP_DATA_DIR"
DEFAULT_DATA_DIR = PROJECT_ROOT / "var"
_NAME = re.compile(r"^[\w\- .()（）·]{1,80}$", re.UNICODE)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'parcels',
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    geojson TEXT NOT NULL
)
"""


class ScenarioError(GeoError):
    """A scenario name that is not allowed, or a scenario that does not exist."""


class ScenarioConflictError(ScenarioError):
    """The scenario changed since it was loaded: another session saved it first."""


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    kind: str
    version: int
    updated_at: str
    parcels: int


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the store: ``explicit``, else $PHARMA_MAP_DATA_DIR, else ./var."""
    chosen = Path(explicit or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    chosen.mkdir(parents=True, exist_ok=True)
    return chosen


def check_name(name: str) -> str:
    cleaned = str(name).strip()
    if not _NAME.match(cleaned):
        raise ScenarioError(
            f"scenario name {name!r} is not allowed: use 1-80 letters, digits, spaces and - _ . ( )")
    return cleaned


def _column_order(document: dict) -> list[str]:
    features = document.get("features") or []
    keys: dict[str, None] = {}
    for feature in features[:1000]:
        keys.update(dict.fromkeys((feature.get("properties") or {}).keys()))
    return list(keys)


class ScenarioStore:
    """Scenarios stored in ``<data dir>/planner.sqlite``."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.path = data_dir(directory) / "planner.sqlite"
        with closing(self._connect()) as connection, connection:
            connection.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return storage.connect(self.path)

    def list(self) -> list[ScenarioInfo]:
        with closing(self._connect()) as connection:
            rows = connection.execute(
                "SELECT name, kind, version, updated_at, geojson FROM scenarios ORDER BY name").fetchall()
        return [ScenarioInfo(name, kind, version, updated, geojson.count('"Feature"'))
                for name, kind, version, updated, geojson in rows]

    def load(self, name: str) -> tuple[gpd.GeoDataFrame, int]:
        """The scenario's parcels and its version (pass the version back to ``save``)."""
        name = check_name(name)
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT geojson, version, kind FROM scenarios WHERE name = ?",
                                     (name,)).fetchone()
        if row is None or row[2] == "import":
            raise ScenarioError(f"no scenario named {name!r}")
        return parcels_from_geojson(row[0]), int(row[1])

    def list_layers(self) -> list[ScenarioInfo]:
        """Saved imported layers."""
        return [info for info in self.list() if info.kind == "import"]

    def list_scenarios(self) -> list[ScenarioInfo]:
        """Planner scenarios (parcels), without imported layers."""
        return [info for info in self.list() if info.kind != "import"]

    def save(self, name: str, parcels: gpd.GeoDataFrame, *, expected_version: int | None,
             kind: str = "parcels") -> int:
        """Save atomically and return the new version.

        ``expected_version`` is the version the caller loaded (``None`` for a new scenario).

        Raises
        ------
        ScenarioConflictError
            If the stored version is not ``expected_version``.
        """
        return self._save_text(name, parcels_to_geojson(parcels), expected_version=expected_version, kind=kind)

    def save_layer(self, name: str, layer: gpd.GeoDataFrame, *, expected_version: int | None) -> int:
        """Save an imported layer (any geometry, any attributes) under a name; same rules as ``save``."""
        frame = layer.to_crs(4326) if layer.crs is not None and layer.crs.to_epsg() != 4326 else layer
        return self._save_text(name, frame.to_json(na="null", drop_id=True), expected_version=expected_version,
                               kind="import")

    def load_layer(self, name: str) -> tuple[gpd.GeoDataFrame, int]:
        """An imported layer saved with ``save_layer`` and its version."""
        name = check_name(name)
        with closing(self._connect()) as connection:
            row = connection.execute("SELECT geojson, version, kind FROM scenarios WHERE name = ?",
                                     (name,)).fetchone()
        if row is None or row[2] != "import":
            raise ScenarioError(f"no saved imported layer named {name!r}")
        document = json.loads(row[0])
        frame = gpd.GeoDataFrame.from_features(document.get("features", []), crs=4326)
        columns = [c for c in _column_order(document) if c in frame]
        return frame[[*columns, "geometry"]], int(row[1])

    def _save_text(self, name: str, text: str, *, expected_version: int | None, kind: str) -> int:
        name = check_name(name)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                row = connection.execute("SELECT version FROM scenarios WHERE name = ?", (name,)).fetchone()
                current = None if row is None else int(row[0])
                stored_kind = connection.execute("SELECT kind FROM scenarios WHERE name = ?", (name,)).fetchone()
                if stored_kind is not None and stored_kind[0] != kind:
                    raise ScenarioError(f"the name {name!r} is already used by a saved"
                                        f" {'imported layer' if stored_kind[0] == 'import' else 'planner scenario'}:"
                                        " choose another name")
                if current != expected_version:
                    raise ScenarioConflictError(
                        f"scenario {name!r} was saved by someone else (version {current}, you "
                        f"loaded {expected_version}): reload it, or save under another name")
                new_version = 1 if current is None else current + 1
                connection.execute(
                    "INSERT INTO scenarios(name, kind, version, updated_at, geojson) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(name) DO UPDATE SET version=excluded.version, "
                    "updated_at=excluded.updated_at, geojson=excluded.geojson, kind=excluded.kind",
                    (name, kind, new_version, now, text))
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return new_version

    def delete(self, name: str, *, expected_version: int) -> None:
        name = check_name(name)
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            cursor = connection.execute("DELETE FROM scenarios WHERE name = ? AND version = ?",
                                        (name, expected_version))
            connection.execute("COMMIT")
        if cursor.rowcount == 0:
            raise ScenarioConflictError(f"scenario {name!r} changed or is gone; nothing was deleted")
