"""Named planner scenarios (and saved imported layers) in a store safe against crashes and races,
with history, undo and a recoverable delete: an embedded SQLite file in the data folder by
default, or a shared PostgreSQL/PostGIS database when ``PHARMA_MAP_DATABASE_URL`` names one
(``geo.store_backend``; the PostGIS schema, geometry rows and views are in ``geo.store_pg``).

Each change is one transaction that waits for the store's other writers (SQLite: write-ahead
log, ``synchronous=FULL``, ``BEGIN IMMEDIATE``; PostgreSQL: a table lock readers do not wait
for), so a killed process leaves either the old or the new scenario, never half of one. Every scenario carries a version;
a change must name the version it was based on, and a change based on an outdated version is
refused with ``ScenarioConflictError`` instead of silently overwriting another session's work.
Every version is kept in the history (undo brings the previous one back as a new version);
a deleted scenario stays recoverable for ``RETENTION_DAYS`` days.

Names are any Unicode text up to ``MAX_NAME_CHARS`` characters (commas, slashes, quotes and
Chinese included); names are never used as paths.

Why one module: it is one store (``ScenarioStore``) whose every method is one transaction over
the same tables with the same version check (``_Transaction``), and one schema with its
migrations (``_migrate``) that those statements depend on; the backends' differences are
``geo.store_backend`` and ``geo.store_pg``, the packing of parcels ``geo.parcel_table``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import geopandas as gpd

from geo import storage
from geo.config import data_dir  # noqa: F401  re-exported: callers import it from here
from geo.errors import GeoError, ScenarioConflictError, ScenarioError, ScenarioExistsError  # noqa: F401  re-exported
from geo.store_backend import Backend, PostgresBackend, SQLiteBackend, StoreError, open_backend  # noqa: F401
from geo.measure import M2_PER_MU
from geo.parcels import pack_parcels, parcels_from_geojson, unpack_parcels
from geo.parcel_geometry import GeometryMeasures, union_area_m2

MAX_NAME_CHARS = 100
RETENTION_DAYS = 30
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scenario (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'parcels',
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    features INTEGER NOT NULL DEFAULT 0,
    area_m2 REAL,
    deleted_at TEXT,
    content BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS scenario_live_name ON scenario(name) WHERE deleted_at IS NULL;
CREATE TABLE IF NOT EXISTS scenario_history (
    scenario_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    saved_at TEXT NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    change TEXT NOT NULL DEFAULT '',
    content BLOB NOT NULL,
    PRIMARY KEY (scenario_id, version)
);
"""





@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    kind: str
    version: int
    updated_at: str
    parcels: int
    area_m2: float | None = None
    author: str = ""
    created_at: str = ""
    deleted_at: str | None = None
    scenario_id: int = 0

    @property
    def area_mu(self) -> float | None:
        return None if self.area_m2 is None else self.area_m2 / M2_PER_MU


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    saved_at: str
    author: str
    change: str


def check_name(name: object) -> str:
    """A scenario name as stored: trimmed; refused if empty, over the limit or with control characters.

    Raises
    ------
    ScenarioError
        Saying which rule the name breaks.
    """
    cleaned = str(name).strip() if name is not None else ""
    if not cleaned:
        raise ScenarioError("a scenario needs a name: type one")
    if len(cleaned) > MAX_NAME_CHARS:
        raise ScenarioError(f"the scenario name has {len(cleaned)} characters; the limit is {MAX_NAME_CHARS}:"
                            " shorten it")
    bad = next((ch for ch in cleaned if not ch.isprintable()), None)
    if bad is not None:
        raise ScenarioError(f"the scenario name {cleaned[:40]!r} contains the control character {bad!r}:"
                            " remove it")
    return cleaned


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _column_order(document: dict) -> list[str]:
    features = document.get("features") or []
    keys: dict[str, None] = {}
    for feature in features[:1000]:
        keys.update(dict.fromkeys((feature.get("properties") or {}).keys()))
    return list(keys)


def _info(row: sqlite3.Row | tuple) -> ScenarioInfo:
    (scenario_id, name, kind, version, created, updated, author, features, area, deleted) = row
    return ScenarioInfo(name=name, kind=kind, version=int(version), updated_at=updated, parcels=int(features),
                        area_m2=area, author=author or "", created_at=created, deleted_at=deleted,
                        scenario_id=int(scenario_id))


_INFO_COLUMNS = "id, name, kind, version, created_at, updated_at, author, features, area_m2, deleted_at"


class ScenarioStore:
    """Scenarios stored in ``<data dir>/planner.sqlite``, or in the PostgreSQL database ``url``.

    Parameters
    ----------
    directory : path, optional
        The data folder of an SQLite store; given, it wins over the configured database.
    url : str, optional
        ``postgresql://user:password@host:port/db`` or ``sqlite:///FOLDER``; default: the
        configured one (``geo.store_backend.database_url``), else SQLite in ``data_dir()``.

    Raises
    ------
    StoreUnavailableError
        If the PostgreSQL database cannot be reached.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None, *, url: str | None = None) -> None:
        self.backend: Backend = open_backend(directory, url=url, filename="planner.sqlite")
        if isinstance(self.backend, SQLiteBackend):
            self.path: Path | str = self.backend.path
            with closing(storage.connect(self.backend.path)) as connection:
                _migrate(connection)
        else:
            self.path = self.backend.location

    @property
    def kind(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.backend.kind

    def _read(self) -> Any:
        return self.backend.read()

    # ------------------------------------------------------------------ reading

    def list(self) -> list[ScenarioInfo]:
        """Every live scenario and saved layer, the most recently changed first."""
        with self._read() as connection:
            rows = connection.execute(f"SELECT {_INFO_COLUMNS} FROM scenario WHERE deleted_at IS NULL"
                                      " ORDER BY updated_at DESC, name").fetchall()
        return [_info(r) for r in rows]

    def list_scenarios(self) -> list[ScenarioInfo]:
        """Planner scenarios (parcels), without imported layers."""
        return [info for info in self.list() if info.kind != "import"]

    def list_layers(self) -> list[ScenarioInfo]:
        """Saved imported layers."""
        return [info for info in self.list() if info.kind == "import"]

    def list_deleted(self) -> list[ScenarioInfo]:
        """Deleted planner scenarios that can still be restored (younger than RETENTION_DAYS)."""
        self._purge()
        with self._read() as connection:
            rows = connection.execute(f"SELECT {_INFO_COLUMNS} FROM scenario WHERE deleted_at IS NOT NULL"
                                      " AND kind = 'parcels' ORDER BY deleted_at DESC").fetchall()
        return [_info(r) for r in rows]

    def info(self, name: str) -> ScenarioInfo:
        name = check_name(name)
        with self._read() as connection:
            row = connection.execute(f"SELECT {_INFO_COLUMNS} FROM scenario WHERE name = ? AND deleted_at IS NULL",
                                     (name,)).fetchone()
        if row is None:
            raise ScenarioError(f"no scenario named {name!r}")
        return _info(row)

    def find(self, name: str) -> ScenarioInfo | None:
        """The live planner scenario called ``name``, or None (no such scenario, or a saved layer)."""
        try:
            info = self.info(name)
        except ScenarioError:
            return None
        return info if info.kind == "parcels" else None

    def exists(self, name: str) -> bool:
        return self.find(name) is not None

    def load(self, name: str) -> tuple[gpd.GeoDataFrame, int]:
        """The scenario's parcels (every one, problem parcels included) and its version."""
        name = check_name(name)
        with self._read() as connection:
            row = connection.execute("SELECT content, version, kind FROM scenario WHERE name = ?"
                                     " AND deleted_at IS NULL", (name,)).fetchone()
        if row is None or row[2] == "import":
            raise ScenarioError(f"no scenario named {name!r}")
        return unpack_parcels(row[0]), int(row[1])

    def load_version(self, scenario_id: int, version: int) -> gpd.GeoDataFrame:
        """The parcels of one saved version of a scenario (from its history), exactly as saved."""
        with self._read() as connection:
            row = connection.execute("SELECT content FROM scenario_history WHERE scenario_id = ? AND version = ?",
                                     (scenario_id, version)).fetchone()
        if row is None:
            raise ScenarioError(f"version {version} of scenario {scenario_id} is not in the history")
        return unpack_parcels(row[0])

    def history(self, name: str) -> list[HistoryEntry]:
        """Every saved version of a scenario, newest first."""
        scenario_id = self.info(name).scenario_id
        with self._read() as connection:
            rows = connection.execute("SELECT version, saved_at, author, change FROM scenario_history"
                                      " WHERE scenario_id = ? ORDER BY version DESC", (scenario_id,)).fetchall()
        return [HistoryEntry(int(v), s, a, c) for v, s, a, c in rows]

    def load_layer(self, name: str) -> tuple[gpd.GeoDataFrame, int]:
        """An imported layer saved with ``save_layer`` and its version."""
        name = check_name(name)
        with self._read() as connection:
            row = connection.execute("SELECT content, version, kind FROM scenario WHERE name = ?"
                                     " AND deleted_at IS NULL", (name,)).fetchone()
        if row is None or row[2] != "import":
            raise ScenarioError(f"no saved imported layer named {name!r}")
        document = json.loads(row[0] if isinstance(row[0], str) else row[0].decode("utf-8"))
        frame = gpd.GeoDataFrame.from_features(document.get("features", []), crs=4326)
        columns = [c for c in _column_order(document) if c in frame]
        return frame[[*columns, "geometry"]], int(row[1])

    # ------------------------------------------------------------------ writing

    def _transaction(self) -> _Transaction:
        return _Transaction(self.backend)

    def save(self, name: str, parcels: gpd.GeoDataFrame, *, expected_version: int | None,
             kind: str = "parcels", author: str | None = None, change: str = "",
             measured: GeometryMeasures | None = None) -> int:
        """Save atomically and return the new version.

        ``expected_version`` is the version the caller loaded (``None`` for a new scenario).
        ``measured`` is the parcels' outline measurement when the caller made it already
        (``geo.planner.measure_geometries``): the stored union area is taken from it.

        Raises
        ------
        ScenarioExistsError
            A new scenario (``expected_version=None``) under a name that is taken.
        ScenarioConflictError
            If the stored version is not ``expected_version``.
        """
        if kind == "import":
            return self.save_layer(name, parcels, expected_version=expected_version)
        return self._write(name, pack_parcels(parcels), kind="parcels", expected_version=expected_version,
                           features=len(parcels), area_m2=union_area_m2(parcels, measured=measured), author=author,
                           change=change)

    def save_layer(self, name: str, layer: gpd.GeoDataFrame, *, expected_version: int | None) -> int:
        """Save an imported layer (any geometry, any attributes) under a name; same rules as ``save``."""
        frame = layer.to_crs(4326) if layer.crs is not None and layer.crs.to_epsg() != 4326 else layer
        return self._write(name, frame.to_json(na="null", drop_id=True).encode("utf-8"), kind="import",
                           expected_version=expected_version, features=len(frame), area_m2=None, author=None,
                           change="saved layer")

    def create(self, name: str, parcels: gpd.GeoDataFrame, *, author: str = "", unique: bool = False
               ) -> tuple[str, int]:
        """Create a scenario; with ``unique`` a taken name gets " (2)", " (3)"... instead of an error.

        Returns the name used and the version (1).
        """
        base = check_name(name)
        for attempt in range(1, 1000):
            candidate = base if attempt == 1 else f"{base[:MAX_NAME_CHARS - 6]} ({attempt})"
            try:
                return candidate, self.save(candidate, parcels, expected_version=None, author=author,
                                            change="created")
            except ScenarioExistsError:
                if not unique:
                    raise
        raise ScenarioExistsError(f"no free name for {base!r}")

    def append(self, name: str, parcels: gpd.GeoDataFrame, *, author: str = "") -> int:
        """Add parcels to a scenario (created if it does not exist) in one transaction; the added
        parcels are numbered after the scenario's own. Returns the new version."""
        from geo.parcels import add_parcels, empty_parcels

        name = check_name(name)
        with self._transaction() as tx:
            row = tx.live(name)
            if row is not None and row["kind"] != "parcels":
                raise ScenarioExistsError(f"the name {name!r} is already used by a saved imported layer:"
                                          " choose another name")
            current = unpack_parcels(row["content"]) if row is not None else None
            combined = add_parcels(current if current is not None else empty_parcels(), parcels)
            return tx.write(name, pack_parcels(combined), kind="parcels",
                            expected_version=None if row is None else row["version"], features=len(combined),
                            area_m2=union_area_m2(combined), author=author or None,
                            change=f"added {len(parcels)} parcels")

    def _write(self, name: str, content: bytes, *, kind: str, expected_version: int | None, features: int,
               area_m2: float | None, author: str | None, change: str) -> int:
        name = check_name(name)
        with self._transaction() as tx:
            return tx.write(name, content, kind=kind, expected_version=expected_version, features=features,
                            area_m2=area_m2, author=author, change=change)

    def set_author(self, name: str, author: str, *, expected_version: int) -> int:
        """Change the author kept with a scenario (a new version, same parcels)."""
        parcels, version = self.load(name)
        if version != expected_version:
            raise _conflict(name, version, expected_version)
        return self.save(name, parcels, expected_version=expected_version, author=str(author).strip()[:80],
                         change="author")

    def rename(self, old: str, new: str, *, expected_version: int) -> int:
        """Rename a scenario (its history follows it). Returns the new version."""
        old, new = check_name(old), check_name(new)
        with self._transaction() as tx:
            row = tx.expect(old, expected_version)
            if new != old and tx.live(new) is not None:
                raise ScenarioExistsError(f"a scenario named {new!r} already exists: choose another name")
            version = row["version"] + 1
            now = _now()
            tx.connection.execute("UPDATE scenario SET name = ?, version = ?, updated_at = ? WHERE id = ?",
                                  (new, version, now, row["id"]))
            tx.history(row["id"], version, now, row["author"], f"renamed from {old!r}", row["content"])
            return version

    def duplicate(self, name: str, new: str, *, author: str = "") -> tuple[str, int]:
        """A copy of a scenario under a new name (made unique if taken)."""
        parcels, _ = self.load(name)
        return self.create(new, parcels, author=author, unique=True)

    def delete(self, name: str, *, expected_version: int) -> None:
        """Move a scenario to the recoverable deleted list (``restore`` brings it back)."""
        name = check_name(name)
        with self._transaction() as tx:
            row = tx.live(name)
            if row is None or row["version"] != expected_version:
                raise ScenarioConflictError(f"scenario {name!r} changed or is gone since you opened it;"
                                            " nothing was deleted: reload it and try again")
            tx.connection.execute("UPDATE scenario SET deleted_at = ? WHERE id = ?", (_now(), row["id"]))

    def restore(self, name: str, *, new_name: str | None = None) -> tuple[str, int]:
        """Bring back the most recently deleted scenario called ``name`` (under ``new_name`` if
        given). Returns its name and version.

        Raises
        ------
        ScenarioExistsError
            If a live scenario has that name: restore it under another name.
        """
        self._purge()
        name = check_name(name)
        target = check_name(new_name) if new_name else name
        with self._transaction() as tx:
            row = tx.connection.execute(
                "SELECT id, version, author, content FROM scenario WHERE name = ? AND deleted_at IS NOT NULL"
                " AND kind = 'parcels' ORDER BY deleted_at DESC LIMIT 1", (name,)).fetchone()
            if row is None:
                raise ScenarioError(f"no deleted scenario named {name!r} (deleted scenarios are kept"
                                    f" {RETENTION_DAYS} days)")
            if tx.live(target) is not None:
                raise ScenarioExistsError(f"a scenario named {target!r} exists: restore the deleted one under"
                                          " another name")
            scenario_id, version, author, content = row
            version += 1
            now = _now()
            tx.connection.execute("UPDATE scenario SET deleted_at = NULL, name = ?, version = ?, updated_at = ?"
                                  " WHERE id = ?", (target, version, now, scenario_id))
            tx.history(scenario_id, version, now, author, "restored", content)
            tx.publish(scenario_id, "parcels", content)
            return target, version

    def undo(self, name: str, *, expected_version: int) -> int:
        """Bring back the version before the current one, as a new version (so undo is itself a
        change others see). Returns the new version.

        Raises
        ------
        ScenarioError
            If there is nothing to undo.
        """
        name = check_name(name)
        with self._transaction() as tx:
            row = tx.expect(name, expected_version)
            previous = tx.connection.execute(
                "SELECT content, version FROM scenario_history WHERE scenario_id = ? AND version < ?"
                " AND content != ? ORDER BY version DESC LIMIT 1",
                (row["id"], row["version"], row["content"])).fetchone()
            if previous is None:
                raise ScenarioError(f"scenario {name!r} has no earlier version to go back to")
            parcels = unpack_parcels(previous[0])
            return tx.write(name, previous[0], kind="parcels", expected_version=expected_version,
                            features=len(parcels), area_m2=union_area_m2(parcels), author=None,
                            change=f"undo: back to version {previous[1]}")

    def _purge(self) -> None:
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=RETENTION_DAYS)).isoformat(timespec="seconds")
        with self._transaction() as tx:
            ids = [r[0] for r in tx.connection.execute(
                "SELECT id FROM scenario WHERE deleted_at IS NOT NULL AND deleted_at < ?", (cutoff,))]
            for scenario_id in ids:
                tx.connection.execute("DELETE FROM scenario_history WHERE scenario_id = ?", (scenario_id,))
                tx.connection.execute("DELETE FROM scenario WHERE id = ?", (scenario_id,))


def _conflict(name: str, current: int | None, expected: int | None, *, kind: str = "parcels"
              ) -> ScenarioConflictError:
    what = "the imported layer" if kind == "import" else "scenario"
    return ScenarioConflictError(
        f"{what} {name!r} was saved by someone else since you opened it (it is now at version"
        f" {current}, you opened version {expected}): reload it to see that change, then make yours again")


class _Transaction:
    """One write transaction of the backend (it waits for other writers; committed on success,
    rolled back on any error)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._context: Any = None
        self.connection: Any = None

    def __enter__(self) -> _Transaction:
        self._context = self.backend.write("scenario")
        self.connection = self._context.__enter__()
        return self

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> bool | None:
        return self._context.__exit__(kind, value, traceback)

    def publish(self, scenario_id: int, kind: str, content: bytes) -> None:
        """PostgreSQL: the current version as PostGIS rows, in this transaction (SQLite: nothing)."""
        if isinstance(self.backend, PostgresBackend):
            from geo import store_pg

            store_pg.publish(self.connection, scenario_id, kind, bytes(content))

    def live(self, name: str) -> Any:
        return self.connection.execute("SELECT * FROM scenario WHERE name = ? AND deleted_at IS NULL",
                                       (name,)).fetchone()

    def expect(self, name: str, version: int) -> Any:
        """The live row of ``name``, which must be at ``version``.

        Raises
        ------
        ScenarioError
            If there is no such scenario.
        ScenarioConflictError
            If it is at another version.
        """
        row = self.live(name)
        if row is None:
            raise ScenarioError(f"no scenario named {name!r}")
        if row["version"] != version:
            raise _conflict(name, row["version"], version)
        return row

    def history(self, scenario_id: int, version: int, saved_at: str, author: str, change: str,
                content: bytes) -> None:
        self.connection.execute("INSERT INTO scenario_history(scenario_id, version, saved_at, author, change,"
                                " content) VALUES (?,?,?,?,?,?) ON CONFLICT (scenario_id, version) DO UPDATE SET"
                                " saved_at = excluded.saved_at, author = excluded.author, change = excluded.change,"
                                " content = excluded.content",
                                (scenario_id, version, saved_at, author or "", change, content))

    def write(self, name: str, content: bytes, *, kind: str, expected_version: int | None, features: int,
              area_m2: float | None, author: str | None, change: str) -> int:
        row = self.live(name)
        if row is not None and row["kind"] != kind:
            used = "saved imported layer" if row["kind"] == "import" else "planner scenario"
            raise ScenarioExistsError(f"the name {name!r} is already used by a {used}: choose another name")
        if row is None and expected_version is not None:
            raise ScenarioError(f"scenario {name!r} no longer exists (deleted or renamed in another session):"
                                " save your parcels under a new name")
        if row is not None and expected_version is None:
            what = "an imported layer" if kind == "import" else "a scenario"
            raise ScenarioExistsError(f"{what} named {name!r} already exists: open it, or choose another name")
        if row is not None and row["version"] != expected_version:
            raise _conflict(name, row["version"], expected_version, kind=kind)
        now = _now()
        if row is None:
            (new_id,) = self.connection.execute(
                "INSERT INTO scenario(name, kind, version, created_at, updated_at, author, features, area_m2,"
                " content) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
                (name, kind, 1, now, now, author or "", features, area_m2, content)).fetchone()
            scenario_id, version, kept_author = int(new_id), 1, author or ""
        else:
            scenario_id, version = int(row["id"]), int(row["version"]) + 1
            kept_author = row["author"] if author is None else author
            self.connection.execute(
                "UPDATE scenario SET version = ?, updated_at = ?, author = ?, features = ?, area_m2 = ?,"
                " content = ? WHERE id = ?", (version, now, kept_author, features, area_m2, content, scenario_id))
        if kind == "parcels":
            self.history(scenario_id, version, now, kept_author, change, content)
        self.publish(scenario_id, kind, content)
        return version


def _migrate(connection: sqlite3.Connection) -> None:
    """Create the schema, or upgrade a store written by an older version (``PRAGMA user_version``)."""
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    if version >= SCHEMA_VERSION:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        if version < SCHEMA_VERSION:
            for statement in _statements(_SCHEMA):
                connection.execute(statement)
            old = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'scenarios'"
                                     ).fetchone()
            if old is not None:  # version 1: one row per name, no history
                for name, kind, saved_version, updated, text in connection.execute(
                        "SELECT name, kind, version, updated_at, geojson FROM scenarios").fetchall():
                    features = text.count('"Feature"')
                    if kind == "import":
                        area, content = None, text.encode("utf-8")
                    else:
                        parcels = parcels_from_geojson(text)
                        area, content = union_area_m2(parcels), pack_parcels(parcels)
                    cursor = connection.execute(
                        "INSERT INTO scenario(name, kind, version, created_at, updated_at, features, area_m2,"
                        " content) VALUES (?,?,?,?,?,?,?,?)",
                        (name, kind, saved_version, updated, updated, features, area, content))
                    if kind != "import":
                        connection.execute("INSERT INTO scenario_history(scenario_id, version, saved_at, change,"
                                           " content) VALUES (?,?,?,?,?)",
                                           (cursor.lastrowid, saved_version, updated, "migrated", content))
                connection.execute("DROP TABLE scenarios")
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _statements(script: str) -> Iterator[str]:
    for statement in script.split(";"):
        if statement.strip():
            yield statement
